#!/usr/bin/env bash
# Builds the Linux Node-API prebuild for x64 or arm64 so that it loads on
# glibc >= 2.18 (RHEL 8, Amazon Linux 2, Debian 10, Ubuntu 18.04 and newer):
#
#   scripts/build-linux-prebuild.sh x64|arm64   -> prebuilds/linux-<arch>/node.napi.glibc.node
#
# Debian's GCC 12 (g++, or aarch64-linux-gnu-g++ for arm64) compiles as usual;
# the addon is linked against a glibc 2.17 sysroot (scripts/toolchains/sysroot.sh)
# with GCC 12's static libstdc++ and the system's libgcc_s (cmake/glibc-sysroot.cmake),
# then checked by scripts/check-prebuilds.js (glibc <= 2.28, no GLIBCXX_/CXXABI_,
# no shared library beyond glibc's and libgcc_s). node-gyp-build's "node" + "napi"
# tags: any Node.js with Node-API >= 8 loads it; "glibc": never picked on musl.
# Needs: cmake, g++ (x64) / g++-aarch64-linux-gnu (arm64), `npm ci` done.
# Env:   BUILD_DIR (default build-prebuild-linux-<arch>), JOBS (default nproc),
#        MAX_GLIBC (default 2.28).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
arch=${1:?usage: build-linux-prebuild.sh x64|arm64}
case $arch in
  x64) triple=x86_64 toolchain=() strip=strip compiler=g++ ;;
  arm64) triple=aarch64 toolchain=(-DCMAKE_TOOLCHAIN_FILE="$ROOT/cmake/aarch64-linux-gnu.toolchain.cmake")
         strip=aarch64-linux-gnu-strip compiler=aarch64-linux-gnu-g++ ;;
  *) echo "build-linux-prebuild.sh: unknown arch '$arch' (x64 or arm64)" >&2; exit 2 ;;
esac
BUILD=${BUILD_DIR:-$ROOT/build-prebuild-linux-$arch}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
NAPI_INC=$ROOT/node_modules/node-api-headers/include
OUT=$ROOT/prebuilds/linux-$arch/node.napi.glibc.node
die() { echo "build-linux-prebuild: $*" >&2; exit 1; }

for tool in cmake "$compiler" "$strip"; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found (apt-get install -y cmake g++ g++-aarch64-linux-gnu)"
done
[[ -f $NAPI_INC/node_api.h && -f $ROOT/node_modules/node-addon-api/napi.h ]] ||
  die "node-api-headers / node-addon-api missing: run 'npm ci' first"
sysroot=$("$ROOT/scripts/toolchains/sysroot.sh" "$triple")

# --gc-sections (CMakeLists.txt) drops unreferenced parts of the static libstdc++;
# -z relro,now: resolve every symbol at load time, so a missing one fails at
# require(), not in the middle of a call.
cmake -S "$ROOT" -B "$BUILD" "${toolchain[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_JS_VERSION=cross -DCMAKE_JS_INC="$NAPI_INC" -DSIMDCONV_BUILD_TESTS=OFF \
  -DSIMDCONV_GLIBC_SYSROOT="$sysroot" -DCMAKE_SHARED_LINKER_FLAGS="-Wl,-z,relro,-z,now" >/dev/null
cmake --build "$BUILD" -j"$JOBS" --target simdconv_node >/dev/null

mkdir -p "$(dirname "$OUT")"
rm -f "$(dirname "$OUT")"/*.node  # one binary per platform dir: no stale name may win the lookup
"$strip" --strip-unneeded -o "$OUT.tmp" "$BUILD/simdconv.node"
mv -f "$OUT.tmp" "$OUT"
node "$ROOT/scripts/check-prebuilds.js" --targets "linux-$arch" --max-glibc "${MAX_GLIBC:-2.28}"
