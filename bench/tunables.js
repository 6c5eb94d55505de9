// Pins glibc's malloc thresholds for the benchmarks. Without them glibc's
// dynamic mmap threshold hands out fresh multi-MB output buffers from mmap,
// which page-fault on every call and swing timings 20-60%. ensureTunables()
// re-runs the current script with GLIBC_TUNABLES set (harmless on musl and
// non-Linux) unless it already is, and exits with the child's status.
'use strict';

const TUNABLES = 'glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824';

function ensureTunables(script) {
  if ((process.env.GLIBC_TUNABLES || '').includes('glibc.malloc.mmap_threshold')) return;
  const { spawnSync } = require('node:child_process');
  const prev = process.env.GLIBC_TUNABLES;
  const env = { ...process.env, GLIBC_TUNABLES: prev ? `${prev}:${TUNABLES}` : TUNABLES };
  const r = spawnSync(process.execPath, [...process.execArgv, script, ...process.argv.slice(2)], { stdio: 'inherit', env });
  if (r.error) throw r.error;
  process.exit(r.status ?? (r.signal ? 1 : 0));
}

module.exports = { TUNABLES, ensureTunables };
