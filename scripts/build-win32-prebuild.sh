#!/usr/bin/env bash
# Cross-compiles the Node-API addon for Windows x64 with MinGW-w64:
#
#   scripts/build-win32-prebuild.sh   -> prebuilds/win32-x64/node.napi.node
#
# The napi_* functions are exported by node.exe itself: an import library made
# from node-api-headers' node_api.def (dlltool) links them to "node.exe", as
# node-gyp does with MSVC. libstdc++, libgcc and winpthread are linked
# statically (CMakeLists.txt, MINGW), so the .node imports only node.exe and
# Windows' own DLLs; scripts/check-prebuilds.js checks that.
# Needs: cmake, g++-mingw-w64-x86-64-posix (std::thread needs the -posix
#        flavour), binutils-mingw-w64-x86-64, `npm ci` done.
# Env:   BUILD_DIR (default build-prebuild-win32-x64), JOBS (default nproc).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build-prebuild-win32-x64}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
HEADERS=$ROOT/node_modules/node-api-headers
OUT=$ROOT/prebuilds/win32-x64/node.napi.node
die() { echo "build-win32-prebuild: $*" >&2; exit 1; }

for tool in cmake x86_64-w64-mingw32-g++-posix x86_64-w64-mingw32-dlltool x86_64-w64-mingw32-strip; do
  command -v "$tool" >/dev/null 2>&1 ||
    die "'$tool' not found (apt-get install -y cmake g++-mingw-w64-x86-64-posix binutils-mingw-w64-x86-64)"
done
[[ -f $HEADERS/def/node_api.def && -f $ROOT/node_modules/node-addon-api/napi.h ]] ||
  die "node-api-headers / node-addon-api missing: run 'npm ci' first"

mkdir -p "$BUILD"
# node_api.def lists every Node-API function (js_native_api.def's too) as exports of NODE.EXE.
x86_64-w64-mingw32-dlltool -d "$HEADERS/def/node_api.def" -l "$BUILD/node.lib.a" -D node.exe
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_TOOLCHAIN_FILE="$ROOT/cmake/x86_64-w64-mingw32.toolchain.cmake" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_JS_VERSION=cross -DCMAKE_JS_INC="$HEADERS/include" \
  -DCMAKE_JS_LIB="$BUILD/node.lib.a" -DSIMDCONV_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j"$JOBS" --target simdconv_node >/dev/null

mkdir -p "$(dirname "$OUT")"
rm -f "$(dirname "$OUT")"/*.node  # one binary per platform dir: no stale name may win the lookup
x86_64-w64-mingw32-strip --strip-unneeded -o "$OUT.tmp" "$BUILD/simdconv.node"
mv -f "$OUT.tmp" "$OUT"
node "$ROOT/scripts/check-prebuilds.js" --targets win32-x64
