#!/usr/bin/env node
// The Conv2d / Conv1d benchmark suite (`npm run bench`): every layer shape in
// bench/suite.json (or, with --networks, every conv layer of the networks in
// bench/networks.json: bench/networks.js), at 1 thread and at all cores, simdconv side by side with
// ONNX Runtime (onnxruntime-node, a one-Conv ONNX model built in memory) and,
// when `python3 -c 'import torch'` works, PyTorch (bench/torch_bench.py as a
// worker process). Every peer's output is checked against simdconv's before
// it is timed. Then event-loop delay under forwardAsync (bench/event-loop.js)
// and peak RSS of a big layer (bench/peak-rss.js).
//
//   node bench/run.js [--quick] [--cases a,b] [--threads 1,2] [--json FILE] [--markdown]
//                     [--no-torch] [--no-ort] [--no-event-loop] [--no-rss] [--event-loop] [--rss]
//                     [--wait-idle S | --no-wait-idle] [--rounds N]
//   node bench/run.js --networks | --network resnet50,unet   [same options]
//
// Progress goes to stderr, the report to stdout (markdown with --markdown).
// Timing: per case and thread count, R rounds; in each round every library
// runs one sample (a batch of calls long enough to time, ~40 ms; --quick
// ~15 ms), in an order that rotates from round to round, with a short pause
// between libraries so that spinning worker pools settle. Reported: the median
// over rounds of seconds per call. The machine may be shared: medians, not means.
'use strict';

// Fresh multi-MB output buffers otherwise come from mmap and page-fault on
// every call (glibc's dynamic mmap threshold), which swings timings 20-60%:
// re-run this script with the thresholds pinned unless they already are.
require('./tunables').ensureTunables(__filename);

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const { spawn, spawnSync, execFileSync } = require('node:child_process');
const { cpuSnapshot, otherLoad, waitIdle } = require('./cpuload');
const { grid } = require('./grid');

const ROOT = path.resolve(__dirname, '..');
const SUITE = path.join(__dirname, 'suite.json');
const EPS32 = 2 ** -23;
const GAP_MS = Number(process.env.BENCH_GAP_MS || 100); // > libgomp's and ORT's spin-wait after a parallel region (10 ms was too short: ORT's threads took a core during our samples)

// ---------------------------------------------------------------- options
function parseArgs(argv) {
  const o = {
    quick: false, json: null, cases: null, threads: null, markdown: false,
    torch: true, ort: true, eventLoop: true, rss: true, suite: true, rounds: null, waitIdle: 10,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const eq = a.indexOf('=');
      if (eq >= 0) return a.slice(eq + 1);
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    const name = a.split('=')[0];
    switch (name) {
      case '--quick': o.quick = true; break;
      case '--json': o.json = val(); break;
      case '--cases': o.cases = val().split(',').map((s) => s.trim()).filter(Boolean); break;
      case '--threads': o.threads = val().split(',').map(Number); break;
      case '--rounds': o.rounds = Number(val()); break;
      case '--markdown': o.markdown = true; break;
      case '--wait-idle': o.waitIdle = Number(val()); break;
      case '--no-wait-idle': o.waitIdle = 0; break;
      case '--no-torch': o.torch = false; break;
      case '--no-ort': o.ort = false; break;
      case '--no-event-loop': o.eventLoop = false; break;
      case '--no-rss': o.rss = false; break;
      case '--event-loop': o.only = o.only || new Set(); o.only.add('event-loop'); break;
      case '--rss': o.only = o.only || new Set(); o.only.add('rss'); break;
      case '--networks': o.only = o.only || new Set(); o.only.add('networks'); o.networks = true; break;
      case '--network':
        o.only = o.only || new Set(); o.only.add('networks');
        o.networks = val().split(',').map((s) => s.trim()).filter(Boolean);
        break;
      case '--help': case '-h': usage(); break;
      default: usage(`unknown option ${a}`);
    }
  }
  if (o.networks && o.cases) usage('--cases picks suite cases; with --networks / --network the suite is not run');
  if (o.only) {
    o.suite = false;
    o.eventLoop = o.only.has('event-loop');
    o.rss = o.only.has('rss');
  }
  return o;
}

function usage(err) {
  const text = `usage: node bench/run.js [options]    (npm run bench -- [options])
  --quick            fewer rounds and shorter samples
  --cases a,b        only these cases of bench/suite.json
  --threads 1,2      thread counts (default: 1 and all cores)
  --rounds N         samples per library, case and thread count (default 15, --quick 5)
  --wait-idle S      before each row, wait up to S s (default 10) until other processes leave
                     the row's thread count of cores free; --no-wait-idle: don't wait
  --json FILE        write all results (every sample) to FILE
  --markdown         print the report as markdown (for BENCHMARKS.md)
  --no-torch / --no-ort / --no-event-loop / --no-rss   skip a part
  --event-loop       only the event-loop test;  --rss  only the peak-RSS test
  --networks         whole networks instead of the suite: every conv layer of ResNet-50, MobileNetV2
                     (batch 1, 224x224), ResNet-18 (batch 8) and a 4-level UNet (256x256) from
                     bench/networks.json, each shape timed once (default 7 rounds, --quick 3) and
                     summed per network and library
  --network a,b      only these networks (resnet50, mobilenetv2, resnet18_b8, unet)
simdconv is timed as users call it, forward(x) (a fresh output each call: the 'simdconv' columns and
the ratios), and as forward(x, { out }) into a preallocated output (the 'out=' columns).
Suite cases may be Conv1d layers ("kind": "conv1d" in bench/suite.json) or
ConvTranspose2d layers ("kind": "conv_transpose2d", with "output_padding").`;
  if (err) { console.error(`bench/run.js: ${err}\n${text}`); process.exit(2); }
  console.log(text);
  process.exit(0);
}

