#!/usr/bin/env node
// Load check for a prebuilt addon, run in the Node.js of the prebuild's own
// platform: an arm64 Node.js under qemu-aarch64 (scripts/build-arm64-prebuild.sh),
// the Windows node.exe under Wine (scripts/test-win32-prebuild.sh), or the host's.
//
//   <node> scripts/test-prebuild-node.js [--quick] [--expect-isa=NAME]
//
// 1. The package (dist/, built by `npm run build:ts`) loads
//    prebuilds/<platform>-<arch>/node.napi[.glibc].node through node-gyp-build
//    (PREBUILDS_ONLY, so a host build/Release/ is never picked up) and reports the
//    expected ISA: --expect-isa, else neon on arm64 and the best supported one on
//    x64; scalar under SIMDCONV_MAX_ISA=scalar.
// 2. Every case of test/fixtures/parity.json (PyTorch float32 outputs) is run
//    through the public API (Conv2d.forward / forwardAsync, functional conv2d)
//    and must match within the parity suite's tolerance; forwardAsync must agree
//    with forward bit for bit.
//    The conv family's fixtures (test/fixtures/family.json) likewise, through
//    scripts/check-family-fixtures.js.
// 3. Random layers (tile edges, groups, depthwise, every padding mode) against
//    the addon's double-precision reference; 1 vs 3 threads bitwise identical;
//    a forward inside a worker_thread equals the main thread's bit for bit;
//    forwardAsync with an aborted signal, and one aborted while queued, reject
//    with AbortError and leave the output untouched.
// --quick runs (2) on every 4th parity case only and fewer random layers.
// Exits 1 on any failure. Timings under emulation mean nothing and are not printed.
'use strict';
const fs = require('fs');
const path = require('path');
const { Worker } = require('worker_threads');

process.env.PREBUILDS_ONLY = '1'; // read by node-gyp-build when first required
const ROOT = path.join(__dirname, '..');
const quick = process.argv.includes('--quick');
const failures = [];
const fail = (msg) => { failures.push(msg); console.error(`FAIL: ${msg}`); };

if (!fs.existsSync(path.join(ROOT, 'dist', 'index.js'))) {
  console.error('dist/index.js missing: run `npm run build:ts` first');
  process.exit(1);
}

const resolved = require('node-gyp-build').resolve(ROOT);
const expectedFile = path.join(ROOT, 'prebuilds', `${process.platform}-${process.arch}`,
  process.platform === 'linux' ? 'node.napi.glibc.node' : 'node.napi.node');
if (path.resolve(resolved) !== expectedFile) fail(`node-gyp-build resolved ${resolved}, expected ${expectedFile}`);

const simdconv = require(ROOT);
const { Tensor, Conv2d, conv2d, setNumThreads, getNumThreads, backendInfo } = simdconv;
const { native } = require(path.join(ROOT, 'dist', 'native'));
const { makeGeometry, nativeParams } = require(path.join(ROOT, 'dist', 'geometry'));

const info = backendInfo();
const cap = process.env.SIMDCONV_MAX_ISA;
const expectIsa = (process.argv.find((a) => a.startsWith('--expect-isa=')) || '').slice('--expect-isa='.length);
const wantIsa = cap === 'scalar' ? 'scalar'
  : expectIsa || (process.arch === 'arm64' ? 'neon' : info.supportedIsas[info.supportedIsas.length - 1]);
console.log(`node ${process.version} (${process.arch}, Node-API ${process.versions.napi}); addon ${path.relative(ROOT, resolved)}`);
console.log(`backendInfo: isa=${info.isa} supported=[${info.supportedIsas.join(', ')}] threads=${info.numThreads}`);
if (info.isa !== wantIsa) fail(`active ISA is ${info.isa}, expected ${wantIsa}${cap ? ` (SIMDCONV_MAX_ISA=${cap})` : ''}`);
for (const isa of ['scalar', ...(process.arch === 'arm64' ? ['neon'] : [])])
  if (!info.supportedIsas.includes(isa)) fail(`supportedIsas lacks ${isa}`);

// ---- 2. PyTorch parity fixtures ---------------------------------------------
const { EPS32, sameBits, conv2dParity } = require('./parity-fixtures');

async function parity() {
  const { passed, total, elements } = await conv2dParity(simdconv, fail, { quick });
  console.log(`parity: ${passed}/${total} PyTorch fixture cases within tolerance (${elements} output elements)`);
}

// ---- 3. random layers against the double-precision reference ------------------
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const randArray = (n, r) => Float32Array.from({ length: n }, () => r() * 2 - 1);

function referenceOut(conv, input) {
  const g = makeGeometry('reference', conv.inChannels, conv.outChannels, conv.kernelSize, {
    stride: conv.stride, padding: conv.padding, dilation: conv.dilation, groups: conv.groups,
    paddingMode: conv.paddingMode,
  });
  const [n, , h, w] = input.shape;
  const [oh, ow] = native.outputSize(nativeParams(g), n, h, w);
  const out = new Float32Array(n * conv.outChannels * oh * ow);
  native.referenceConv2d(nativeParams(g), input.data, n, h, w, conv.weight.data,
    conv.bias ? conv.bias.data : null, out);
  return out;
}

