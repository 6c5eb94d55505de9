#!/usr/bin/env bash
# `npm run prebuilds`: makes the binaries a release ships, each where
# node-gyp-build finds it in an installed package (sharp-style: prebuilt
# binaries, no install script), then checks all of them (scripts/check-prebuilds.js,
# the same check `npm pack` runs as prepack):
#   prebuilds/linux-x64/node.napi.glibc.node    glibc >= 2.18  (scripts/build-linux-prebuild.sh x64)
#   prebuilds/linux-arm64/node.napi.glibc.node  glibc >= 2.18  (scripts/build-linux-prebuild.sh arm64)
#   prebuilds/win32-x64/node.napi.node          MinGW-w64      (scripts/build-win32-prebuild.sh)
# "node" + "napi" tags: any Node.js with Node-API >= 8 loads it (Node >= 20 here),
# whatever its ABI version; "glibc" keeps the Linux ones from being picked on musl.
# Runs on a Debian/Ubuntu x64 host with: cmake g++ g++-aarch64-linux-gnu
# g++-mingw-w64-x86-64-posix binutils-mingw-w64-x86-64, after `npm ci`.
#
#   scripts/prebuild.sh                    # all three (= npm run prebuilds; not "prebuild",
#                                          # which npm would run before every `npm run build`)
#   scripts/prebuild.sh linux-x64 ...      # some of them (no final check of the others)
#   scripts/prebuild.sh host               # this machine's platform with its own toolchain
#                                          # (macOS, musl, ...): prebuilds/<platform>-<arch>/
set -euo pipefail
cd "$(dirname "$0")/.."
all=(linux-x64 linux-arm64 win32-x64)
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=("${all[@]}")

host() {
  # The native toolchain through cmake-js (incremental in build-prebuild/).
  local out=${PREBUILD_OUT:-build-prebuild}
  npx --no-install cmake-js build --out "$out" --parallel "$(nproc 2>/dev/null || echo 2)" \
    --CDSIMDCONV_BUILD_TESTS=OFF --log-level warn >/dev/null
  local platform arch name=node.napi.node libc
  platform=$(node -p process.platform)
  arch=$(node -p process.arch)
  if [[ $platform == linux ]]; then
    if [[ -f /etc/alpine-release ]] || (ldd --version 2>&1 | grep -qi musl); then libc=musl; else libc=glibc; fi
    name=node.napi.$libc.node
  fi
  local dest=prebuilds/$platform-$arch
  mkdir -p "$dest"
  rm -f "$dest"/*.node
  cp "$out/Release/simdconv.node" "$dest/$name"
  # Debug symbols are not needed at run time; strip keeps the tarball small.
  if command -v strip >/dev/null && [[ $platform != darwin ]]; then strip --strip-unneeded "$dest/$name"; fi
  echo "prebuild: $dest/$name (host toolchain: loads on this system; not the release build for linux-x64)"
}

for t in "${targets[@]}"; do
  t0=$SECONDS
  case $t in
    linux-x64) scripts/build-linux-prebuild.sh x64 ;;
    linux-arm64) scripts/build-linux-prebuild.sh arm64 ;;
    win32-x64) scripts/build-win32-prebuild.sh ;;
    host) host ;;
    *) echo "prebuild: unknown target '$t' (linux-x64, linux-arm64, win32-x64, host)" >&2; exit 2 ;;
  esac
  echo "prebuild: $t done in $((SECONDS - t0)) s"
done

# The prebuild of this platform must be what node-gyp-build picks when there
# is no build/ (PREBUILDS_ONLY=1), and it must load here.
self=$(node -p 'process.platform + "-" + process.arch')
if [[ " ${targets[*]} " == *" $self "* || " ${targets[*]} " == *" host "* ]]; then
  PREBUILDS_ONLY=1 node -e '
    const file = require("node-gyp-build").resolve(".");
    const addon = require(file);
    console.log(`prebuild: node-gyp-build loads ${require("node:path").relative(".", file)} here, ISA ${addon.activeIsa()}`);
  '
fi
if [[ $# -eq 0 ]]; then node scripts/check-prebuilds.js; fi
