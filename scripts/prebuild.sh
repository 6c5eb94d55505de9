#!/usr/bin/env bash
# Builds the Node-API addon and puts it where node-gyp-build finds it in an
# installed package (sharp-style: the package ships prebuilt binaries and has
# no install script):
#   prebuilds/<platform>-<arch>/node.napi.<libc>.node   (linux: glibc or musl)
#   prebuilds/<platform>-<arch>/node.napi.node          (other platforms)
# "node" + "napi" tags: any Node.js with Node-API >= 8 loads it (Node >= 20
# here), whatever its ABI version. The libc tag keeps a glibc build from being
# picked on musl (Alpine), where it would fail to load.
#
#   scripts/prebuild.sh            # build dir: build-prebuild/ (leaves build/ alone)
#   PREBUILD_OUT=dir scripts/prebuild.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=${PREBUILD_OUT:-build-prebuild}
jobs=$(nproc 2>/dev/null || echo 2)

# Incremental: a second run only rebuilds what changed.
npx --no-install cmake-js build --out "$out" --parallel "$jobs" --CDSIMDCONV_BUILD_TESTS=OFF --log-level warn >/dev/null

platform=$(node -p process.platform)
arch=$(node -p process.arch)
name=node.napi.node
if [ "$platform" = linux ]; then
  if [ -f /etc/alpine-release ] || (ldd --version 2>&1 | grep -qi musl); then libc=musl; else libc=glibc; fi
  name=node.napi.$libc.node
fi
dest=prebuilds/$platform-$arch
mkdir -p "$dest"
rm -f "$dest"/*.node
cp "$out/Release/simdconv.node" "$dest/$name"
# Debug symbols are not needed at run time; strip keeps the tarball small.
if command -v strip >/dev/null && [ "$platform" != darwin ]; then strip --strip-unneeded "$dest/$name"; fi

# The prebuild must be what node-gyp-build picks when there is no build/ (PREBUILDS_ONLY=1),
# and it must load.
PREBUILDS_ONLY=1 node -e '
  const path = require("node:path");
  const file = require("node-gyp-build").resolve(".");
  if (path.resolve(file) !== path.resolve(process.argv[1])) throw new Error(`node-gyp-build picks ${file}, not ${process.argv[1]}`);
  const addon = require(file);
  console.log(`${process.argv[1]}: ${require("node:fs").statSync(file).size} bytes, ISA ${addon.activeIsa()}`);
' "$dest/$name"
