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

if [ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] && ! (ldd --version 2>&1 | grep -qi musl); then
  echo "== prebuild linux-x64: linked against glibc 2.17 (scripts/build-linux-prebuild.sh); jest and the CLI load it"
  scripts/build-linux-prebuild.sh x64
  export PREBUILDS_ONLY=1  # node-gyp-build: prebuilds/ only, never build/Release
fi

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

echo "== Bun and Deno: PyTorch parity fixtures, forwardAsync, abort, worker_threads"
# The pinned runtimes (scripts/runtimes/package.json + lock; not simdconv dependencies).
if npm ci --prefix scripts/runtimes --no-audit --no-fund >/dev/null 2>&1; then
  bun=scripts/runtimes/node_modules/@oven/bun-linux-x64/bin/bun
  deno=scripts/runtimes/node_modules/@deno/linux-x64-glibc/deno
  if [ -x "$bun" ]; then "$bun" scripts/test-bun.js
  else echo "   (Bun: the pinned package has no binary for $(uname -s) $(uname -m): skipped)"; fi
  if [ -x "$deno" ]; then DENO_NO_UPDATE_CHECK=1 "$deno" run --allow-read --allow-env --allow-ffi --allow-sys scripts/test-deno.mjs
  else echo "   (Deno: the pinned package has no binary for $(uname -s) $(uname -m): skipped)"; fi
else
  echo "   (skipped: \`npm ci --prefix scripts/runtimes\` could not install the pinned Bun and Deno from the npm registry)"
fi

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

if command -v x86_64-w64-mingw32-g++-posix >/dev/null && { command -v wine64 >/dev/null || [ -x /usr/lib/wine/wine64 ]; }; then
  echo "== win32-x64: the MinGW-w64 prebuild, checked and run in node.exe (Node.js 20 for Windows) under Wine"
  scripts/build-win32-prebuild.sh
  t0=$SECONDS
  scripts/test-win32-prebuild.sh
  echo "== win32-x64: cpp/ suite cross-built with MinGW-w64, run under Wine"
  cmake -S . -B build-win32-cpp -DCMAKE_TOOLCHAIN_FILE=cmake/x86_64-w64-mingw32.toolchain.cmake -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build-win32-cpp -j"$jobs" --target test_reference test_gemm_kernels test_conv_layer test_thread_pool test_cpu_count test_extreme_sizes test_plan test_tune >/dev/null
  (cd build-win32-cpp && WINEPREFIX="$PWD/../build-wine/prefix" WINEDEBUG=-all ctest --output-on-failure)
  echo "   (Wine step: $((SECONDS - t0)) s)"
else
  echo "== win32-x64: skipped (needs g++-mingw-w64-x86-64-posix, binutils-mingw-w64-x86-64 and wine64; .ci/run installs them)"
fi

built=$(for t in linux-x64 linux-arm64 win32-x64; do [ -f prebuilds/$t/*.node ] && printf '%s,' "$t"; done)
if [ -n "$built" ]; then
  echo "== prebuilds: the release check (npm pack's prepack) on those this run made"
  node scripts/check-prebuilds.js --targets "${built%,}"
fi
