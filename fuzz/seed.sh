#!/usr/bin/env bash
# Rebuilds the seed corpora in fuzz/corpus/<target>/ from the repository's samples (testdata/),
# the reference plant and documents the mixplane CLI writes (simulated events, generated and
# reference scheduling problems). The corpora are committed; run this only to reseed (it
# replaces the seed_* files and leaves inputs found by fuzzing alone).
# Needs: jq, and the mixplane binary (MIXPLANE, default: `cargo run -q -p mixplane --`).
set -euo pipefail
cd "$(dirname "$0")/.."

mixplane() {
    if [[ -n "${MIXPLANE:-}" ]]; then "$MIXPLANE" "$@"; else cargo run -q -p mixplane -- "$@"; fi
}

corpus=fuzz/corpus
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

seed() { # seed TARGET NAME < content
    mkdir -p "$corpus/$1"
    cat > "$corpus/$1/seed_$2"
}
copy() { # copy TARGET FILE...
    local target=$1
    shift
    for f in "$@"; do seed "$target" "$(basename "$f")" < "$f"; done
}

rm -f "$corpus"/*/seed_*

# EPCIS and B2MML samples. Targets that read the same documents share these directories
# (fuzz/run.sh: epcis_fast reads epcis_json's; trace_import reads every trace corpus and
# model_events'), so each seed is stored once.
json_samples=(testdata/samples/epcis/*.jsonld)
copy epcis_json "${json_samples[@]}"
copy epcis_xml testdata/samples/epcis/*.xml
copy b2mml testdata/samples/b2mml/*.xml
copy epcis_query testdata/samples/epcis/query_SimpleEventQuery.json
printf '%s' 'EQ_bizStep=shipping&GE_eventTime=2013-01-01T00:00:00Z&LT_eventTime=2014-01-01T00:00:00Z' |
    seed epcis_query pairs_time
printf '%s' 'MATCH_epc=https://id.gs1.org/01/10614141073464/21/2018|urn:epc:id:sgtin:0614141.107346.2018&EQ_disposition=in_progress,active&eventType=ObjectEvent' |
    seed epcis_query pairs_match
printf '%s' 'MATCH_anyEPCClass=urn:epc:class:lgtin:4012345.011111.4444&GE_recordTime=2020-01-01T00:00:00.000Z&EQ_action=ADD&orderBy=eventTime&orderDirection=ASC&perPage=5' |
    seed epcis_query pairs_class

# OData query strings: every option, the literal shapes, lambdas and a nested expand.
printf '%s' '$filter=ModifiedOn%20gt%202026-12-01T08:00:00.000Z%20and%20Id%20ne%203f2b1c4d-0000-4a5b-9c8d-abcdef012345&$orderby=ModifiedOn,Id&$top=100&$count=true' |
    seed odata_query change_feed
printf '%s' "\$filter=Items/any(i:i/Q%20gt%201)%20and%20not%20contains(tolower(Name),'a''b')%20or%20Id%20in%20(1,2)&\$select=Id,Name,Site/City&\$skip=1" |
    seed odata_query lambda_functions
printf '%s' '$expand=Items($filter=Q%20ge%202.5E-3;$select=Q;$orderby=Q%20desc;$top=2;$count=true),*&$filter=Due%20le%202026-12-02%20and%20Name%20eq%20null&$format=json&sap-client=100' |
    seed odata_query expand_nested

# The plant document: the reference plant cut down (fewer orders, no inspection plans, …),
# named `valid` or `invalid` by what `mixplane validate` says (both kinds are useful seeds).
plant=crates/sim/data/reference-plant.json
cuts=(
    '.orders |= .[:3]'
    '.orders |= []'
    '.orders |= [] | .routings |= .[:2] | .inspection_plans |= .[:2]'
    '{schema_version, site, areas: .areas[:1], work_centers: [], units: [], pools: [], certifications: [], families: [], materials: [], routings: [], changeover_matrices: [], calendars: [], inspection_plans: [], orders: []}'
)
n=0
for cut in "${cuts[@]}"; do
    n=$((n + 1))
    jq -c "$cut" "$plant" > "$work/cut.json"
    verdict=invalid
    mixplane validate "$work/cut.json" > /dev/null 2>&1 && verdict=valid
    seed plant_document "reference_cut_${n}_$verdict.json" < "$work/cut.json"
done

# The plant's events: a simulated day of the reference plant, in small batches.
mixplane sim --days 1 --seed 7 --out "$work/events.jsonl" 2> /dev/null
jq -s -c '.' "$work/events.jsonl" > "$work/events.json"
count=$(jq 'length' "$work/events.json")
for at in 0 $((count / 4)) $((count / 2)) $((count - 12)); do
    jq -c --argjson at "$at" '.[$at:$at + 12]' "$work/events.json" | seed model_events "sim_day1_$at.json"
done
for type in $(jq -r '[.[].type] | unique | .[]' "$work/events.json"); do
    jq -c --arg t "$type" '[.[] | select(.type == $t)][0]' "$work/events.json" | seed model_events "one_$type.json"
done

# The native scheduling problem: generated instances using every constraint type, and the
# reference plant's problem over one day.
for ops in 8 20 40; do
    mixplane schedule generate --operations "$ops" --units 4 --seed "$ops" --out "$work/p.json" 2> /dev/null
    jq -c '.' "$work/p.json" | seed schedule_problem "generated_$ops.json"
done
mixplane schedule reference --days 1 --out "$work/r.json" 2> /dev/null
if [[ $(wc -c < "$work/r.json") -lt 65536 ]]; then
    jq -c '.' "$work/r.json" | seed schedule_problem reference_1day.json
fi

# Benchmark formats.
copy jobshop_jsplib testdata/bench/jssp/*.txt
copy jobshop_fjs testdata/bench/fjsp/*.fjs
copy jobshop_bounds testdata/bench/*/bounds.csv

# SPC: the test vectors as requests (their expectations left out), and CSV cases built from
# them (one column of values, with the chart on the option line).
for f in testdata/quality/vectors/*.json; do
    name=$(basename "$f" .json)
    [[ $(wc -c < "$f") -lt 12000 ]] || continue
    jq -c '{chart, params, data}' "$f" | seed quality_request "$name.json"
    chart=$(jq -r '.chart' "$f")
    values=$(jq -r '.data.values // empty | if type == "array" then .[] | if type == "array" then map(tostring) | join(",") else tostring end else empty end' "$f")
    [[ -n "$values" ]] || continue
    width=$(head -n1 <<< "$values" | awk -F, '{print NF}')
    header=$(seq -s, -f 'x%g' 1 "$width")
    subgroup=""
    [[ $width -gt 1 ]] && subgroup=" value=$header"
    { printf '#!chart=%s%s\n%s\n%s\n' "$chart" "$subgroup" "$header" "$values"; } | seed quality_csv "$name.csv"
done
printf '#!chart=p size=n\ndefects,n\n3,50\n5,80\n2,50\n4,100\n6,80\n1,50\n' | seed quality_csv p_sizes.csv
printf '#!chart=xbar_r subgroup=2 phase1=1-3 rules=nelson delimiter=;\nx;y\n1,5;2,1\n1,7;2,3\n1,6;2,2\n1,8;2,0\n' |
    seed quality_csv semicolon.csv
printf 'x,y\n"1,5",2\n"1,7",3\n' | seed quality_csv quoted.csv
printf '#!chart=capability lsl=1 usl=9 noheader\n4\n5\n6\n5\n4\n' | seed quality_csv capability.csv

du -sh "$corpus"
