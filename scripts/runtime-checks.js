// The checks that say "simdconv works in this JavaScript runtime", shared by
// scripts/test-bun.js and scripts/test-deno.mjs (and runnable in Node.js):
//
//   1. every case of test/fixtures/parity.json (PyTorch float32 outputs)
//      through the public API within the parity suite's tolerance
//      (4 eps (sqrt(K) + 2) x the per-element bound), and forwardAsync bitwise
//      equal to forward;
//      The conv family's fixtures likewise (check-family-fixtures.js);
//   2. abort() before a forwardAsync settles rejects it with an AbortError;
//   3. a worker_threads Worker loads the addon and computes the same conv
//      bitwise.
//
// Plain CommonJS with node: built-ins only, so Bun runs it directly and Deno
// loads it through createRequire.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { Worker } = require('node:worker_threads');

const ROOT = path.join(__dirname, '..');
const { sameBits, conv2dParity } = require('./parity-fixtures');

async function parity(s, fail, log) {
  const { passed, total } = await conv2dParity(s, fail);
  log(`parity: ${passed}/${total} PyTorch fixture cases within tolerance; forwardAsync == forward bitwise`);
}

async function abort(s, fail, log) {
  // fetch's semantics: abort() before the promise settles rejects it with an
  // AbortError, whether or not the native work had finished, so every one of
  // these calls must reject, on any CPU and in any runtime.
  const conv = new s.Conv2d(16, 16, 3, { padding: 1 });
  const x = new s.Tensor(new Float32Array(16 * 32 * 32).fill(1), [1, 16, 32, 32]);
  const want = await conv.forwardAsync(x);
  const n = 20;
  let rejected = 0;
  for (let i = 0; i < n; i++) {
    const ac = new AbortController();
    const p = conv.forwardAsync(x, { signal: ac.signal });
    ac.abort();
    const err = await p.then(() => null, (e) => e);
    if (err && err.name === 'AbortError') rejected++;
    else if (err) fail(`abort: rejected with ${err.name}: ${err.message}, expected an AbortError`);
  }
  if (rejected !== n) fail(`abort: ${n - rejected}/${n} calls aborted right after forwardAsync resolved anyway`);
  else log(`abort: ${n}/${n} calls aborted right after forwardAsync rejected with AbortError`);
  // the layer is still usable afterwards
  if (!sameBits((await conv.forwardAsync(x)).data, want.data)) fail('abort: the next forwardAsync differs from before');
}

function worker(s, fail, log) {
  const conv = new s.Conv2d(24, 20, 3, { padding: 1, paddingMode: 'reflect' });
  const x = new s.Tensor(Float32Array.from({ length: 2 * 24 * 21 * 25 }, (_, i) => Math.sin(i)), [2, 24, 21, 25]);
  const want = conv.forward(x).data;
  return new Promise((resolve) => {
    const w = new Worker(path.join(__dirname, 'runtime-worker.js'), {
      workerData: { root: ROOT, w: conv.weight.data, b: conv.bias.data, x: x.data },
    });
    let done = false;
    w.once('message', (got) => {
      done = true;
      if (!sameBits(got, want)) fail('worker: forward in a worker_threads Worker differs from the main thread');
      else log('worker_threads: the addon loads in a Worker; its forward equals the main thread\'s bitwise');
    });
    w.once('error', (e) => fail(`worker: ${e && e.message}`));
    w.once('exit', () => {
      if (!done) fail('worker: exited without a result');
      resolve();
    });
  });
}

/** Runs every check; resolves to the list of failures (empty: all passed). */
async function runChecks(label) {
  const failures = [];
  const fail = (msg) => { failures.push(msg); console.error(`FAIL: ${msg}`); };
  const log = (msg) => console.log(`${label}: ${msg}`);
  try {
    const s = require(ROOT);
    const b = s.backendInfo();
    log(`simdconv loaded: isa ${b.isa}, ${b.numThreads} threads (${b.threadsSource})`);
    await parity(s, fail, log);
    await require('./check-family-fixtures')({ simdconv: s, fail, quick: false });
    await abort(s, fail, log);
    await worker(s, fail, log);
  } catch (e) {
    fail(`uncaught: ${e && e.stack}`);
  }
  console.log(failures.length ? `${label}: ${failures.length} failure(s)` : `${label}: all checks passed`);
  return failures;
}

module.exports = { runChecks };

if (require.main === module) runChecks(`node ${process.version}`).then((f) => { process.exitCode = f.length ? 1 : 0; });
