#!/usr/bin/env bash
# The whole test suite (`npm test`): builds the addon and the TypeScript, runs
# the cpp/ CTest suite, then jest once per SIMD path this CPU has (capped with
# SIMDCONV_MAX_ISA so every kernel family is checked against the reference),
# and the arm64 suite under qemu when the cross toolchain is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

echo "== build: native addon + TypeScript"
npm run --silent build

echo "== types: a CommonJS and an ESM consumer of the package's types (test/types)"
npx tsc --noEmit -p test/types/tsconfig.json

echo "== cpp/: CTest suite"
cmake -S . -B build-cpp -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-cpp -j"$jobs" >/dev/null
(cd build-cpp && ctest --output-on-failure -j"$jobs")

echo "== cpp/: CTest suite under AddressSanitizer + UBSan"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIMDCONV_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs" >/dev/null
(cd build-asan && ctest --output-on-failure -j"$jobs")

echo "== cpp/: libFuzzer target over extreme layer parameters (clang++, ASan + UBSan, bounded runs)"
scripts/fuzz.sh

isas=$(node -e "console.log(require('./').backendInfo().supportedIsas.join(' '))")
best=$(node -e "console.log(require('./').backendInfo().isa)")
echo "== jest: full suite on the best ISA ($best); supported: $isas"
npx jest --ci "$@"

# The numeric suites again with every lower ISA cap.
for isa in $isas; do
  [ "$isa" = "$best" ] && continue
  echo "== jest: numeric suites with SIMDCONV_MAX_ISA=$isa"
  SIMDCONV_MAX_ISA=$isa npx jest --ci --selectProjects numeric "$@"
done

if [ -x scripts/test-arm64.sh ] && command -v aarch64-linux-gnu-g++ >/dev/null && command -v qemu-aarch64-static >/dev/null; then
  echo "== arm64: cpp/ suite cross-built and run under qemu"
  scripts/test-arm64.sh
  echo "== arm64: the linux-arm64 Node-API prebuild, checked and loaded in an arm64 Node.js under qemu"
  arm64_setup=../shared/tools/arm64-node/setup.sh
  if [ -f "$arm64_setup" ] && [ "$(id -u)" = 0 ]; then
    bash "$arm64_setup" >/dev/null || echo "   (arm64 Node.js sysroot could not be set up: the load test will be skipped)"
  fi
  scripts/build-arm64-prebuild.sh
else
  echo "== arm64: skipped (needs g++-aarch64-linux-gnu and qemu-user-static; .ci/run installs them)"
fi
