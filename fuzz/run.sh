#!/usr/bin/env bash
# Builds the fuzz targets and runs each for a while; exits non-zero when any target crashes
# (a panic, an abort, a stack overflow, a timeout or running out of memory).
#
#   fuzz/run.sh [SECONDS] [TARGET...]     SECONDS per target (default 20); all targets if none
#   FUZZ_RUNS=N FUZZ_OUT=DIR fuzz/run.sh  N inputs per target from a fixed seed (FUZZ_SEED, 1):
#                                         with an empty DIR, the same run everywhere (CI)
#
# The toolchain here is stable. cargo-fuzz builds with unstable compiler flags (the coverage
# instrumentation `-Cpasses=sancov-module`, `-Zsanitizer`, `--cfg fuzzing`), so the build runs
# with RUSTC_BOOTSTRAP=1, which lets a stable rustc accept them; nothing else is built that way
# and the workspace itself stays on stable. cargo-fuzz is installed from crates.io into a cache
# outside the clone (MIXPLANE_TOOLS) when missing.
#
# Inputs the fuzzer finds go to a corpus outside the clone ($FUZZ_OUT/corpus/<target>), so the
# committed seeds (fuzz/corpus/<target>) stay as they are and reruns start from what earlier
# runs found; crashing inputs go to $FUZZ_OUT/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-20}"
shift || true

export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-/var/tmp/mixplane-fuzz-target}"
export CARGO_INCREMENTAL=0
export RUSTC_BOOTSTRAP=1
tools="${MIXPLANE_TOOLS:-/var/tmp/mixplane-tools}"
out="${FUZZ_OUT:-$CARGO_TARGET_DIR/fuzz-out}"
export PATH="$tools/bin:$PATH"

if ! command -v cargo-fuzz > /dev/null; then
    echo "== installing cargo-fuzz into $tools"
    CARGO_INSTALL_ROOT="$tools" CARGO_TARGET_DIR="$tools/build" cargo install cargo-fuzz --locked
    rm -rf "$tools/build"
fi

# Each target: the longest input tried, the dictionary, and the committed corpora it reads
# besides its own (targets reading the same documents share seeds rather than copy them).
declare -A max_len=(
    [epcis_json]=16384 [epcis_xml]=16384 [epcis_fast]=16384 [epcis_query]=4096
    [b2mml]=16384 [trace_import]=16384 [plant_document]=65536 [model_events]=16384
    [schedule_problem]=32768 [jobshop_jsplib]=4096 [jobshop_fjs]=4096 [jobshop_bounds]=4096
    [quality_csv]=8192 [quality_request]=16384 [odata_query]=4096
    [isa95_schedule]=16384 [batchml_recipe]=16384
)
declare -A dict=(
    [epcis_json]=epcis [epcis_xml]=epcis [epcis_fast]=epcis [epcis_query]=epcis
    [trace_import]=epcis [b2mml]=b2mml [odata_query]=odata
    [isa95_schedule]=b2mml [batchml_recipe]=batchml
)
declare -A shares=(
    [epcis_fast]="epcis_json"
    [trace_import]="epcis_json epcis_xml b2mml epcis_query model_events"
)

targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    mapfile -t targets < <(cargo fuzz list --fuzz-dir fuzz)
fi

echo "== cargo fuzz build (RUSTC_BOOTSTRAP=1, release with debug assertions, no sanitizer)"
cargo fuzz build --fuzz-dir fuzz -O --debug-assertions --sanitizer none

bin="$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release"
# The stack a parser gets in production: a 2 MiB thread (tokio's workers, std's spawned threads),
# not the 8 MiB main thread, so deep nesting overflows here when it would there.
ulimit -s 2048
failed=()
mkdir -p "$out"
summary="${FUZZ_SUMMARY:-$out/summary.txt}"
printf '%-18s %8s %12s %10s  %s\n' target seconds executions exec/s result > "$summary"
for target in "${targets[@]}"; do
    [[ -n "${max_len[$target]:-}" ]] || { echo "unknown target $target (add it to fuzz/run.sh)"; exit 2; }
    mkdir -p "$out/corpus/$target" "$out/artifacts/$target" fuzz/corpus/"$target"
    corpora=("$out/corpus/$target" "fuzz/corpus/$target")
    for shared in ${shares[$target]:-}; do corpora+=("fuzz/corpus/$shared"); done
    # FUZZ_RUNS=N runs N inputs with a fixed seed instead of SECONDS: with a fresh FUZZ_OUT the
    # run is then the same on every machine, so CI fails on a change, not on the luck of a draw.
    if [[ -n "${FUZZ_RUNS:-}" ]]; then
        budget=("-runs=$FUZZ_RUNS" "-seed=${FUZZ_SEED:-1}")
    else
        budget=("-max_total_time=$seconds")
    fi
    args=(
        "${budget[@]}" "-max_len=${max_len[$target]}" -timeout=20 -rss_limit_mb=1536
        "-artifact_prefix=$out/artifacts/$target/" -print_final_stats=1
    )
    [[ -n "${dict[$target]:-}" ]] && args+=("-dict=fuzz/dict/${dict[$target]}.dict")
    log="$out/$target.log"
    if [[ -n "${FUZZ_RUNS:-}" ]]; then what="$FUZZ_RUNS inputs"; else what="${seconds}s"; fi
    echo "== fuzz $target ($what)"
    started=$(date +%s)
    if "$bin/$target" "${args[@]}" "${corpora[@]}" > "$log" 2>&1; then
        result=ok
    else
        result="CRASH: $(ls -t "$out/artifacts/$target" | head -n1)"
        failed+=("$target")
        grep -E -A25 'panicked|ERROR: libFuzzer|deadly signal|stack overflow' "$log" | head -n 60 || tail -n 40 "$log"
    fi
    elapsed=$(($(date +%s) - started))
    runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
    speed=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
    printf '%-18s %8s %12s %10s  %s\n' "$target" "$elapsed" "$runs" "$speed" "$result" | tee -a "$summary"
done
echo "== fuzz summary ($summary)"
cat "$summary"
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzzing found crashes in: ${failed[*]} (inputs in $out/artifacts/<target>/; reproduce with"
    echo "  $bin/<target> <input>)"
    exit 1
fi