const log = (...a) => console.error(...a);
const sleepSync = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  const i = (s.length - 1) * q, lo = Math.floor(i), hi = Math.ceil(i);
  return s[lo] + (s[hi] - s[lo]) * (i - lo);
};
const geomean = (xs) => (xs.length ? Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length) : NaN);
const nowS = () => Number(process.hrtime.bigint()) / 1e9;

const { randomArray } = require('../scripts/random');

// ---------------------------------------------------------------- machine
function sh(cmd, args, opts = {}) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 60000, ...opts }).trim();
  } catch {
    return null;
  }
}

function machineInfo(simdconv) {
  const lscpu = sh('lscpu') || '';
  const field = (k) => (lscpu.match(new RegExp(`^${k}:\\s*(.+)$`, 'm')) || [])[1];
  let ortVersion = null;
  try { ortVersion = require(require.resolve('onnxruntime-node/package.json', { paths: [__dirname] })).version; } catch { /* absent */ }
  const head = sh('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']);
  const dirty = head && sh('git', ['-C', ROOT, 'status', '--porcelain', '--untracked-files=no']);
  let version = null;
  try { version = require(path.join(ROOT, 'package.json')).version; } catch { /* absent */ }
  return {
    date: new Date().toISOString(),
    commit: head ? `${head}${dirty ? ' + uncommitted changes' : ''}` : 'unknown (not a git checkout)',
    simdconv: version,
    backend: simdconv.backendInfo(),
    cpu: field('Model name') || os.cpus()[0]?.model || 'unknown',
    cpuFamily: field('CPU family') ? `family ${field('CPU family')} model ${field('Model')}` : null,
    cores: os.availableParallelism ? os.availableParallelism() : os.cpus().length,
    threadsPerCore: field('Thread\\(s\\) per core'),
    hypervisor: field('Hypervisor vendor'),
    flags: ['avx2', 'fma', 'avx512f', 'avx512bw', 'avx512vl', 'asimd', 'sve'].filter((f) =>
      new RegExp(`\\b${f}\\b`).test(field('Flags') || '')),
    memGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    ort: ortVersion,
    glibcTunables: process.env.GLIBC_TUNABLES,
  };
}

/**
 * FMA roof (GFLOP/s) at each thread count, measured by the native addon
 * (cpp/src/fma_roof.cpp: independent FMA chains per ISA, best of repeats), so
 * no compiler is needed. `merge` keeps the best of several measurements. The
 * n-thread roof is max(measured n threads, n x measured 1 thread): on a shared
 * machine the n-thread measurement comes out low whenever another process
 * holds a core.
 */
function fmaRoofMeasure(simdconv, threadCounts, repeats) {
  const { native } = require(path.join(ROOT, 'dist', 'native'));
  try {
    const measured = {};
    for (const t of [...new Set([1, ...threadCounts])]) {
      measured[t] = {};
      for (const isa of simdconv.backendInfo().supportedIsas) measured[t][isa] = native.fmaRoof(isa, t, repeats);
    }
    return { measured };
  } catch (err) {
    return { note: `no roof: ${err.message.split('\n')[0]}` };
  }
}

function mergeRoof(a, b) {
  if (!a || !a.measured) return b;
  if (!b || !b.measured) return a;
  const measured = {};
  for (const t of Object.keys(a.measured)) {
    measured[t] = { ...a.measured[t] };
    for (const [isa, v] of Object.entries(b.measured[t] || {})) measured[t][isa] = Math.max(measured[t][isa] || 0, v);
  }
  return { ...a, measured };
}

function roofByThreads(roof) {
  if (!roof || !roof.measured) return null;
  const out = {};
  const one = roof.measured[1];
  for (const [t, m] of Object.entries(roof.measured)) {
    const isa = Object.keys(m).reduce((x, k) => (m[k] > m[x] ? k : x));
    const perCore = one && one[isa] ? Number(t) * one[isa] : 0;
    out[t] = { gflops: Math.max(m[isa], perCore), isa, measured: m[isa], fromPerCore: perCore > m[isa] };
  }
  return out;
}

// ---------------------------------------------------------------- torch worker
function findTorchPython() {
  const candidates = [process.env.SIMDCONV_BENCH_PYTHON, '/usr/bin/python3', 'python3'].filter(Boolean);
  const tried = [];
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 120000 });
    if (!r.error && r.status === 0) return { python: py, version: r.stdout.trim() };
    tried.push(py);
  }
  return { note: `PyTorch column skipped: no 'import torch' in ${tried.join(', ')}` };
}

class TorchWorker {
  constructor(python) {
    this.proc = spawn(python, [path.join(__dirname, 'torch_bench.py'), '--serve'],
      { stdio: ['pipe', 'pipe', 'inherit'] });
    this.lines = readline.createInterface({ input: this.proc.stdout });
    this.waiting = [];
    this.lines.on('line', (line) => {
      const w = this.waiting.shift();
      if (w) w.resolve(line);
    });
    this.proc.on('exit', (code) => {
      for (const w of this.waiting.splice(0)) w.reject(new Error(`torch worker exited (${code})`));
      this.dead = true;
    });
  }

  async request(obj) {
    if (this.dead) throw new Error('torch worker is not running');
    const p = new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
    this.proc.stdin.write(`${JSON.stringify(obj)}\n`);
    const rep = JSON.parse(await p);
    if (!rep.ok) throw new Error(`torch: ${rep.error}`);
    return rep;
  }

  close() {
    if (this.dead) return;
    try { this.proc.stdin.end(`${JSON.stringify({ cmd: 'quit' })}\n`); } catch { /* gone */ }
  }
}

