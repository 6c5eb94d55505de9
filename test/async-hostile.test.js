// forwardAsync against a hostile caller: buffers detached (transferred) or
// resized while the native call runs, workers terminated mid-flight, signals
// whose properties throw, aborts right after the call. The memory-safety
// cases run in a child process: a crash fails the test instead of killing
// jest, and a promise left pending is seen when the child's event loop
// empties (no clock is read anywhere).
'use strict';
const { spawnSync } = require('node:child_process');
const { getEventListeners, setMaxListeners } = require('node:events');
const path = require('node:path');
const { simdconv, randomTensor } = require('./helpers');
const { Conv2d, Tensor } = simdconv;

const root = path.join(__dirname, '..');

/** Runs `script` in a child node; returns what it printed as JSON, or fails with how it died. */
function child(script, flags = []) {
  const r = spawnSync(process.execPath, [...flags, '-e', script], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0 || r.signal)
    throw new Error(`child died (status ${r.status}, signal ${r.signal}):\n${r.stderr.slice(-2000)}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

// Shared by the child scripts: one layer, a call in flight while `meddle`
// runs, and the outcome (never 'pending' once the event loop is empty).
const prelude = `
  const s = require('.');
  const { MessageChannel, receiveMessageOnPort } = require('node:worker_threads');
  const conv = new s.Conv2d(16, 16, 3, { padding: 1 });
  const shape = [2, 16, 64, 64];
  const size = shape.reduce((a, b) => a * b, 1);
  const input = () => new s.Tensor(new Float32Array(size).fill(0.5), shape);
  const outcomes = [];
  const settle = (p) => {
    const o = { state: 'pending' };
    outcomes.push(o);
    return p.then(() => { o.state = 'resolved'; }, (e) => { o.state = 'rejected'; o.name = e.name; o.message = e.message; });
  };
  const transfer = (buf) => new Float32Array(structuredClone(buf, { transfer: [buf] }));
  const post = (buf) => {
    const { port1, port2 } = new MessageChannel();
    port1.postMessage(buf, [buf]);
    const got = new Float32Array(receiveMessageOnPort(port2).message);
    port1.close();
    return got;
  };
  process.on('beforeExit', () => { if (!process.exitCode) { console.log(JSON.stringify(outcomes)); process.exitCode = 0; } });
`;

describe('buffers detached or resized during forwardAsync', () => {
  test('out transferred (structuredClone, postMessage) during the call: rejects naming out, the receiver is never written', () => {
    const r = child(`${prelude}
      const intact = [];
      (async () => {
        for (let i = 0; i < 10; i++) {
          const out = s.Tensor.zeros(shape);
          const p = settle(conv.forwardAsync(input(), { out }));
          const moved = (i % 2 ? post : transfer)(out.data.buffer);
          moved.fill(7);
          await p;
          intact.push(moved.every((v) => v === 7));
          global.gc();
        }
        outcomes.push({ intact });
      })();`, ['--expose-gc']);
    const { intact } = r.pop();
    expect(intact).toEqual(Array(10).fill(true));
    for (const o of r) {
      expect(o.state).toBe('rejected');
      expect(o.name).toBe('TypeError');
      expect(o.message).toMatch(/\bout\b.*detached/);
    }
  });

  test('out transferred and its receiver collected during the call: no crash, rejects', () => {
    const r = child(`${prelude}
      for (let i = 0; i < 10; i++) {
        const out = s.Tensor.zeros(shape);
        settle(conv.forwardAsync(input(), { out }));
        transfer(out.data.buffer); // dropped at once: its memory is freed by the next collection
        global.gc();
      }`, ['--expose-gc']);
    expect(r).toHaveLength(10);
    for (const o of r) expect(o).toMatchObject({ state: 'rejected', name: 'TypeError' });
  });

  test('input transferred during the call: rejects naming input', () => {
    const r = child(`${prelude}
      for (let i = 0; i < 10; i++) {
        const x = input();
        settle(conv.forwardAsync(x));
        (i % 2 ? post : transfer)(x.data.buffer).fill(NaN);
        global.gc();
      }`, ['--expose-gc']);
    expect(r).toHaveLength(10);
    for (const o of r) {
      expect(o).toMatchObject({ state: 'rejected', name: 'TypeError' });
      expect(o.message).toMatch(/\binput\b.*detached/);
    }
  });

  test('out over a resizable ArrayBuffer shrunk during the call: no crash, rejects naming out', () => {
    const r = child(`${prelude}
      for (let i = 0; i < 10; i++) {
        const rab = new ArrayBuffer(size * 4, { maxByteLength: size * 4 });
        const out = new s.Tensor(new Float32Array(rab), shape); // length-tracking view
        settle(conv.forwardAsync(input(), { out }));
        rab.resize(i % 2 ? 0 : 4096);
      }`);
    expect(r).toHaveLength(10);
    for (const o of r) {
      expect(o).toMatchObject({ state: 'rejected', name: 'RangeError' });
      expect(o.message).toMatch(/\bout\b.*resized/);
    }
  });

  test('input over a resizable ArrayBuffer shrunk during the call: no crash, rejects naming input', () => {
    const r = child(`${prelude}
      for (let i = 0; i < 10; i++) {
        const rab = new ArrayBuffer(size * 4, { maxByteLength: size * 4 });
        const x = new s.Tensor(new Float32Array(rab).fill(0.5), shape);
        settle(conv.forwardAsync(x));
        rab.resize(0);
      }`);
    expect(r).toHaveLength(10);
    for (const o of r) {
      expect(o).toMatchObject({ state: 'rejected', name: 'RangeError' });
      expect(o.message).toMatch(/\binput\b.*resized/);
    }
  });

  test('a resizable buffer left at its size, or resized and restored, gives the sync result', async () => {
    const conv = new Conv2d(4, 6, 3, { padding: 1 });
    const x = randomTensor([1, 4, 20, 20], 3);
    const want = conv.forward(x).data;
    const rab = new ArrayBuffer(want.length * 4, { maxByteLength: want.length * 8 });
    const out = new Tensor(new Float32Array(rab), [1, 6, 20, 20]);
    const p = conv.forwardAsync(x, { out });
    rab.resize(want.length * 8);
    rab.resize(want.length * 4);
    expect(await p).toBe(out);
    expect(Array.from(out.data)).toEqual(Array.from(want));
  });
});

test('terminating workers with forwardAsync calls in flight, 100 times, never crashes the process', () => {
  // Each worker keeps 4 chains of small calls going (a job finishes and the
  // next is submitted at once, so job memory is recycled), then is terminated
  // at a different point of its life each round.
  const r = child(`
    const { Worker } = require('node:worker_threads');
    const s = require('.');
    const src = \`
      const { parentPort } = require('node:worker_threads');
      const s = require(process.cwd());
      const conv = new s.Conv2d(4, 4, 3, { padding: 1 });
      const x = new s.Tensor(new Float32Array(4 * 12 * 12).fill(0.5), [1, 4, 12, 12]);
      let done = 0;
      const chain = () => conv.forwardAsync(x).then(() => { if (++done === 8) parentPort.postMessage('busy'); chain(); });
      for (let i = 0; i < 4; i++) chain();\`;
    (async () => {
      for (let i = 0; i < 100; i++) {
        const w = new Worker(src, { eval: true });
        if (i % 3 === 1) await new Promise((resolve) => w.once('online', resolve));
        if (i % 3 === 2) await new Promise((resolve) => w.once('message', resolve));
        await w.terminate();
      }
      const conv = new s.Conv2d(2, 2, 1);
      const y = await conv.forwardAsync(new s.Tensor(new Float32Array(8).fill(1), [1, 2, 2, 2]));
      console.log(JSON.stringify({ rounds: 100, shape: y.shape }));
    })();`);
  expect(r).toEqual({ rounds: 100, shape: [1, 2, 2, 2] });
});

