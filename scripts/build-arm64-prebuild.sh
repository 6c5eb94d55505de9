#!/usr/bin/env bash
# Builds the Linux arm64 (AArch64) Node-API prebuild,
# prebuilds/linux-arm64/node.napi.glibc.node, with scripts/build-linux-prebuild.sh
# (cross g++ 12, linked against a glibc 2.17 sysroot; checked: glibc <= 2.28, no
# GLIBCXX_/CXXABI_, only glibc's libraries and libgcc_s), and, when an arm64
# Node.js is available under qemu, loads it and runs scripts/test-prebuild-node.js
# (parity with the committed PyTorch fixtures through the package's JS API).
#
# Needs: g++-aarch64-linux-gnu, cmake, `npm ci` done, and for the load test
#        qemu-user-static plus an arm64 Node.js sysroot (see below). No libnode
#        is linked: napi_* symbols are resolved by the Node.js process that loads it.
# Env:   BUILD_DIR         (default <repo>/build-prebuild-linux-arm64)
#        JOBS              (default nproc)
#        MAX_GLIBC         newest glibc the addon may need (default 2.28)
#        ARM64_NODE        command that runs arm64 node (e.g. .../node-arm64); otherwise
#                          ARM64_ROOT (default /opt/arm64root) with usr/bin/node is run
#                          through qemu-aarch64-static; if neither exists the load
#                          test is skipped (exit 0) unless ARM64_REQUIRE_NODE=1.
#        ARM64_SKIP_NODE=1 skip the load test.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/prebuilds/linux-arm64/node.napi.glibc.node
die() { echo "build-arm64-prebuild: $*" >&2; exit 1; }

echo "== build and check $OUT"
"$ROOT/scripts/build-linux-prebuild.sh" arm64

# ---- load it in arm64 Node.js under qemu and run a forward through the JS API ----
if [[ -n ${ARM64_SKIP_NODE:-} ]]; then
  echo "== arm64 load test skipped (ARM64_SKIP_NODE set)"
  exit 0
fi
node_cmd=()
if [[ -n ${ARM64_NODE:-} ]]; then
  read -r -a node_cmd <<<"$ARM64_NODE"
else
  arm64_root=${ARM64_ROOT:-/opt/arm64root}
  if [[ -x $arm64_root/usr/bin/node ]] && command -v qemu-aarch64-static >/dev/null 2>&1; then
    node_cmd=(env "QEMU_LD_PREFIX=$arm64_root" qemu-aarch64-static -L "$arm64_root" "$arm64_root/usr/bin/node")
  fi
fi
if [[ ${#node_cmd[@]} -eq 0 ]]; then
  msg="no arm64 Node.js (set ARM64_NODE, or build a sysroot at ${ARM64_ROOT:-/opt/arm64root} with Debian's arm64 nodejs)"
  [[ -n ${ARM64_REQUIRE_NODE:-} ]] && die "$msg"
  echo "== arm64 load test skipped: $msg"
  exit 0
fi
if [[ ! -f $ROOT/dist/index.js ]]; then
  echo "== dist/ missing: npm run build:ts"
  (cd "$ROOT" && npm run --silent build:ts)
fi
echo "== load test under qemu: ${node_cmd[*]} scripts/test-prebuild-node.js"
"${node_cmd[@]}" "$ROOT/scripts/test-prebuild-node.js"
echo "== load test with SIMDCONV_MAX_ISA=scalar"
SIMDCONV_MAX_ISA=scalar "${node_cmd[@]}" "$ROOT/scripts/test-prebuild-node.js" --quick
echo "== linux-arm64 prebuild OK: $OUT"