function randomLayers() {
  const r = rng(7);
  const pick = (lo, hi) => lo + Math.floor(r() * (hi - lo + 1));
  const modes = ['zeros', 'reflect', 'replicate', 'circular'];
  const count = quick ? 15 : 60;
  let done = 0;
  for (let t = 0; done < count && t < count * 20; t++) {
    const kind = pick(0, 5);
    const groups = kind < 3 ? 1 : kind < 4 ? pick(2, 3) : 0;
    let cin, cout, g;
    if (groups === 0) { cin = pick(1, 12); g = cin; cout = cin * pick(1, 2); }   // depthwise
    else { g = groups; cin = g * pick(1, 20); cout = g * pick(1, 26); }         // crosses 8-row panels
    const k = [pick(1, 4), pick(1, 4)];
    const opts = { stride: [pick(1, 2), pick(1, 2)], dilation: [pick(1, 2), pick(1, 2)],
      padding: [pick(0, 2), pick(0, 2)], groups: g, bias: r() < 0.5, paddingMode: modes[pick(0, 3)] };
    const shape = [pick(1, 2), cin, pick(1, 17), pick(1, 29)];                 // widths around 12-pixel tiles
    let conv, out;
    const input = new Tensor(randArray(shape.reduce((a, b) => a * b, 1), r), shape);
    try {
      conv = new Conv2d(cin, cout, k, opts);
      out = conv.forward(input);
    } catch (e) {
      if (e instanceof RangeError) continue;  // an invalid draw (e.g. reflect pad >= size): draw again
      throw e;
    }
    const want = referenceOut(conv, input);
    const K = (cin / g) * k[0] * k[1];
    let maxW = 0;  // |x| <= 1: each output's terms sum to at most sum|w| + |b| of its channel
    for (let oc = 0; oc < cout; oc++) {
      let s = conv.bias ? Math.abs(conv.bias.data[oc]) : 0;
      for (let i = 0; i < K; i++) s += Math.abs(conv.weight.data[oc * K + i]);
      maxW = Math.max(maxW, s);
    }
    const tol = 4 * EPS32 * (Math.sqrt(K) + 2) * maxW;
    let bad = 0;
    for (let i = 0; i < want.length; i++) if (!(Math.abs(out.data[i] - want[i]) <= tol)) bad++;
    if (bad) fail(`random layer ${conv} input [${shape}]: ${bad}/${want.length} elements off the reference`);
    done++;
  }
  console.log(`random layers: ${done} checked against the native double-precision reference`);
}

function threadsAndWorker() {
  const r = rng(99);
  const conv = new Conv2d(24, 20, 3, { padding: 1, paddingMode: 'reflect' });
  const input = new Tensor(randArray(2 * 24 * 21 * 25, r), [2, 24, 21, 25]);
  const saved = getNumThreads();
  setNumThreads(1);
  const one = conv.forward(input);
  setNumThreads(3);
  const three = conv.forward(input);
  setNumThreads(saved);
  if (!sameBits(one.data, three.data)) fail('1 vs 3 threads differ');
  else console.log('threads: 1 and 3 threads bitwise identical');

  const code = `
    process.env.PREBUILDS_ONLY = '1';
    const { parentPort, workerData } = require('worker_threads');
    const { Tensor, Conv2d } = require(workerData.root);
    const conv = new Conv2d(24, 20, 3, { padding: 1, paddingMode: 'reflect' });
    conv.loadStateDict({ weight: new Tensor(workerData.w, [20, 24, 3, 3]), bias: new Tensor(workerData.b, [20]) });
    const out = conv.forward(new Tensor(workerData.x, [2, 24, 21, 25]));
    parentPort.postMessage(out.data);`;
  return new Promise((resolve) => {
    const worker = new Worker(code, { eval: true, workerData: {
      root: ROOT, w: conv.weight.data, b: conv.bias.data, x: input.data } });
    worker.once('message', (data) => {
      if (!sameBits(data, one.data)) fail('forward in a worker_thread differs from the main thread');
      else console.log('worker_threads: the addon loads in a worker; forward bitwise identical');
    });
    worker.once('error', (e) => fail(`worker: ${e && e.message}`));
    worker.once('exit', () => resolve());
  });
}

// forwardAsync's AbortSignal: a call whose signal is already aborted, and one
// aborted while it waits behind a large call (async calls run one at a time, so
// it has not started), both reject with AbortError and never write the output.
async function abortChecks() {
  const r = rng(5);
  const conv = new Conv2d(32, 32, 3, { padding: 1 });
  const input = new Tensor(randArray(2 * 32 * 40 * 40, r), [2, 32, 40, 40]);
  const big = new Tensor(randArray(4 * 32 * 96 * 96, r), [4, 32, 96, 96]);
  let ok = 0;
  for (const label of ['already aborted', 'aborted while queued']) {
    const ac = new AbortController();
    if (label === 'already aborted') ac.abort();
    const blocker = label === 'aborted while queued' ? conv.forwardAsync(big) : null;
    const out = Tensor.zeros([2, 32, 40, 40]);
    out.data.fill(7);
    const pending = conv.forwardAsync(input, { signal: ac.signal, out }).then(() => null, (e) => e);
    ac.abort();
    const err = await pending;
    if (blocker) await blocker;
    if (!err || err.name !== 'AbortError') fail(`abort (${label}): expected AbortError, got ${err ? err.name : 'a result'}`);
    else if (!out.data.every((v) => v === 7)) fail(`abort (${label}): the output was written`);
    else ok++;
  }
  console.log(`abort: ${ok}/2 forwardAsync calls with an aborted signal rejected with AbortError, output untouched`);
}

(async () => {
  try {
    await parity();
    await require('./check-family-fixtures')({ simdconv, fail, quick });
    randomLayers();
    await threadsAndWorker();
    await abortChecks();
  } catch (e) {
    fail(`uncaught: ${e && e.stack}`);
  }
  if (failures.length) {
    console.error(`test-prebuild-node: ${failures.length} failure(s)`);
    process.exit(1);
  }
  console.log(`test-prebuild-node: all checks passed (isa ${info.isa})`);
})();