describe('signals', () => {
  test('a hostile signal rejects (never a pending promise, never a crash)', () => {
    // Each signal passes the entry check, then throws from one place.
    const r = child(`${prelude}
      const small = new s.Conv2d(2, 2, 3, { padding: 1 });
      const x = new s.Tensor(new Float32Array(2 * 8 * 8).fill(1), [1, 2, 8, 8]);
      const base = () => ({ aborted: false, addEventListener() {}, removeEventListener() {} });
      const throwsAfter = (obj, key, reads) => {
        const v = obj[key];
        let n = 0;
        Object.defineProperty(obj, key, { get() { if (++n > reads) throw new Error('getter ' + key); return v; } });
        return obj;
      };
      const cases = {
        removeThrows: { ...base(), removeEventListener() { throw new Error('remove threw'); } },
        removeGetterThrowsAtCompletion: throwsAfter(base(), 'removeEventListener', 1),
        addThrows: { ...base(), addEventListener() { throw new Error('add threw'); } },
        abortedGetterThrows: throwsAfter(base(), 'aborted', 0),
        reasonGetterThrows: { aborted: false, addEventListener(t, f) { this.fire = f; }, removeEventListener() {},
          get reason() { throw new Error('reason threw'); } },
      };
      for (const [name, signal] of Object.entries(cases)) {
        settle(small.forwardAsync(x, { signal }));
        outcomes[outcomes.length - 1].case = name;
      }
      cases.reasonGetterThrows.aborted = true; // before any call can settle
      cases.reasonGetterThrows.fire();`);
    const byCase = Object.fromEntries(r.map((o) => [o.case, o]));
    expect(byCase.removeThrows).toMatchObject({ state: 'rejected', message: 'remove threw' });
    expect(byCase.removeGetterThrowsAtCompletion).toMatchObject({ state: 'rejected', message: 'getter removeEventListener' });
    expect(byCase.addThrows).toMatchObject({ state: 'rejected', message: 'add threw' });
    expect(byCase.abortedGetterThrows).toMatchObject({ state: 'rejected', message: 'getter aborted' });
    expect(byCase.reasonGetterThrows).toMatchObject({ state: 'rejected', name: 'AbortError' });
  });

  test('an exception thrown by the native completion callback surfaces as an uncaught exception', () => {
    const r = child(`
      const { native } = require('./dist/native');
      const params = { inChannels: 1, outChannels: 1, kernelH: 1, kernelW: 1, strideH: 1, strideW: 1, padTop: 0,
        padBottom: 0, padLeft: 0, padRight: 0, dilationH: 1, dilationW: 1, groups: 1, padMode: 0 };
      const layer = new native.Layer(params, new Float32Array([2]), null);
      const seen = [];
      process.on('uncaughtException', (e) => seen.push(e.message));
      layer.forwardAsync(new Float32Array(4), 1, 2, 2, new Float32Array(4), null, () => { throw new Error('callback threw'); });
      process.on('beforeExit', () => { if (!process.exitCode) { console.log(JSON.stringify(seen)); process.exitCode = 0; } });`);
    expect(r).toEqual(['callback threw']);
  });

  test('abort() right after forwardAsync on a small layer, before or after its native work ends: all 200 calls reject with AbortError, out untouched', async () => {
    const conv = new Conv2d(2, 2, 3, { padding: 1 });
    const x = randomTensor([1, 2, 6, 6], 4);
    const sleeper = new Int32Array(new SharedArrayBuffer(4));
    const calls = [];
    const outs = [];
    for (let i = 0; i < 200; i++) {
      const ac = new AbortController();
      const out = new Tensor(new Float32Array(72).fill(NaN), [1, 2, 6, 6]);
      outs.push(out);
      calls.push(conv.forwardAsync(x, { signal: ac.signal, out }).then(() => 'resolved', (e) => e.name));
      // Every other call: the JS thread sleeps 1 ms first, so the native work
      // has usually finished; the promise still cannot have settled.
      if (i % 2) Atomics.wait(sleeper, 0, 0, 1);
      ac.abort();
    }
    const results = await Promise.all(calls);
    expect(results.filter((v) => v !== 'AbortError')).toEqual([]);
    // and nothing is written into out after the rejection (the calls' native work may still finish)
    await conv.forwardAsync(x); // FIFO: every earlier job has been delivered
    expect(outs.every((o) => o.data.every(Number.isNaN))).toBe(true);
  });

  test('the default abort reason rejects with an Error named AbortError; a custom one becomes its cause', async () => {
    const conv = new Conv2d(2, 2, 3, { padding: 1 });
    const x = randomTensor([1, 2, 6, 6], 5);
    const a = new AbortController();
    const pa = conv.forwardAsync(x, { signal: a.signal }).catch((e) => e);
    a.abort();
    const ea = await pa;
    expect(ea).toBeInstanceOf(Error);
    expect(ea.name).toBe('AbortError');
    expect(ea.cause).toBe(a.signal.reason);
    const b = new AbortController();
    const pb = conv.forwardAsync(x, { signal: b.signal }).catch((e) => e);
    b.abort('shutting down');
    const eb = await pb;
    expect(eb.name).toBe('AbortError');
    expect(eb.cause).toBe('shutting down');
  });

  test('one long-lived signal over 500 calls keeps no listener once they settle', async () => {
    const conv = new Conv2d(2, 2, 3, { padding: 1 });
    const x = randomTensor([1, 2, 6, 6], 6);
    const ac = new AbortController();
    setMaxListeners(200, ac.signal); // 100 at once is the point here, not a leak
    for (let i = 0; i < 400; i++) await conv.forwardAsync(x, { signal: ac.signal });
    const pending = Array.from({ length: 100 }, () => conv.forwardAsync(x, { signal: ac.signal }));
    expect(getEventListeners(ac.signal, 'abort').length).toBe(100);
    await Promise.all(pending);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  });
});
