#!/usr/bin/env bash
# Prints the path of a glibc 2.17 sysroot for the Linux prebuilds, installing it
# first when needed:
#
#   scripts/toolchains/sysroot.sh x86_64|aarch64
#
# The sysroots come from the npm packages pinned in linux-sysroots/package.json
# (exact versions + lock; `npm ci --prefix`, never the package's own
# dependencies: ~90 MB). Each package holds one .tar.xz (a GCC 4.8 toolchain
# with its sysroot); only <triple>/sysroot is extracted, into
# build-toolchains/<triple>/ (ignored by git), once per package version.
# Only glibc's shared libraries are taken from it at link time (libc, libm,
# libpthread): the compiler and libstdc++ are Debian's GCC 12 (cmake/glibc-sysroot.cmake).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PKGDIR=$ROOT/scripts/toolchains/linux-sysroots
arch=${1:?usage: sysroot.sh x86_64|aarch64}
case $arch in
  x86_64|aarch64) ;;
  *) echo "sysroot.sh: unknown architecture '$arch' (x86_64 or aarch64)" >&2; exit 2 ;;
esac
triple=$arch-unknown-linux-gnu
pkg=$PKGDIR/node_modules/@napi-rs/cross-toolchain-x64-target-$arch
dest=$ROOT/build-toolchains/$triple
if [[ ! -f $pkg/package.json ]]; then
  echo "sysroot.sh: npm ci --prefix scripts/toolchains/linux-sysroots" >&2
  npm ci --prefix "$PKGDIR" --no-audit --no-fund --loglevel=error >&2
fi
version=$(node -p "require('$pkg/package.json').version")
stamp=$dest/.extracted-$version
if [[ ! -f $stamp ]]; then
  echo "sysroot.sh: extracting $triple/sysroot from $(basename "$pkg") $version" >&2
  rm -rf "$dest"
  mkdir -p "$dest"
  tar -xJf "$pkg/$triple.tar.xz" -C "$dest" --strip-components=2 "./$triple/sysroot"
  [[ -f $dest/sysroot/lib/libc.so.6 || -f $dest/sysroot/lib64/libc.so.6 ]] ||
    { echo "sysroot.sh: no libc.so.6 in the extracted $triple sysroot" >&2; exit 1; }
  touch "$stamp"
fi
echo "$dest/sysroot"
