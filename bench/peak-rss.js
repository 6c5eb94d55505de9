#!/usr/bin/env node
// Peak resident memory of one big forward: a 3x3 conv (padding 1, 64->64) on
// 1x64x512x512, above the input and output tensors. An explicit im2col buffer
// would be 64*9 x 512*512 floats = 604 MB; the library must not allocate one.
//
// Each measurement runs in a fresh child process: build the layer, fill the
// input, warm up (thread pool, packed weights) on a small input, read VmRSS,
// reset the peak (`echo 5 > /proc/self/clear_refs`, Linux), run forward(), read
// VmHWM. extra = VmHWM - VmRSS(before), minus the output size when forward()
// allocated the output itself. Variants: preallocated `out` / allocated
// output, at 1 thread and all cores.
//
//   node bench/peak-rss.js [--quick] [--markdown] [--json-stdout]
// (run by bench/run.js at the end; `node bench/run.js --rss` runs only this)
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const SHAPE = [1, 64, 512, 512];
const BYTES = SHAPE.reduce((a, b) => a * b, 1) * 4; // input = output size
const IM2COL = 64 * 9 * 512 * 512 * 4;
const MiB = 2 ** 20;

function status() {
  const s = fs.readFileSync('/proc/self/status', 'utf8');
  const kb = (k) => Number((s.match(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm')) || [])[1]) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

function child(mode, threads) {
  const { Conv2d, Tensor, setNumThreads } = require(path.resolve(__dirname, '..'));
  setNumThreads(threads);
  const conv = new Conv2d(64, 64, 3, { padding: 1 });
  const x = new Tensor(new Float32Array(BYTES / 4), SHAPE);
  for (let i = 0; i < x.data.length; i++) x.data[i] = ((Math.imul(i, 2654435761) >>> 0) % 1000) / 500 - 1;
  const out = mode === 'out' ? Tensor.zeros(SHAPE) : null;
  if (out) out.data.fill(1); // fault the pages in: they count as "output", not as extra
  conv.forward(new Tensor(new Float32Array(64 * 16 * 16), [1, 64, 16, 16])); // warm-up
  global.gc?.();
  const before = status();
  let reset = false;
  try { fs.writeFileSync('/proc/self/clear_refs', '5'); reset = true; } catch { /* not Linux / not allowed */ }
  const t0 = performance.now();
  const y = out ? conv.forward(x, { out }) : conv.forward(x);
  const ms = performance.now() - t0;
  const after = status();
  const base = reset ? before.rss : Math.max(before.rss, before.hwm);
  const extra = after.hwm - base - (out ? 0 : BYTES);
  return { mode, threads, rssBefore: before.rss, hwmAfter: after.hwm, peakReset: reset, extraBytes: extra, ms, check: y.data[12345] };
}

function measure(opts) {
  const cores = os.availableParallelism ? os.availableParallelism() : os.cpus().length;
  const threadCounts = opts.quick ? [cores] : [...new Set([1, cores])];
  const runs = [];
  for (const threads of threadCounts) {
    for (const mode of ['out', 'alloc']) {
      const r = spawnSync(process.execPath, ['--expose-gc', __filename, '--child', mode, String(threads)],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600000 });
      if (r.status !== 0) throw new Error(`peak-rss child (${mode}, ${threads} threads) failed: ${r.error ? r.error.message : `exit ${r.status}`}`);
      runs.push(JSON.parse(r.stdout));
    }
  }
  return { shape: SHAPE, tensorBytes: BYTES, im2colBytes: IM2COL, runs, maxExtraBytes: Math.max(...runs.map((r) => r.extraBytes)) };
}

function format(r, md) {
  const m = (b) => (b / MiB).toFixed(1);
  const head = ['output', 'threads', 'RSS before MiB', 'peak MiB', 'extra above input+output MiB', 'forward ms'];
  const rows = r.runs.map((x) => [x.mode === 'out' ? 'preallocated out' : 'allocated by forward()', String(x.threads),
    m(x.rssBefore), m(x.hwmAfter), m(x.extraBytes), x.ms.toFixed(0)]);
  const lines = [];
  if (md) {
    lines.push(`| ${head.join(' | ')} |`, '|---|---:|---:|---:|---:|---:|', ...rows.map((x) => `| ${x.join(' | ')} |`));
  } else {
    const w = head.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i].length)));
    const line = (c) => c.map((s, i) => (i === 0 ? s.padEnd(w[i]) : s.padStart(w[i]))).join('  ');
    lines.push(line(head), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line));
  }
  lines.push('');
  lines.push(`Input and output are ${m(r.tensorBytes)} MiB each; an im2col buffer would be ${m(r.im2colBytes)} MiB. ` +
    `Largest extra: ${m(r.maxExtraBytes)} MiB (${r.maxExtraBytes < r.im2colBytes / 8 ? 'no im2col-sized buffer' : 'LARGE: looks like a full im2col buffer'}).` +
    (r.runs.every((x) => x.peakReset) ? '' : ' (VmHWM could not be reset: the peak includes setup.)'));
  return lines.join('\n');
}

module.exports = { measure, format };

if (require.main === module) {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    console.log(JSON.stringify(child(argv[1], Number(argv[2]))));
  } else {
    require('./tunables').ensureTunables(__filename);
    const r = measure({ quick: argv.includes('--quick') });
    if (argv.includes('--json-stdout')) console.log(JSON.stringify(r));
    else console.log(format(r, argv.includes('--markdown')));
  }
}