// ---------------------------------------------------------------- one case
const OVERHEAD_CASE = {
  name: 'overhead_1x1', N: 1, Cin: 1, H: 1, W: 1, Cout: 1, kernel: [1, 1], stride: [1, 1], padding: [0, 0],
  dilation: [1, 1], groups: 1, padding_mode: 'zeros',
};
// A case's `kind` (default conv2d): conv2d has N, Cin, H, W; conv1d has N, Cin,
// L and one-element kernel/stride/padding/dilation; conv_transpose2d is
// conv2d's fields plus output_padding (default [0, 0]).
const KINDS = ['conv2d', 'conv1d', 'conv_transpose2d'];
// A fused case (issue 13): "activation" (one of these) and/or "residual": true
// time y = act(conv(x) + residual) in one call of each library: simdconv's
// fused epilogue, ONNX Runtime's Conv (+ Add) + activation graph (which it
// fuses where it can), PyTorch's F.<act>(conv(x) + r).
const FUSED_ACTIVATIONS = ['relu', 'relu6', 'sigmoid', 'tanh', 'silu', 'hardswish'];
const kindOf = (c) => c.kind || 'conv2d';
const transposed = (c) => kindOf(c) === 'conv_transpose2d';
const spatialOf = (c) => (kindOf(c) === 'conv1d' ? [c.L] : [c.H, c.W]);
const inShapeOf = (c) => [c.N, c.Cin, ...spatialOf(c)];
const outputPaddingOf = (c) => c.output_padding || spatialOf(c).map(() => 0);
function outShapeOf(c) {
  const o = (i, k, s, p, d) => Math.floor((i + 2 * p - d * (k - 1) - 1) / s) + 1;
  // ConvTranspose2d: (i - 1) * s - 2p + d (k - 1) + output_padding + 1
  const t = (i, k, s, p, d, op) => (i - 1) * s - 2 * p + d * (k - 1) + op + 1;
  const f = transposed(c) ? t : o;
  return [c.N, c.Cout, ...spatialOf(c).map((n, i) =>
    f(n, c.kernel[i], c.stride[i], c.padding[i], c.dilation[i], outputPaddingOf(c)[i]))];
}
const prod = (xs) => xs.reduce((a, x) => a * x, 1);

// A transposed conv multiplies every input element by Cout/groups x kernel
// weights (PyTorch's and ONNX's count, cropped taps included).
function gflopOf(c) {
  if (transposed(c)) return (2 * prod(inShapeOf(c)) * (c.Cout / c.groups) * prod(c.kernel)) / 1e9;
  return (2 * prod(outShapeOf(c)) * (c.Cin / c.groups) * prod(c.kernel)) / 1e9;
}

function shapeLabel(c) {
  const one = (p) => p.every((v) => v === p[0]);
  const pair = (p) => (one(p) ? `${p[0]}` : p.join(','));
  let s = `${inShapeOf(c).join('x')}→${c.Cout} k${c.kernel.join('x')}`;
  if (c.stride.some((v) => v !== 1)) s += ` s${pair(c.stride)}`;
  if (c.padding.some((v) => v)) s += ` p${pair(c.padding)}`;
  if (c.dilation.some((v) => v !== 1)) s += ` d${pair(c.dilation)}`;
  if (outputPaddingOf(c).some((v) => v)) s += ` op${pair(outputPaddingOf(c))}`;
  if (c.groups !== 1) s += c.groups === c.Cin && c.groups === c.Cout ? ' dw' : ` g${c.groups}`;
  if (c.padding_mode !== 'zeros') s += ` ${c.padding_mode}`;
  if (kindOf(c) !== 'conv2d') s += ` (${kindOf(c)})`;
  if (c.residual) s += ' +res';
  if (c.activation) s += ` ${c.activation}`;
  return s;
}

/** The simdconv layer for a case (Conv1d takes its one-element arguments as numbers). */
function makeLayer(simdconv, c) {
  const bias = c.bias !== false;
  const fused = c.activation ? { activation: c.activation } : {};
  if (kindOf(c) === 'conv1d') {
    return new simdconv.Conv1d(c.Cin, c.Cout, c.kernel[0], {
      stride: c.stride[0], padding: c.padding[0], dilation: c.dilation[0], groups: c.groups, paddingMode: c.padding_mode, bias,
      ...fused,
    });
  }
  if (transposed(c)) {
    return new simdconv.ConvTranspose2d(c.Cin, c.Cout, c.kernel, {
      stride: c.stride, padding: c.padding, outputPadding: outputPaddingOf(c), dilation: c.dilation, groups: c.groups, bias,
      ...fused,
    });
  }
  return new simdconv.Conv2d(c.Cin, c.Cout, c.kernel, {
    stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups, paddingMode: c.padding_mode, bias,
    ...fused,
  });
}

/** Why a suite case is malformed, or null. */
function caseProblem(c) {
  if (!KINDS.includes(kindOf(c))) return `case ${c.name}: unknown kind ${JSON.stringify(c.kind)} (known: ${KINDS.join(', ')})`;
  const rank = spatialOf(c).length;
  for (const k of ['kernel', 'stride', 'padding', 'dilation'])
    if (!Array.isArray(c[k]) || c[k].length !== rank) return `case ${c.name}: ${k} must have ${rank} element(s) for ${kindOf(c)}`;
  if (inShapeOf(c).some((v) => !Number.isInteger(v) || v < 1)) return `case ${c.name}: input shape ${inShapeOf(c).join('x')} is not all positive integers`;
  if (c.output_padding !== undefined && !transposed(c)) return `case ${c.name}: output_padding is only for conv_transpose2d`;
  if (transposed(c) && c.padding_mode !== 'zeros') return `case ${c.name}: conv_transpose2d pads with zeros only`;
  if (c.activation !== undefined && !FUSED_ACTIVATIONS.includes(c.activation))
    return `case ${c.name}: activation ${JSON.stringify(c.activation)} is not one the bench builds for every library (${FUSED_ACTIVATIONS.join(', ')})`;
  if (c.residual !== undefined && typeof c.residual !== 'boolean') return `case ${c.name}: residual must be true or false`;
  return null;
}

