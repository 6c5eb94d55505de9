// worker_threads: the addon loads in several workers at once (context-aware,
// per-environment state) and their results match the main thread's.
'use strict';
const { Worker } = require('node:worker_threads');
const path = require('node:path');
const { simdconv, randomArray } = require('./helpers');

const workerSource = `
  const { parentPort, workerData } = require('node:worker_threads');
  const s = require(workerData.pkg);
  const { weight, bias, input, shape, opts } = workerData;
  const conv = new s.Conv2d(shape[1], bias.length, 3, opts);
  conv.loadStateDict({ weight: new s.Tensor(weight, conv.weight.shape), bias: new s.Tensor(bias, [bias.length]) });
  const x = new s.Tensor(input, shape);
  const sync = conv.forward(x).data;
  conv.forwardAsync(x).then((y) => parentPort.postMessage({ sync, async: y.data }));
`;

function runWorker(data) {
  return new Promise((resolve, reject) => {
    const w = new Worker(workerSource, { eval: true, workerData: data });
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (code) => { if (code !== 0) reject(new Error(`worker exited with ${code}`)); });
  });
}

test('4 workers run convolutions concurrently with the main thread\'s results', async () => {
  const pkg = path.join(__dirname, '..');
  const cases = [0, 1, 2, 3].map((i) => {
    const opts = { padding: 1, groups: i % 2 === 0 ? 1 : 4, paddingMode: ['zeros', 'reflect', 'replicate', 'circular'][i] };
    const cin = 8, cout = 12;
    return { pkg, opts, shape: [2, cin, 24 + i, 19], weight: randomArray(cout * (cin / opts.groups) * 9, i + 1), bias: randomArray(cout, i + 7), input: randomArray(2 * cin * (24 + i) * 19, i + 13) };
  });
  const results = await Promise.all(cases.map(runWorker));
  results.forEach((r, i) => {
    const c = cases[i];
    const conv = new simdconv.Conv2d(c.shape[1], 12, 3, c.opts);
    conv.loadStateDict({ weight: new simdconv.Tensor(c.weight, conv.weight.shape), bias: new simdconv.Tensor(c.bias, [12]) });
    const want = conv.forward(new simdconv.Tensor(c.input, c.shape)).data;
    expect(Array.from(r.sync)).toEqual(Array.from(want));
    expect(Array.from(r.async)).toEqual(Array.from(want));
  });
});

test('workers that exit and new ones keep working (cleanup on worker exit)', async () => {
  const pkg = path.join(__dirname, '..');
  for (let round = 0; round < 3; round++) {
    const data = { pkg, opts: { padding: 1, groups: 1 }, shape: [1, 4, 8, 8], weight: randomArray(4 * 4 * 9, round), bias: randomArray(4, 2), input: randomArray(256, 3) };
    const rs = await Promise.all([runWorker(data), runWorker(data)]);
    expect(Array.from(rs[0].sync)).toEqual(Array.from(rs[1].async));
  }
});

test('terminating a worker in the middle of forwardAsync cancels its work without crashing', async () => {
  const pkg = path.join(__dirname, '..');
  const src = `
    const { parentPort, workerData } = require('node:worker_threads');
    const s = require(workerData.pkg);
    const conv = new s.Conv2d(64, 64, 3, { padding: 1 });
    const x = new s.Tensor(new Float32Array(8 * 64 * 96 * 96).fill(0.5), [8, 64, 96, 96]);
    for (let i = 0; i < 4; i++) conv.forwardAsync(x);
    parentPort.postMessage('started');`;
  for (let round = 0; round < 3; round++) {
    const w = new Worker(src, { eval: true, workerData: { pkg } });
    await new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
    await w.terminate();
  }
  // The process is still healthy and computing.
  const conv = new simdconv.Conv2d(2, 2, 1);
  expect((await conv.forwardAsync(new simdconv.Tensor(new Float32Array(8).fill(1), [1, 2, 2, 2]))).shape).toEqual([1, 2, 2, 2]);
});
