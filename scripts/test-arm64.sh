#!/usr/bin/env bash
# Cross-compiles the cpp/ core and its CTest suite for Linux arm64 (AArch64) and
# runs the suite under qemu user-mode emulation, twice: with the default ISA
# (NEON, AArch64's baseline) and with SIMDCONV_MAX_ISA=scalar. Checks that the
# NEON kernels were actually exercised. Exits non-zero on any failure.
#
# Needs: apt-get install -y g++-aarch64-linux-gnu qemu-user-static   (and cmake)
# Env:   BUILD_DIR (default <repo>/build-arm64), JOBS (default nproc),
#        CTEST_TIMEOUT (seconds per test, default 1500: emulation is ~10-20x slower).
#
# Emulation checks correctness only; qemu timings say nothing about arm64 speed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build-arm64}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
TIMEOUT=${CTEST_TIMEOUT:-1500}
TOOLCHAIN=$ROOT/cmake/aarch64-linux-gnu.toolchain.cmake

for tool in cmake ctest aarch64-linux-gnu-g++ aarch64-linux-gnu-gcc qemu-aarch64-static; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "test-arm64: '$tool' not found (apt-get install -y cmake g++-aarch64-linux-gnu qemu-user-static)" >&2
    exit 1
  }
done

echo "== configure ($BUILD)"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_TOOLCHAIN_FILE="$TOOLCHAIN" -DCMAKE_BUILD_TYPE=Release \
  -DSIMDCONV_BUILD_TESTS=ON
echo "== build"
cmake --build "$BUILD" -j"$JOBS"

# The binaries must really be AArch64 (not a host build that slipped through).
for exe in "$BUILD"/test_*; do
  [[ -x $exe && -f $exe ]] || continue
  machine=$(LC_ALL=C readelf -h "$exe" | sed -n 's/^ *Machine: *//p')
  if [[ $machine != AArch64 ]]; then
    echo "test-arm64: $exe is built for '$machine', not AArch64" >&2
    exit 1
  fi
done

# Runs the suite with the given environment; the log keeps every test's output.
# $1: label, $2: the ISA active_isa() must report, then VAR=value settings.
run_suite() {
  local label=$1 want_isa=$2; shift 2
  local log=$BUILD/ctest-$label.log
  echo "== ctest under qemu-aarch64 ($label${*:+: $*})"
  (cd "$BUILD" && env "$@" ctest --output-on-failure -V --timeout "$TIMEOUT") 2>&1 | tee "$log"
  # Which kernels ran (test programs print "kernel <name> (...)").
  local kernels
  kernels=$(sed -n 's/^[0-9]*: kernel \([^ ]*\) .*/\1/p' "$log" | sort -u)
  echo "== kernels checked against the reference ($label):"
  sed 's/^/   /' <<<"$kernels"
  if ! grep -q -- '-neon$' <<<"$kernels"; then
    echo "test-arm64: no NEON kernel was tested ($label): is SIMDCONV_HAVE_NEON set?" >&2
    exit 1
  fi
  # Every kernel family with a scalar kernel (f32-gemm-*, f32-direct-*, ...) must
  # have had its NEON variant tested too.
  local family
  for family in $(sed -n 's/^f32-\([a-z0-9]*\)-.*scalar$/\1/p' <<<"$kernels" | sort -u); do
    if ! grep -q -- "^f32-$family-.*neon\$" <<<"$kernels"; then
      echo "test-arm64: kernel family f32-$family has no tested NEON variant ($label)" >&2
      exit 1
    fi
  done
  # test_conv_layer prints the ISA the layers default to ("active ISA: <name>").
  local active
  active=$(sed -n 's/^[0-9]*: active ISA: \([a-z0-9]*\).*/\1/p' "$log" | head -n1)
  echo "== active ISA ($label): ${active:-<not printed>}"
  if [[ -n $active && $active != "$want_isa" ]]; then
    echo "test-arm64: active ISA is '$active', expected '$want_isa' ($label)" >&2
    exit 1
  fi
}

run_suite default neon
run_suite scalar scalar SIMDCONV_MAX_ISA=scalar
echo "== arm64 suite passed under qemu (default ISA and SIMDCONV_MAX_ISA=scalar)"