/**
 * max |a - b| against a float32 error bound for a length-K reduction:
 * 16 eps (sqrt(K) + 2) * M, M = max|x| * max over channels of (sum|w| + |b|).
 * Any real modelling error (padding, stride, layout) is orders of magnitude above it.
 */
function agreement(a, b, tol) {
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
  }
  return { maxDiff: worst, tol, ok: worst <= tol && a.length === b.length };
}

function toleranceOf(c, x, w, b) {
  let maxX = 0;
  for (const v of x) maxX = Math.max(maxX, Math.abs(v));
  const k = w.length / c.Cout;
  // the weights output channel oc sums: row oc of [Cout, k]; a transposed
  // conv's [Cin, Cout/groups, ...kernel] gives channel j of group g the
  // kernel-sized blocks j of the group's input channels
  const kk = prod(c.kernel), cinG = c.Cin / c.groups, coutG = c.Cout / c.groups;
  const weightOf = (oc, i) => (transposed(c)
    ? w[((Math.floor(oc / coutG) * cinG + Math.floor(i / kk)) * coutG + (oc % coutG)) * kk + (i % kk)]
    : w[oc * k + i]);
  let m = 0;
  for (let oc = 0; oc < c.Cout; oc++) {
    let s = 0;
    for (let i = 0; i < k; i++) s += Math.abs(weightOf(oc, i));
    m = Math.max(m, s * maxX + (b ? Math.abs(b[oc]) : 0));
  }
  return 16 * EPS32 * (Math.sqrt(k) + 2) * m;
}

function readF32(file) {
  const buf = fs.readFileSync(file);
  return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
}

/** A timed library: `run(k)` performs k calls and resolves to total seconds. */
async function calibrate(lib, targetS, minCalls) {
  // warm up: at least minCalls calls and 3x the sample length
  let calls = 0, spent = 0, last = Infinity;
  while (calls < minCalls || spent < 3 * targetS) {
    const t = await lib.run(1);
    last = Math.min(last, t);
    spent += t;
    calls++;
    if (calls >= 50) break;
  }
  return last;
}

