#!/usr/bin/env node
// Event-loop responsiveness while big convolutions run through forwardAsync
// (the "server-ready" requirement): event-loop delay p50 / p99 / max from
// perf_hooks.monitorEventLoopDelay({ resolution: 1 }) while
//   A. 8 concurrent forwardAsync calls on 1x64x112x112 (3x3, padding 1, 64->64) run,
//   B. one forwardAsync call on 8x64x112x112 (same layer) runs,
// each repeated (at least 3 times and 3 s) into one histogram, with the idle loop as a
// baseline and, for contrast, how long one synchronous forward() of A's input
// blocks the loop. Target: p99 < 20 ms. Threads: simdconv's default (all cores).
//
//   node bench/event-loop.js [--quick] [--markdown] [--json-stdout]
// (run by bench/run.js at the end; `node bench/run.js --event-loop` runs only this)
'use strict';

const path = require('node:path');
const os = require('node:os');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const { cpuSnapshot, otherLoad, waitIdle } = require('./cpuload');

const CORES = os.availableParallelism ? os.availableParallelism() : os.cpus().length;

const TARGET_P99_MS = 20;

function randomFill(a, seed) {
  let s = seed >>> 0;
  for (let i = 0; i < a.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2147483648 - 1;
  }
  return a;
}

// Repeats fn (at least minReps times, until minMs have passed) into one histogram.
async function histogramOf(minReps, minMs, fn) {
  const h = monitorEventLoopDelay({ resolution: 1 });
  const walls = [];
  await waitIdle([process.pid], CORES, CORES, 10);
  const cpu0 = cpuSnapshot([process.pid]);
  const start = performance.now();
  h.enable();
  while (walls.length < minReps || performance.now() - start < minMs) {
    const t0 = performance.now();
    await fn();
    walls.push(performance.now() - t0);
  }
  h.disable();
  const other = otherLoad(cpu0, cpuSnapshot([process.pid]), CORES);
  const ms = (ns) => ns / 1e6;
  return {
    p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), mean: ms(h.mean),
    samples: h.count, reps: walls.length, wallMs: walls, otherLoad: other,
  };
}

async function measure(opts) {
  const { Conv2d, Tensor, getNumThreads } = require(path.resolve(__dirname, '..'));
  const conv = new Conv2d(64, 64, 3, { padding: 1 });
  const small = new Tensor(randomFill(new Float32Array(64 * 112 * 112), 1), [1, 64, 112, 112]);
  const big = new Tensor(randomFill(new Float32Array(8 * 64 * 112 * 112), 2), [8, 64, 112, 112]);
  const [reps, minMs] = opts.quick ? [1, 500] : [3, 3000];
  // warm up: thread pool, packed weights, first-touch of buffers
  await conv.forwardAsync(small);
  conv.forward(small);

  const res = { threads: getNumThreads(), targetP99Ms: TARGET_P99_MS, layer: conv.toString() };
  res.idle = await histogramOf(1, 0, () => new Promise((r) => setTimeout(r, opts.quick ? 300 : 1000)));
  res.concurrent8 = await histogramOf(reps, minMs, () => Promise.all(Array.from({ length: 8 }, () => conv.forwardAsync(small))));
  res.concurrent8.label = '8 concurrent forwardAsync, 1x64x112x112 each';
  res.batch8 = await histogramOf(reps, minMs, () => conv.forwardAsync(big));
  res.batch8.label = '1 forwardAsync, 8x64x112x112';
  const blocks = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    conv.forward(small);
    blocks.push(performance.now() - t0);
  }
  res.syncForwardMs = Math.min(...blocks);
  res.pass = res.concurrent8.p99 < TARGET_P99_MS && res.batch8.p99 < TARGET_P99_MS;
  return res;
}

function format(r, md) {
  const f = (v) => v.toFixed(2);
  const rows = [
    ['idle loop (baseline)', r.idle],
    [r.concurrent8.label, r.concurrent8],
    [r.batch8.label, r.batch8],
  ].map(([label, h]) => [label, f(h.p50), f(h.p99), f(h.max), String(h.samples), String(h.reps),
    h === r.idle ? '—' : [...h.wallMs].sort((a, b) => a - b)[h.wallMs.length >> 1].toFixed(1),
    h.otherLoad == null ? '—' : h.otherLoad.toFixed(2)]);
  const head = ['scenario', 'p50 ms', 'p99 ms', 'max ms', 'samples', 'reps', 'wall ms per rep (median)', 'other load'];
  const lines = [];
  if (md) {
    lines.push(`| ${head.join(' | ')} |`, '|---|---:|---:|---:|---:|---:|---:|---:|', ...rows.map((x) => `| ${x.join(' | ')} |`));
  } else {
    const w = head.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i].length)));
    const line = (c) => c.map((s, i) => (i === 0 ? s.padEnd(w[i]) : s.padStart(w[i]))).join('  ');
    lines.push(line(head), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line));
  }
  lines.push('');
  lines.push(`${r.layer}, ${r.threads} threads. Target p99 < ${r.targetP99Ms} ms: ${r.pass ? 'PASS' : 'FAIL'}. ` +
    `For contrast, one synchronous forward() of 1x64x112x112 blocks the loop for ${f(r.syncForwardMs)} ms.`);
  return lines.join('\n');
}

module.exports = { measure, format };

if (require.main === module) {
  require('./tunables').ensureTunables(__filename);
  const argv = process.argv.slice(2);
  const opts = { quick: argv.includes('--quick') };
  measure(opts).then((r) => {
    if (argv.includes('--json-stdout')) console.log(JSON.stringify(r));
    else console.log(format(r, argv.includes('--markdown')));
    process.exit(0);
  }, (err) => {
    console.error(err);
    process.exit(1);
  });
}
