#!/usr/bin/env bash
# Cross-compiles the Node-API addon for Linux arm64 (AArch64) into
# prebuilds/linux-arm64/node.napi.glibc.node (the naming of scripts/prebuild.sh:
# node-gyp-build's "node" + "napi" tags match any Node.js with Node-API >= 8,
# the "glibc" tag keeps it from being picked on musl/Alpine), checks the binary,
# and, when an arm64 Node.js is available under qemu, loads it and runs
# scripts/test-arm64-node.js
# (parity with the committed PyTorch fixtures through the package's JS API).
#
# Needs: g++-aarch64-linux-gnu, cmake, `npm ci` done (node-api-headers,
#        node-addon-api), and for the load test qemu-user-static plus an arm64
#        Node.js sysroot (see below). No libnode is linked: napi_* symbols are
#        resolved by the Node.js process that loads the addon.
# Env:   BUILD_DIR         (default <repo>/build-arm64-node)
#        JOBS              (default nproc)
#        ARM64_MAX_GLIBC   newest glibc symbol version the addon may need (default 2.35)
#        ARM64_NODE        command that runs arm64 node (e.g. .../node-arm64); otherwise
#                          ARM64_ROOT (default /opt/arm64root) with usr/bin/node is run
#                          through qemu-aarch64-static; if neither exists the load
#                          test is skipped (exit 0) unless ARM64_REQUIRE_NODE=1.
#        ARM64_SKIP_NODE=1 skip the load test.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build-arm64-node}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
MAX_GLIBC=${ARM64_MAX_GLIBC:-2.35}
TOOLCHAIN=$ROOT/cmake/aarch64-linux-gnu.toolchain.cmake
OUT_DIR=$ROOT/prebuilds/linux-arm64
OUT=$OUT_DIR/node.napi.glibc.node
NAPI_INC=$ROOT/node_modules/node-api-headers/include

die() { echo "build-arm64-prebuild: $*" >&2; exit 1; }

for tool in cmake aarch64-linux-gnu-g++ aarch64-linux-gnu-strip readelf; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found (apt-get install -y cmake g++-aarch64-linux-gnu binutils)"
done
[[ -f $NAPI_INC/node_api.h ]] || die "$NAPI_INC/node_api.h missing: run 'npm ci' first"
[[ -f $ROOT/node_modules/node-addon-api/napi.h ]] || die "node_modules/node-addon-api missing: run 'npm ci' first"

echo "== configure ($BUILD)"
# --gc-sections drops unreferenced parts of the static libstdc++ (e.g. random_device,
# which would need glibc 2.36's arc4random), keeping the glibc floor low.
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_TOOLCHAIN_FILE="$TOOLCHAIN" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_JS_VERSION=cross -DCMAKE_JS_INC="$NAPI_INC" -DSIMDCONV_BUILD_TESTS=OFF \
  -DCMAKE_SHARED_LINKER_FLAGS="-Wl,--gc-sections -Wl,-z,relro,-z,now"
echo "== build"
cmake --build "$BUILD" -j"$JOBS" --target simdconv_node

mkdir -p "$OUT_DIR"
rm -f "$OUT_DIR"/*.node  # one binary per platform dir: no stale name may win the lookup
aarch64-linux-gnu-strip --strip-unneeded -o "$OUT.tmp" "$BUILD/simdconv.node"
mv -f "$OUT.tmp" "$OUT"

echo "== checks on $OUT"
header=$(LC_ALL=C readelf -h "$OUT")
grep -Eq '^ *Machine: *AArch64' <<<"$header" || die "not an AArch64 binary: $(sed -n 's/^ *Machine: *//p' <<<"$header")"
grep -Eq '^ *Type: *DYN' <<<"$header" || die "not a shared object"
grep -Eq '^ *Class: *ELF64' <<<"$header" || die "not ELF64"
dynsyms=$(LC_ALL=C readelf --dyn-syms -W "$OUT")
# defined (section index is a number, not UND), global, function
awk '$8 == "napi_register_module_v1" && $7 != "UND" && $5 == "GLOBAL" && $4 == "FUNC" {found=1} END {exit !found}' \
  <<<"$dynsyms" || die "napi_register_module_v1 is not exported"
needed=$(LC_ALL=C readelf -d "$OUT" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
for lib in $needed; do
  case $lib in
    libc.so.6|libm.so.6|libpthread.so.0|libdl.so.2|ld-linux-aarch64.so.1) ;;
    *) die "unexpected shared library dependency: $lib (libstdc++/libgcc must be static, libnode never linked)" ;;
  esac
done
glibc_floor=$(grep -oE 'GLIBC_[0-9]+(\.[0-9]+)+' <<<"$dynsyms" | sed 's/GLIBC_//' | sort -uV | tail -n1)
undefined_napi=$(awk '$7 == "UND" && $8 ~ /^(napi_|node_api_)/ {print $8}' <<<"$dynsyms" | sed 's/@.*//' | sort -u | wc -l)
echo "   ELF64 AArch64 shared object, exports napi_register_module_v1"
echo "   needs: ${needed:-nothing}; newest glibc symbol: GLIBC_${glibc_floor:-none}; $undefined_napi napi_* imports (from node)"
if [[ -n $glibc_floor && $(printf '%s\n%s\n' "$glibc_floor" "$MAX_GLIBC" | sort -V | tail -n1) != "$MAX_GLIBC" ]]; then
  die "needs glibc $glibc_floor > ARM64_MAX_GLIBC=$MAX_GLIBC (symbols: $(grep -E "GLIBC_$glibc_floor" <<<"$dynsyms" | awk '{print $8}' | tr '\n' ' '))"
fi
if command -v file >/dev/null 2>&1; then echo "   $(file -b "$OUT")"; fi
echo "   size $(stat -c %s "$OUT") bytes"

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
echo "== load test under qemu: ${node_cmd[*]} scripts/test-arm64-node.js"
"${node_cmd[@]}" "$ROOT/scripts/test-arm64-node.js"
echo "== load test with SIMDCONV_MAX_ISA=scalar"
SIMDCONV_MAX_ISA=scalar "${node_cmd[@]}" "$ROOT/scripts/test-arm64-node.js" --quick
echo "== linux-arm64 prebuild OK: $OUT"