async function benchCase(c, ctx, threads) {
  const { simdconv, ort, torch, opts, tmp } = ctx;
  const { Tensor, setNumThreads } = simdconv;
  const conv = makeLayer(simdconv, c);
  const xShape = inShapeOf(c);
  const x = new Tensor(randomArray(prod(xShape), 12345), xShape);
  const shape = outShapeOf(c);
  const out = Tensor.zeros(shape);
  const w = conv.weight.data, b = conv.bias ? conv.bias.data : null;
  // A fused case's residual, and its tolerance: the conv's bound plus a few
  // float32 roundings of the sum and the activation (each library computes
  // it its own way: ORT and PyTorch vectorise exp differently).
  const residual = c.residual ? new Tensor(randomArray(prod(shape), 54321), shape) : null;
  let tol = toleranceOf(c, x.data, w, b);
  if (residual || c.activation) {
    // |conv(x)| <= M (toleranceOf's bound); the activations here have slope
    // <= 1.5 (hardswish at 3), and the residual add and the activation add a
    // few roundings of |y| + |r|.
    const M = tol / (16 * EPS32 * (Math.sqrt(w.length / c.Cout) + 2));
    let maxR = 0;
    if (residual) for (const v of residual.data) maxR = Math.max(maxR, Math.abs(v));
    tol = 1.5 * tol + 16 * EPS32 * (M + maxR);
  }
  const gflop = gflopOf(c);
  const base = path.join(tmp, c.name.replace(/[^\w.-]/g, '_')); // network layers are named net/layer
  if (torch) {
    if (residual) fs.writeFileSync(`${base}.r`, residual.data);
    fs.writeFileSync(`${base}.x`, x.data);
    fs.writeFileSync(`${base}.w`, w);
    if (b) fs.writeFileSync(`${base}.b`, b);
  }
  const model = ort ? require('./onnx').convModel(c, w, b, shape, xShape) : null;
  const result = { case: c.name, shape: shapeLabel(c), gflop, byThreads: {} };

  for (const t of threads) {
    const r = { threads: t, libs: {} };
    result.byThreads[t] = r;
    setNumThreads(t);
    const fwd = residual ? { residual } : {};
    conv.forward(x, { out, ...fwd });
    r.algorithm = conv.backend ? `${conv.backend.algorithm}/${conv.backend.isa}` : null;
    const ref = Float32Array.from(out.data);
    const libs = [];
    // Two simdconv columns: 'simdconv' is forward(x), a fresh output tensor per
    // call, the way users call it (PyTorch's conv has no out= either): the
    // headline and what the ratios use. 'simdconv_out' is forward(x, { out })
    // into one preallocated output, as ONNX Runtime is timed here.
    const fresh = conv.forward(x, fwd);
    const freshAgree = agreement(fresh.data, ref, tol);
    if (!freshAgree.ok) {
      r.libs.simdconv = { check: freshAgree, error: `forward(x) differs from forward(x, { out }): max |diff| ${freshAgree.maxDiff.toExponential(2)}` };
      log(`  ${c.name} @${t}: ${r.libs.simdconv.error}`);
    }
    let sink = fresh;
    libs.push({
      name: 'simdconv',
      run: async (k) => {
        const t0 = nowS();
        for (let i = 0; i < k; i++) sink = conv.forward(x, fwd);
        return nowS() - t0;
      },
    });
    libs.push({
      name: 'simdconv_out',
      run: async (k) => {
        const t0 = nowS();
        for (let i = 0; i < k; i++) conv.forward(x, { out, ...fwd });
        return nowS() - t0;
      },
    });

    let session = null;
    if (ort) {
      try {
        session = await ort.InferenceSession.create(model, {
          intraOpNumThreads: t, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential',
        });
        const feeds = { x: new ort.Tensor('float32', x.data, x.shape) };
        if (residual) feeds.r = new ort.Tensor('float32', residual.data, residual.shape);
        const yBuf = new Float32Array(out.data.length);
        const fetches = { y: new ort.Tensor('float32', yBuf, shape) }; // preallocated output
        await session.run(feeds, fetches);
        const agree = agreement(yBuf, ref, tol);
        r.libs.ort = { check: agree };
        if (!agree.ok) {
          r.libs.ort.error = `ORT output differs from simdconv's: max |diff| ${agree.maxDiff.toExponential(2)} > tol ${tol.toExponential(2)}`;
          log(`  ${c.name} @${t}: ${r.libs.ort.error}`);
        } else {
          libs.push({
            name: 'ort',
            run: async (k) => {
              const t0 = nowS();
              for (let i = 0; i < k; i++) await session.run(feeds, fetches);
              return nowS() - t0;
            },
          });
        }
      } catch (err) {
        r.libs.ort = { error: `ORT failed: ${err.message}` };
        log(`  ${c.name} @${t}: ${r.libs.ort.error}`);
      }
    }

    if (torch) {
      try {
        const rep = await torch.request({
          cmd: 'setup', case: c, threads: t, input: `${base}.x`, weight: `${base}.w`,
          bias: b ? `${base}.b` : null, output: `${base}.y`, residual: residual ? `${base}.r` : null,
        });
        const agree = agreement(readF32(`${base}.y`), ref, tol);
        r.libs.torch = { check: agree, torchThreads: rep.threads };
        if (!agree.ok) {
          r.libs.torch.error = `PyTorch output differs from simdconv's: max |diff| ${agree.maxDiff.toExponential(2)} > tol ${tol.toExponential(2)}`;
          log(`  ${c.name} @${t}: ${r.libs.torch.error}`);
        } else {
          libs.push({ name: 'torch', run: async (k) => (await torch.request({ cmd: 'time', iters: k })).seconds });
        }
      } catch (err) {
        r.libs.torch = { error: `PyTorch failed: ${err.message}` };
        log(`  ${c.name} @${t}: ${r.libs.torch.error}`);
      }
    }

    const pids = [process.pid, ...(torch && torch.proc.pid ? [torch.proc.pid] : [])];
    if (opts.waitIdle > 0) {
      r.waitIdle = await waitIdle(pids, ctx.cores, t, opts.waitIdle);
      if (r.waitIdle.gaveUp) log(`  (machine still busy after ${opts.waitIdle} s: other load ${r.waitIdle.load.toFixed(2)} cores; measuring anyway)`);
    }
    // calibrate: calls per sample so that one sample lasts ~targetS
    const targetS = opts.quick ? 0.015 : 0.04;
    for (const lib of libs) {
      const one = await calibrate(lib, targetS, opts.quick ? 2 : 3);
      lib.batch = Math.max(1, Math.round(targetS / one));
      lib.samples = [];
      lib.estimate = one;
      sleepSync(5);
    }
    // rounds: fewer for slow cases (keeps the whole suite to minutes), at least 5
    const cpu0 = cpuSnapshot(pids);
    let rounds = opts.rounds || (opts.quick ? 5 : 15);
    const perRound = libs.reduce((a, l) => a + l.batch * l.estimate, 0);
    const budget = opts.quick ? 5 : 25;
    if (!opts.rounds && rounds * perRound > budget) rounds = Math.max(5, Math.floor(budget / perRound));
    for (let round = 0; round < rounds; round++) {
      for (let j = 0; j < libs.length; j++) {
        const lib = libs[(round + j) % libs.length];
        lib.samples.push((await lib.run(lib.batch)) / lib.batch);
        sleepSync(GAP_MS); // let the previous library's spinning pool threads go to sleep
      }
    }
    r.otherLoad = otherLoad(cpu0, cpuSnapshot(pids), ctx.cores);
    for (const lib of libs) {
      const med = median(lib.samples);
      r.libs[lib.name] = {
        ...(r.libs[lib.name] || {}),
        seconds: med, gflops: gflop / med, batch: lib.batch, rounds,
        samples: lib.samples,
        iqr: (quantile(lib.samples, 0.75) - quantile(lib.samples, 0.25)) / med,
      };
    }
    if (sink.data.length !== out.data.length) throw new Error(`${c.name}: forward(x) returned ${sink.data.length} elements`);
    const s = r.libs.simdconv;
    if (r.libs.ort && r.libs.ort.seconds) s.vsOrt = r.libs.ort.seconds / s.seconds;
    if (r.libs.torch && r.libs.torch.seconds) s.vsTorch = r.libs.torch.seconds / s.seconds;
    const peerSeconds = ['ort', 'torch'].map((l) => r.libs[l] && r.libs[l].seconds).filter(Boolean);
    if (peerSeconds.length) s.vsBest = Math.min(...peerSeconds) / s.seconds;
    if (session) await session.release();
    const f = (l) => (r.libs[l] && r.libs[l].gflops ? r.libs[l].gflops.toFixed(1) : '-');
    log(`  ${c.name.padEnd(16)} ${t} thr: simdconv ${f('simdconv')} (out= ${f('simdconv_out')})  ort ${f('ort')}  torch ${f('torch')} GFLOP/s` +
      `  (${rounds} rounds${r.otherLoad != null ? `, other load ${r.otherLoad.toFixed(2)} cores` : ''})`);
  }
  for (const ext of ['x', 'w', 'b', 'y', 'r']) fs.rmSync(`${base}.${ext}`, { force: true });
  return result;
}

