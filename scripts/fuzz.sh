#!/usr/bin/env bash
# Builds the libFuzzer target cpp/fuzz/fuzz_conv_layer.cpp (clang++,
# -fsanitize=fuzzer,address,undefined) and runs it over the seed corpus
# cpp/fuzz/corpus plus a bounded number of mutated inputs:
#   scripts/fuzz.sh [RUNS]     (default SIMDCONV_FUZZ_RUNS or 20000)
# The default is sized for a CI run of a minute or two on 2 cores. New
# inputs go to a temporary directory, so the committed corpus stays as
# scripts/fuzz_seeds.py wrote it. Exits 0 with a message when clang++ or its
# fuzzer runtime is missing (.ci/run installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-${SIMDCONV_FUZZ_RUNS:-20000}}
jobs=$(nproc 2>/dev/null || echo 2)

if ! command -v clang++ >/dev/null; then
  echo "   (clang++ not found: the fuzz target is skipped; apt-get install clang libclang-rt-dev)"
  exit 0
fi
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' > "$probe/p.cpp"
if ! clang++ -fsanitize=fuzzer,address,undefined "$probe/p.cpp" -o "$probe/p" 2>/dev/null; then
  echo "   (clang++ has no libFuzzer/ASan runtime: the fuzz target is skipped; apt-get install libclang-rt-dev)"
  exit 0
fi

cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSIMDCONV_FUZZ=ON -DSIMDCONV_BUILD_TESTS=OFF >/dev/null
cmake --build build-fuzz -j"$jobs" --target fuzz_conv_layer >/dev/null

mkdir -p "$probe/new"
start=$(date +%s)
status=0
# -seed fixed: the same inputs on every run, so a CI failure reproduces.
SIMDCONV_NUM_THREADS=2 build-fuzz/fuzz_conv_layer -runs="$runs" -seed=1 -max_len=32 -timeout=60 \
  -rss_limit_mb=4096 -print_final_stats=1 "$probe/new" cpp/fuzz/corpus >"$probe/log" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
  tail -n 60 "$probe/log"
else
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$probe/log" || true
fi
echo "   fuzz: $runs runs after the $(ls cpp/fuzz/corpus | wc -l) seeds in $(( $(date +%s) - start )) s (exit $status)"
exit "$status"
