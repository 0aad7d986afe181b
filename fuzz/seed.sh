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

# ISA-95 schedules (isa95_schedule): the V0401 sample, a V0600 ProductionSchedule and a V0700
# OperationsSchedule of reference-plant products; BatchML (batchml_recipe): a small master
# recipe in the sample's shape (the cough syrup sample is past the 16 KB inputs are cut to).
copy isa95_schedule testdata/samples/b2mml/courbon_v0401_SyncProductionSchedule_PRO-27942.xml
seed isa95_schedule v0600_production_schedule.xml <<'XML'
<?xml version="1.0"?>
<ProductionSchedule xmlns="http://www.mesa.org/xml/B2MML-V0600">
  <ID>S-1</ID>
  <PublishedDate>2026-03-01T00:00:00Z</PublishedDate>
  <ProductionRequest>
    <ID>ERP-1</ID>
    <StartTime>2026-03-02T00:00:00Z</StartTime>
    <EndTime>2026-03-03T00:00:00Z</EndTime>
    <Priority>1</Priority>
    <SegmentRequirement>
      <ID>10</ID>
      <EarliestStartTime>2026-03-02T02:00:00Z</EarliestStartTime>
      <LatestEndTime>2026-03-02T12:00:00Z</LatestEndTime>
      <EquipmentRequirement><EquipmentID>R-101</EquipmentID></EquipmentRequirement>
      <MaterialProducedRequirement>
        <MaterialDefinitionID>RES-EA100</MaterialDefinitionID>
        <Quantity><QuantityString>2000</QuantityString><UnitOfMeasure>KG</UnitOfMeasure></Quantity>
      </MaterialProducedRequirement>
      <SegmentRequirement><ID>20</ID><ProcessSegmentID>Filter</ProcessSegmentID></SegmentRequirement>
    </SegmentRequirement>
  </ProductionRequest>
</ProductionSchedule>
XML
seed isa95_schedule v0700_operations_schedule.xml <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<SyncOperationsSchedule xmlns="http://www.mesa.org/xml/B2MML" releaseID="7.0">
  <ApplicationArea><CreationDateTime>2026-03-01T12:00:00Z</CreationDateTime></ApplicationArea>
  <DataArea>
    <Sync/>
    <OperationsSchedule>
      <ID>plan-3</ID>
      <OperationsRequest>
        <ID>MO-1</ID>
        <StartTime>2026-03-02T06:00:00Z</StartTime>
        <EndTime>2026-03-04T18:00:00Z</EndTime>
        <Priority>3</Priority>
        <OperationsDefinitionID>RCP-AC410</OperationsDefinitionID>
        <SegmentRequirement>
          <ID>MO-1/0</ID>
          <EarliestStartTime>2026-03-02T06:00:00Z</EarliestStartTime>
          <LatestEndTime>2026-03-02T11:00:00Z</LatestEndTime>
          <ProcessSegmentID>React</ProcessSegmentID>
          <Duration>PT18000S</Duration>
          <OperationsDefinitionID>RCP-AC410</OperationsDefinitionID>
          <OperationsSegmentID>RCP-AC410/0</OperationsSegmentID>
          <EquipmentRequirement><ID>MO-1/0/equipment</ID><EquipmentID>R-102</EquipmentID></EquipmentRequirement>
          <MaterialRequirement>
            <ID>MO-1/produced</ID>
            <MaterialDefinitionID>RES-AC410</MaterialDefinitionID>
            <MaterialUse>Produced</MaterialUse>
            <Quantity><QuantityString>1000</QuantityString><DataType>decimal</DataType><UnitOfMeasure>kg</UnitOfMeasure></Quantity>
          </MaterialRequirement>
        </SegmentRequirement>
      </OperationsRequest>
    </OperationsSchedule>
  </DataArea>
