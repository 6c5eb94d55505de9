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

  test('aborting a running call rejects with AbortError and leaves out untouched', async () => {
    // The native work writes into memory of its own, copied into `out` only
    // by a call that resolves: an abort in the middle leaves `out` as it was.
    const big = new simdconv.Tensor(new Float32Array(16 * 64 * 64 * 64).fill(0.25), [16, 64, 64, 64]);
    const out = simdconv.Tensor.zeros([16, 64, 64, 64]);
    out.data.fill(NaN);
    const ac = new AbortController();
    const p = conv.forwardAsync(big, { signal: ac.signal, out });
    setTimeout(() => ac.abort(), 0);
    const err = await p.catch((e) => e);
    expect(err.name).toBe('AbortError');
    expect(out.data.every(Number.isNaN)).toBe(true);
  });

  test('an aborted call skips its work not yet started: a call queued behind it ends well before a full call would', async () => {
    // The runner is FIFO, so the small call's completion time bounds when the
    // aborted call's native work stopped. Compared with the same sequence
    // without the abort (same copies, same overheads), not with a fixed time;
    // retried, so that one stall on a loaded machine does not decide.
    const big = new simdconv.Tensor(new Float32Array(16 * 64 * 64 * 64).fill(0.25), [16, 64, 64, 64]);
    const small = randomTensor([1, 64, 4, 4], 14);
    const sequence = async (ac) => {
      const t0 = performance.now();
      const first = conv.forwardAsync(big, { signal: ac?.signal }).catch((e) => e);
      await new Promise((resolve) => setTimeout(resolve, 0)); // the big call has started
      ac?.abort();
      await conv.forwardAsync(small);
      return { ms: performance.now() - t0, first: await first };
    };
    let best = Infinity, full = 0;
    for (let attempt = 0; attempt < 3 && !(best < full / 2); attempt++) {
      full = Math.max(full, (await sequence(undefined)).ms);
      const r = await sequence(new AbortController());
      expect(r.first.name).toBe('AbortError');
      best = Math.min(best, r.ms);
    }
    expect(best).toBeLessThan(full / 2);
  });

  test('aborting after completion changes nothing', async () => {
    const ac = new AbortController();
    const y = await conv.forwardAsync(x, { signal: ac.signal });
    ac.abort();
    expect(y.shape).toEqual([4, 64, 64, 64]);
  });
});

test('the JS thread keeps running while large calls compute', async () => {
  // 128 output channels: much work per input byte, so the input snapshots
  // that submission takes on the JS thread are small next to the compute.
  const conv = new Conv2d(32, 128, 3, { padding: 1 });
  const x = randomTensor([2, 32, 96, 96], 13);
  // Enough calls to last about 100 synchronous call times' worth of 1 ms
  // timer ticks on this CPU, whatever its speed (calibrated, not assumed).
  let t0 = performance.now();
  conv.forward(x);
  const one = Math.max(performance.now() - t0, 0.01);
  const calls = Math.min(64, Math.max(4, Math.ceil(100 / one)));
  let ticks = 0, ticksInFlight = 0, pending = calls;
  // Each call snapshots its input on the JS thread (O(input), the price of
  // memory safety), so stalls are looked for from the end of submission on,
  // while the calls compute; the elapsed time is the caller's whole wait.
  t0 = performance.now();
  const all = Promise.all(Array.from({ length: calls }, () => conv.forwardAsync(x).then(() => { pending--; })));
  let maxGap = 0, last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
    ticks++;
    if (pending > 0) ticksInFlight++;
  }, 1);
  await all;
  const elapsed = performance.now() - t0;
  clearInterval(timer);
  // Had the calls run on the JS thread, no tick could fire before the last
  // of them settled; and no single stall may take most of the time.
  expect(ticksInFlight).toBeGreaterThanOrEqual(3);
  expect(maxGap).toBeLessThan(elapsed / 2);
});

test("queued convolutions do not occupy libuv's threadpool (fs/crypto work still runs)", () => {
  // In a child with a one-thread libuv pool: 8 calls are queued, then a
  // pbkdf2 (which runs on that pool). Had the calls taken libuv's thread,
  // FIFO order would make pbkdf2 finish after all 8 of them, on any CPU;
  // on the runner's own thread, it finishes while most are still pending.
  const script = `
    const s = require('.');
    const crypto = require('node:crypto');
    const conv = new s.Conv2d(64, 64, 3, { padding: 1 });
    const x = new s.Tensor(new Float32Array(4 * 64 * 96 * 96).fill(0.5), [4, 64, 96, 96]);
    let done = 0;
    const convs = Array.from({ length: 8 }, () => conv.forwardAsync(x).then(() => { done++; }));
    crypto.pbkdf2('pw', 'salt', 1, 32, 'sha256', (e) => {
      const atPbkdf2 = done;
      Promise.all(convs).then(() => console.log(JSON.stringify({ atPbkdf2, done, err: String(e) })));
    });`;
  const out = execFileSync(process.execPath, ['-e', script], {
    cwd: path.join(__dirname, '..'), env: { ...process.env, UV_THREADPOOL_SIZE: '1' },
  });
  const r = JSON.parse(out.toString());
  expect(r.err).toBe('null');
  expect(r.done).toBe(8);
  expect(r.atPbkdf2).toBeLessThan(8);
});