/**
 * Rows measured while other processes held cores this row needed: once more,
 * after waiting longer for the machine; keeps the quieter of the two.
 */
async function retryBusyRows(c, result, ctx, threads) {
  const { opts, cores } = ctx;
  if (!(opts.waitIdle > 0)) return result;
  const busy = (row, t) => row && row.otherLoad != null && row.otherLoad > cores - t + 0.25;
  const retry = { ...ctx, opts: { ...opts, waitIdle: 2 * opts.waitIdle } };
  for (const t of threads) {
    const old = result.byThreads[t];
    if (!busy(old, t)) continue;
    log(`${c.name} @${t}: measured under ${old.otherLoad.toFixed(2)} cores of other load; once more`);
    const again = (await benchCase(c, retry, [t])).byThreads[t];
    const keep = again.otherLoad != null && again.otherLoad < old.otherLoad ? again : old;
    keep.retried = true;
    result.byThreads[t] = keep;
  }
  return result;
}

// ---------------------------------------------------------------- report
function fmt(v, d = 1) {
  return v === undefined || v === null || Number.isNaN(v) ? '—' : v.toFixed(d);
}

function summary(results, threads) {
  const out = {};
  for (const t of threads) {
    const vsOrt = [], vsTorch = [], vsBest = [], roof = [], behind = [];
    for (const r of results) {
      const s = r.byThreads[t] && r.byThreads[t].libs.simdconv;
      if (!s) continue;
      if (s.vsOrt) vsOrt.push(s.vsOrt);
      if (s.vsTorch) vsTorch.push(s.vsTorch);
      if (s.vsBest) vsBest.push(s.vsBest);
      if (s.vsBest && s.vsBest < 1) behind.push(`${r.case} ${s.vsBest.toFixed(2)}x`);
      if (s.roofPct) roof.push(s.roofPct);
    }
    out[t] = {
      geomeanVsOrt: geomean(vsOrt), nOrt: vsOrt.length,
      geomeanVsTorch: geomean(vsTorch), nTorch: vsTorch.length,
      geomeanVsBest: geomean(vsBest), nBest: vsBest.length, behindBest: behind,
      geomeanRoofPct: geomean(roof),
    };
  }
  return out;
}

const COLUMNS_NOTE = "'simdconv ms' and 'simdconv GFLOP/s': forward(x), a fresh output tensor each call, the way users " +
  "call it (the ratios use it); 'simdconv out= GFLOP/s': forward(x, { out }) into a preallocated output (as ONNX Runtime " +
  "is timed); '% roof' is forward(x)'s; 'vs better peer' = the faster of ONNX Runtime and PyTorch over simdconv forward(x).";

function table(results, t, hasTorch, md) {
  const head = ['case', 'shape', 'GFLOP', 'simdconv ms', 'simdconv GFLOP/s', 'simdconv out= GFLOP/s', '% roof',
    'ORT GFLOP/s', 'simdconv/ORT'];
  if (hasTorch) head.push('torch GFLOP/s', 'simdconv/torch');
  head.push('vs better peer', 'noise ±', 'other load', 'simdconv path');
  const rows = results.map((r) => {
    const L = r.byThreads[t].libs;
    const s = L.simdconv || {};
    const peer = (l) => (L[l] && L[l].error ? 'FAILED' : fmt(L[l] && L[l].gflops));
    const row = [r.case, r.shape, fmt(r.gflop, 3), fmt(s.seconds * 1e3, 3), fmt(s.gflops), fmt(L.simdconv_out && L.simdconv_out.gflops),
      fmt(s.roofPct), peer('ort'), s.vsOrt ? `${fmt(s.vsOrt, 2)}x` : '—'];
    if (hasTorch) row.push(peer('torch'), s.vsTorch ? `${fmt(s.vsTorch, 2)}x` : '—');
    row.push(s.vsBest ? `${fmt(s.vsBest, 2)}x` : '—');
    const iqr = Math.max(...Object.values(L).map((v) => v.iqr || 0));
    const other = r.byThreads[t].otherLoad;
    row.push(`±${fmt(50 * iqr, 0)}%`, other == null ? '—' : other.toFixed(2), r.byThreads[t].algorithm || '');
    return row;
  });
  // the path column: left-aligned in markdown, right in text (as before)
  return grid(head, rows, md, (i) => i < 2 || (md && i === head.length - 1)).join('\n');
}