</SyncOperationsSchedule>
XML
seed batchml_recipe small_master_recipe.xml <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<BatchInformation xmlns="http://www.wbf.org/xml/BatchML-V02">
  <MasterRecipe>
    <ID>R-1</ID>
    <Header><ProductID>RES-EA100</ProductID><BatchSize><Nominal>1000</Nominal></BatchSize></Header>
    <ProcedureLogic>
      <Link><ID>L1</ID><FromID><FromIDValue>S1</FromIDValue></FromID><ToID><ToIDValue>S2</ToIDValue></ToID><LinkType>ControlLink</LinkType><Depiction>Line</Depiction></Link>
      <Step><ID>S1</ID><RecipeElementID>B</RecipeElementID><RecipeElementVersion/></Step>
      <Step><ID>S2</ID><RecipeElementID>P</RecipeElementID><RecipeElementVersion/></Step>
    </ProcedureLogic>
    <RecipeElement><ID>B</ID><RecipeElementType>Begin</RecipeElementType></RecipeElement>
    <RecipeElement>
      <ID>P</ID><Description>Resin</Description><RecipeElementType>Procedure</RecipeElementType>
      <ProcedureLogic>
        <Link><ID>L2</ID><FromID><FromIDValue>U1s</FromIDValue></FromID><ToID><ToIDValue>T1</ToIDValue></ToID><LinkType>ControlLink</LinkType><Depiction>Line</Depiction></Link>
        <Link><ID>L3</ID><FromID><FromIDValue>T1</FromIDValue></FromID><ToID><ToIDValue>U2s</ToIDValue></ToID><LinkType>ControlLink</LinkType><Depiction>Line</Depiction></Link>
        <Step><ID>U1s</ID><RecipeElementID>U1</RecipeElementID><RecipeElementVersion/></Step>
        <Step><ID>U2s</ID><RecipeElementID>U2</RecipeElementID><RecipeElementVersion/></Step>
        <Transition><ID>T1</ID><Condition>TRUE</Condition></Transition>
      </ProcedureLogic>
      <RecipeElement>
        <ID>U1</ID><Description>React</Description><RecipeElementType>UnitProcedure</RecipeElementType>
        <EquipmentRequirement><ID>E1</ID><Constraint><ID>C1</ID><Condition>Unit Class = WC-RX</Condition></Constraint></EquipmentRequirement>
        <RecipeElement>
          <ID>O1</ID><Description>Charge and heat</Description><RecipeElementType>Operation</RecipeElementType>
          <RecipeElement>
            <ID>Ph1</ID><Description>Heat</Description><RecipeElementType>Phase</RecipeElementType>
            <Parameter><ID>1</ID><Description>HEAT TIME</Description><ParameterType>ProcessParameter</ParameterType><Value><ValueString>90</ValueString><DataInterpretation>Constant</DataInterpretation><DataType>positiveInteger</DataType><UnitOfMeasure>minute</UnitOfMeasure></Value></Parameter>
            <Parameter><ID>2</ID><Description>TEMPERATURE</Description><ParameterType>ProcessParameter</ParameterType><Value><ValueString>85</ValueString><DataInterpretation>Constant</DataInterpretation><DataType>decimal</DataType><UnitOfMeasure>degC</UnitOfMeasure></Value></Parameter>
          </RecipeElement>
        </RecipeElement>
      </RecipeElement>
      <RecipeElement>
        <ID>U2</ID><Description>Filter</Description><RecipeElementType>UnitProcedure</RecipeElementType>
        <EquipmentRequirement><ID>E2</ID><Constraint><ID>C2</ID><Condition>FS-1</Condition></Constraint></EquipmentRequirement>
        <Parameter><ID>1</ID><Description>FILTER TIME</Description><ParameterType>ProcessParameter</ParameterType><Value><ValueString>2</ValueString><DataInterpretation>Constant</DataInterpretation><DataType>decimal</DataType><UnitOfMeasure>hour</UnitOfMeasure></Value></Parameter>
      </RecipeElement>
    </RecipeElement>
  </MasterRecipe>
</BatchInformation>
XML

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
