// forwardAsync in a server: concurrency gives the sequential results, a weight
// swap never mixes into a running call, inputs stay alive when JS drops them,
// abort rejects promptly, and the JS thread keeps running meanwhile.
'use strict';
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { simdconv, randomTensor } = require('./helpers');
const { Conv2d } = simdconv;

const same = (a, b) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

test('many concurrent calls on one and on different layers equal sequential calls', async () => {
  const layers = [new Conv2d(8, 16, 3, { padding: 1 }), new Conv2d(8, 8, 3, { groups: 8, paddingMode: 'reflect', padding: 1 }),
    new Conv2d(8, 12, [1, 5], { stride: 2, padding: [0, 2] })];
  const inputs = Array.from({ length: 12 }, (_, i) => randomTensor([2, 8, 20 + i, 17], i + 1));
  const jobs = [];
  for (const layer of layers) for (const x of inputs) jobs.push({ layer, x, want: layer.forward(x).data });
  const results = await Promise.all(jobs.map((j) => j.layer.forwardAsync(j.x)));
  results.forEach((r, i) => expect(same(r.data, jobs[i].want)).toBe(true));
});

test('loadStateDict while a call is in flight: that call sees the old weights, the next the new', async () => {
  const conv = new Conv2d(32, 32, 3, { padding: 1 });
  const x = randomTensor([4, 32, 48, 48], 9);
  const oldOut = conv.forward(x).data;
  const fresh = { weight: randomTensor([32, 32, 3, 3], 10), bias: randomTensor([32], 11) };
  const pending = [conv.forwardAsync(x), conv.forwardAsync(x)];
  conv.loadStateDict(fresh); // swaps while both calls are queued or running
  const newOut = conv.forward(x).data;
  expect(same(newOut, oldOut)).toBe(false);
  for (const r of await Promise.all(pending)) expect(same(r.data, oldOut)).toBe(true);
  expect(same((await conv.forwardAsync(x)).data, newOut)).toBe(true);
});

test('inputs and outputs stay alive for the whole native call when JS drops every reference', () => {
  // A child with --expose-gc: 30 calls whose tensors are only referenced by the
  // native side, with forced collections while they run.
  const script = `
    const s = require('.');
    const conv = new s.Conv2d(16, 16, 3, { padding: 1 });
    const make = (i) => { const d = new Float32Array(2 * 16 * 40 * 40); for (let k = 0; k < d.length; k++) d[k] = Math.sin(k * 0.01 + i); return new s.Tensor(d, [2, 16, 40, 40]); };
    const want = Array.from({ length: 30 }, (_, i) => conv.forward(make(i)).data);
    const calls = want.map((_, i) => conv.forwardAsync(make(i)));
    const timer = setInterval(() => global.gc(), 1);
    Promise.all(calls).then((outs) => {
      clearInterval(timer);
      const ok = outs.every((o, i) => Buffer.from(o.data.buffer).equals(Buffer.from(want[i].buffer)));
      console.log(ok ? 'ok' : 'MISMATCH');
    });`;
  const out = execFileSync(process.execPath, ['--expose-gc', '-e', script], { cwd: path.join(__dirname, '..') });
  expect(out.toString().trim()).toBe('ok');
});

describe('abort', () => {
  const conv = new Conv2d(64, 64, 3, { padding: 1 });
  const x = randomTensor([4, 64, 64, 64], 12);

  test('an already-aborted signal rejects with AbortError and does no work', async () => {
    const ac = new AbortController();
    ac.abort();
    const out = simdconv.Tensor.zeros([4, 64, 64, 64]);
    out.data.fill(7);
    const err = await conv.forwardAsync(x, { signal: ac.signal, out }).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('AbortError');
    expect(out.data.every((v) => v === 7)).toBe(true);
  });

  test('aborting a running call rejects with AbortError well before the work would finish', async () => {
    const t0 = performance.now();
    await conv.forwardAsync(x);
    const full = performance.now() - t0;
    const ac = new AbortController();
    const p = conv.forwardAsync(x, { signal: ac.signal });
    let abortedAt = 0;
    setTimeout(() => { abortedAt = performance.now(); ac.abort(); }, 0);
    const err = await p.catch((e) => e);
    expect(err.name).toBe('AbortError');
    // From abort() to rejection: only the work items already running finish.
    expect(performance.now() - abortedAt).toBeLessThan(full * 0.6);
  });

  test('aborting after completion changes nothing', async () => {
    const ac = new AbortController();
    const y = await conv.forwardAsync(x, { signal: ac.signal });
    ac.abort();
    expect(y.shape).toEqual([4, 64, 64, 64]);
  });
});

test('the JS thread keeps running while 8 large calls compute', async () => {
  const conv = new Conv2d(32, 32, 3, { padding: 1 });
  const x = randomTensor([2, 32, 96, 96], 13);
  let ticks = 0;
  let maxGap = 0, last = performance.now();
  const timer = setInterval(() => { const now = performance.now(); maxGap = Math.max(maxGap, now - last); last = now; ticks++; }, 2);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 8 }, () => conv.forwardAsync(x)));
  const elapsed = performance.now() - t0;
  clearInterval(timer);
  // The calls take far longer than one tick; the timer must have kept firing.
  expect(elapsed).toBeGreaterThan(40);
  expect(ticks).toBeGreaterThan(elapsed / 2 / 10);
  expect(maxGap).toBeLessThan(Math.max(200, elapsed / 2));
});

test("queued convolutions do not occupy libuv's threadpool (fs/crypto work still runs)", async () => {
  const crypto = require('node:crypto');
  // Each call takes milliseconds; a pbkdf2 of one iteration takes microseconds.
  const conv = new Conv2d(64, 64, 3, { padding: 1 });
  const x = randomTensor([4, 64, 96, 96], 14);
  let convsDone = 0;
  const convs = Array.from({ length: 8 }, () => conv.forwardAsync(x).then(() => { convsDone++; }));
  // pbkdf2 runs on the libuv threadpool (4 threads by default). If the 8 calls
  // held those threads, it could only start once one of them had finished.
  await new Promise((resolve, reject) => crypto.pbkdf2('pw', 'salt', 1, 32, 'sha256', (e) => (e ? reject(e) : resolve())));
  const convsDoneAtPbkdf2 = convsDone;
  await Promise.all(convs);
  expect(convsDoneAtPbkdf2).toBe(0);
  expect(convsDone).toBe(8);
});