function report(all, md) {
  const { machine: m, roof, results, threads, summary: sum, torchInfo, eventLoop, rss, options } = all;
  const L = [];
  const h = (s) => L.push(md ? `### ${s}\n` : `== ${s}`);
  const p = (s) => L.push(s);
  p(`${md ? '**' : ''}Measured on commit ${m.commit}, ${m.date}${md ? '**' : ''}, with \`${all.command}\`, ` +
    `${m.cores} cores of ${m.cpu}.`);
  p('');
  h('Machine and setup');
  const kv = [
    ['measured on', `commit ${m.commit}, ${m.date}`],
    ['command', all.command],
    ['CPU', `${m.cpu}${m.cpuFamily ? ` (${m.cpuFamily})` : ''}, ${m.cores} cores` +
      `${m.threadsPerCore ? `, ${m.threadsPerCore} thread(s) per core` : ''}${m.hypervisor ? `, ${m.hypervisor} VM` : ''}; ${m.flags.join(' ')}`],
    ['OS / memory', `${m.os}, ${m.memGiB} GiB`],
    ['Node.js', m.node],
    ['simdconv', `${m.simdconv}, ISA ${m.backend.isa} (supported: ${m.backend.supportedIsas.join(', ')})`],
    ['ONNX Runtime', all.ortNote ? all.ortNote : m.ort ? `onnxruntime-node ${m.ort} (CPU EP, intraOpNumThreads = threads, interOpNumThreads 1, graphOptimizationLevel all, sequential; preallocated output)` : 'not installed'],
    ['PyTorch', torchInfo.version ? `${torchInfo.version} (${torchInfo.python}${torchInfo.parallel ? `, ${torchInfo.parallel}` : ''}${torchInfo.mkldnn ? ', oneDNN' : ''}; torch.set_num_threads = threads; allocates its output)` : torchInfo.note],
    ['GLIBC_TUNABLES', m.glibcTunables],
    ['FMA roof', roof && roof.byThreads ? Object.entries(roof.byThreads).map(([t, r]) =>
      `${t} thr ${r.gflops.toFixed(0)} GFLOP/s ${r.isa}` + (r.fromPerCore ? ` (${t} x 1 thread; measured ${r.measured.toFixed(0)})` : '')).join('; ') +
      ` — native fmaRoof (cpp/src/fma_roof.cpp), best of repeats before and after the suite; 1 thread per ISA: ${
        Object.entries(roof.measured[1]).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}` : (roof ? roof.note : 'not measured')],
    ['timing', `median over rounds of seconds per call; ${options.quick ? 'quick: 5 rounds, ~15 ms samples' : 'up to 15 rounds (at least 5), ~40 ms samples'}` +
      `${options.networks ? `; network layers: ${options.rounds || (options.quick ? 3 : 7)} rounds` : ''}; libraries interleaved sample by sample. ` +
      "'noise ±': half the interquartile range of the samples over the median, worst library of the row; " +
      "'other load': cores' worth of CPU that other processes (and VM steal) used while the row was measured"],
  ];
  if (md) { p('| | |\n|---|---|'); for (const [k, v] of kv) p(`| ${k} | ${String(v).replace(/\|/g, '\\|')} |`); } else for (const [k, v] of kv) p(`${k.padEnd(15)} ${v}`);
  p('');
  if (results && results.length) {
    const hasTorch = results.some((r) => Object.values(r.byThreads).some((b) => b.libs.torch));
    p(COLUMNS_NOTE);
    p('');
    for (const t of threads) {
      h(`${t} thread${t > 1 ? 's' : ''}`);
      p(table(results, t, hasTorch, md));
      p('');
      const s = sum[t];
      p(`geomean simdconv/ORT at ${t} thread${t > 1 ? 's' : ''}: ${fmt(s.geomeanVsOrt, 2)}x over ${s.nOrt} cases` +
        (hasTorch ? `; simdconv/torch: ${fmt(s.geomeanVsTorch, 2)}x over ${s.nTorch} cases` : '') +
        (s.nBest ? `; simdconv/better peer: ${fmt(s.geomeanVsBest, 2)}x over ${s.nBest} cases` : '') +
        `; geomean % of roof: ${fmt(s.geomeanRoofPct)}` +
        (s.nBest ? `. Behind the better peer: ${s.behindBest.length ? s.behindBest.join(', ') : 'none'}` : ''));
      p('');
    }
    const failures = [];
    for (const r of results) for (const b of Object.values(r.byThreads)) for (const [lib, v] of Object.entries(b.libs))
      if (v.error) failures.push(`${r.case} @${b.threads} thr, ${lib}: ${v.error}`);
    for (const r of results) for (const b of Object.values(r.byThreads))
      if (b.libs.ort && b.libs.ort.check && !b.libs.ort.check.ok && b.libs.torch && b.libs.torch.check && !b.libs.torch.check.ok)
        failures.push(`${r.case} @${b.threads} thr: simdconv disagrees with both ONNX Runtime and PyTorch: most likely a simdconv bug`);
    if (failures.length) { h('Validation / peer failures'); for (const f of failures) p(`- ${f}`); p(''); }
    if (all.overhead) {
      const o = all.overhead.byThreads[1].libs;
      const us = (l) => (o[l] && o[l].seconds ? `${(o[l].seconds * 1e6).toFixed(1)} µs` : '—');
      p(`Per-call overhead (a 1x1x1x1 conv, 1 thread, median): simdconv forward(x) ${us('simdconv')}, ` +
        `forward(x, {out}) ${us('simdconv_out')}, ` +
        `ORT await session.run() ${us('ort')}${hasTorch ? `, PyTorch conv(x) ${us('torch')}` : ''}.`);
      p('');
    }
  }
  if (all.networks) {
    h('Whole networks (conv layers only; bench/networks.json)');
    p(require('./networks').format(all.networks, threads, md));
    p('');
  }
  if (eventLoop) {
    h('Event-loop delay during forwardAsync (bench/event-loop.js)');
    p(eventLoop.error ? `failed: ${eventLoop.error}` : require('./event-loop').format(eventLoop, md));
    p('');
  }
  if (rss) {
    h('Peak RSS, 1x64x512x512 3x3 conv, padding 1 (bench/peak-rss.js)');
    p(rss.error ? `failed: ${rss.error}` : require('./peak-rss').format(rss, md));
    p('');
  }
  return L.join('\n');
}

function runChild(script, args) {
  const r = spawnSync(process.execPath, [path.join(__dirname, script), '--json-stdout', ...args],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24, timeout: 600000 });
  if (r.error) return { error: r.error.message };
  if (r.status !== 0) return { error: `${script} exited with ${r.status}` };
  try { return JSON.parse(r.stdout); } catch { return { error: `${script}: unreadable output` }; }
}

// ---------------------------------------------------------------- main
async function main() {
  const opts = parseArgs(process.argv.slice(2));
  let simdconv;
  try {
    simdconv = require(ROOT);
  } catch (err) {
    console.error(`bench/run.js: cannot load simdconv from ${ROOT} (run \`npm run build\` first): ${err.message}`);
    process.exit(1);
  }
  const cores = os.availableParallelism ? os.availableParallelism() : os.cpus().length;
  const threads = opts.threads || [...new Set([1, cores])];
  const all = {
    command: `node bench/run.js ${process.argv.slice(2).join(' ')}`.trim(),
    options: opts, threads, machine: machineInfo(simdconv), torchInfo: {},
  };
  if (opts.suite || opts.networks) {
    let cases = [], networks = [];
    if (opts.suite) {
      cases = JSON.parse(fs.readFileSync(SUITE, 'utf8')).cases;
      if (opts.cases) {
        const unknown = opts.cases.filter((n) => !cases.some((c) => c.name === n));
        if (unknown.length) usage(`unknown case(s) ${unknown.join(', ')}; known: ${cases.map((c) => c.name).join(', ')}`);
        cases = cases.filter((c) => opts.cases.includes(c.name));
      }
      const problems = cases.map(caseProblem).filter(Boolean);
      if (problems.length) usage(`bench/suite.json: ${problems.join('; ')}`);
    }
    if (opts.networks) {
      const loaded = require('./networks').loadNetworks(opts.networks === true ? null : opts.networks);
      if (loaded.error) usage(loaded.error);
      networks = loaded.networks;
    }
    log(`measuring the FMA roof at ${threads.join(', ')} thread(s)...`);
    await waitIdle([process.pid], cores, cores, opts.waitIdle);
    const roofRepeats = opts.quick ? 3 : 8;
    all.roof = fmaRoofMeasure(simdconv, threads, roofRepeats);
    if (all.roof.note) log(all.roof.note);

    let ort = null;
    if (opts.ort) {
      try { ort = require('onnxruntime-node'); } catch (err) {
        // bench/node_modules (a clone: `npm run bench:setup`), or next to an installed simdconv
        all.ortNote = err.code === 'MODULE_NOT_FOUND' && /onnxruntime-node'/.test(err.message)
          ? 'ONNX Runtime column skipped: onnxruntime-node is not installed (in a clone of the repository: ' +
            '`npm run bench:setup`; next to an installed simdconv: `npm install onnxruntime-node`)'
          : `ONNX Runtime column skipped: ${err.message.split('\n')[0]}`;
        log(all.ortNote);
      }
    } else all.ortNote = 'ONNX Runtime column skipped (--no-ort)';
    let torch = null;
    if (opts.torch) {
      const found = findTorchPython();
      all.torchInfo = found;
      if (found.python) {
        torch = new TorchWorker(found.python);
        try {
          Object.assign(all.torchInfo, await torch.request({ cmd: 'info' }));
          all.torchInfo.version = all.torchInfo.torch;
        } catch (err) {
          all.torchInfo = { note: `PyTorch column skipped: ${err.message}` };
          torch.close();
          torch = null;
        }
      }
      if (!torch) log(all.torchInfo.note);
    } else all.torchInfo = { note: 'PyTorch column skipped (--no-torch)' };

    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'simdconv-bench-'));
    const ctx = { simdconv, ort, torch, opts, tmp, roof: all.roof, cores };
    all.results = [];
    try {
      if (opts.networks) {
        // the per-layer samples of a network are many: fewer rounds by default
        const netCtx = { ...ctx, opts: { ...opts, rounds: opts.rounds || (opts.quick ? 3 : 7) } };
        all.networks = await require('./networks').benchNetworks(networks, threads, async (c, th) => {
          log(`${c.name}: ${shapeLabel(c)}, ${gflopOf(c).toFixed(3)} GFLOP`);
          return retryBusyRows(c, await benchCase(c, netCtx, th), netCtx, th);
        }, log);
      }
      for (const c of cases) {
        log(`${c.name}: ${shapeLabel(c)}, ${gflopOf(c).toFixed(3)} GFLOP`);
        all.results.push(await benchCase(c, ctx, threads));
      }
      // Per-call overhead: a 1x1x1x1 conv, 1 thread (what a tiny layer costs beyond its FLOPs)
      if (opts.suite) {
        log('per-call overhead (1x1x1x1 conv, 1 thread)');
        all.overhead = await benchCase(OVERHEAD_CASE, { ...ctx, opts: { ...opts, waitIdle: 0 } }, [1]);
      }
      // at the end, so that the machine had time to become quiet
      for (const [i, c] of cases.entries()) await retryBusyRows(c, all.results[i], ctx, threads);
    } finally {
      if (torch) torch.close();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    simdconv.setNumThreads(cores);
    // the roof again: a core busy with other work only ever lowers it, keep the best
    await waitIdle([process.pid], cores, cores, opts.waitIdle);
    all.roof = mergeRoof(all.roof, fmaRoofMeasure(simdconv, threads, roofRepeats));
    all.roof.byThreads = roofByThreads(all.roof);
    if (all.roof.byThreads) {
      const layers = (all.networks || []).flatMap((n) => n.layers.map((l) => l.result));
      for (const r of [...all.results, ...layers]) for (const t of threads) {
        const s = r.byThreads[t].libs.simdconv;
        if (s && s.gflops) s.roofPct = (100 * s.gflops) / all.roof.byThreads[t].gflops;
      }
    }
    all.summary = summary(all.results, threads);
  }
  if (opts.eventLoop) {
    log('event-loop delay under forwardAsync...');
    all.eventLoop = runChild('event-loop.js', opts.quick ? ['--quick'] : []);
  }
  if (opts.rss) {
    log('peak RSS of a 1x64x512x512 conv...');
    all.rss = runChild('peak-rss.js', opts.quick ? ['--quick'] : []);
  }
  if (opts.json) fs.writeFileSync(opts.json, `${JSON.stringify(all, null, 1)}\n`);
  console.log(report(all, opts.markdown));
}

main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
