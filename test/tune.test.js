// conv.tune(inputShape): opt-in measured tuning. No timing is asserted: the
// tests check that the kept plan is the reported choice, that every
// candidate gives the reference's result and bitwise the same at 1, 2 and 3
// threads, that other shapes are unaffected, that new weights keep the
// choices, and that SIMDCONV_TUNE=1 tunes the first call of a shape.
'use strict';
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { simdconv, randomTensor, reference, compare, magnitudeBound } = require('./helpers');

const { Conv2d, Conv1d, getNumThreads, setNumThreads } = simdconv;

function expectReference(conv, x, got) {
  const { k, magnitude } = magnitudeBound(conv, x);
  expect(compare(got.data, reference(conv, x), k, magnitude)).toBeNull();
}

function sameBits(a, b) {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

describe('conv.tune', () => {
  const saved = getNumThreads();
  afterEach(() => setNumThreads(saved));

  const layers = [
    ['3x3 dense', () => new Conv2d(16, 12, 3, { padding: 1 }), [2, 16, 12, 11]],
    ['grouped 3x3 stride 2', () => new Conv2d(8, 8, 3, { padding: 1, stride: 2, groups: 2 }), [1, 8, 13, 10]],
    ['depthwise 5x5', () => new Conv2d(6, 6, 5, { padding: 2, groups: 6, paddingMode: 'reflect' }), [2, 6, 9, 9]],
    ['1x1', () => new Conv2d(10, 7, 1), [1, 10, 6, 5]],
  ];

  test.each(layers)('%s: the plan runs the reported choice, which matches the reference', (_, make, shape) => {
    const conv = make();
    setNumThreads(2);
    expect(conv.plan(shape).tuned).toBe(false);
    const r = conv.tune(shape, { repetitions: 2 });
    expect(r.threads).toBe(2);
    expect(r.candidates.length).toBeGreaterThanOrEqual(1);
    expect(new Set(r.candidates.map((c) => c.algorithm)).size).toBe(r.candidates.length);
    for (const c of r.candidates) expect(Number.isFinite(c.medianMs) && c.medianMs >= 0).toBe(true);
    expect(r.candidates.map((c) => c.algorithm)).toContain(r.chosen);
    const p = conv.plan(shape);
    expect(p.algorithm).toBe(r.chosen);
    expect(p.tuned).toBe(true);
    const x = randomTensor(shape, 11);
    expectReference(conv, x, conv.forward(x));
  });

  test.each(layers)('%s: each candidate, tuned alone, is correct and bitwise the same at 1, 2, 3 threads', async (_, make, shape) => {
    const conv = make();
    const x = randomTensor(shape, 12);
    const names = conv.tune(shape, { repetitions: 1 }).candidates.map((c) => c.algorithm);
    for (const name of names) {
      const outs = [];
      for (const t of [1, 2, 3]) {
        setNumThreads(t);
        // the plan cache keys on the thread count: tune at each one
        expect(conv.tune(shape, { repetitions: 1, algorithms: [name] }).chosen).toBe(name);
        expect(conv.plan(shape).algorithm).toBe(name);
        outs.push(conv.forward(x).data, (await conv.forwardAsync(x)).data);
      }
      expectReference(conv, x, { data: outs[0] });
      for (const o of outs) expect(sameBits(o, outs[0])).toBe(true);
    }
  });

  test('another shape, and another thread count of the tuned one, keep the planner\'s plan', () => {
    const conv = new Conv2d(16, 16, 3, { padding: 1 });
    const twin = new Conv2d(16, 16, 3, { padding: 1 });
    twin.weight = conv.weight;
    twin.bias = conv.bias;
    setNumThreads(2);
    const shape = [1, 16, 10, 10], other = [2, 16, 10, 10];
    // the candidate the planner does not pick, so that tuning is visible
    const alt = conv.tune(shape, { algorithms: [conv.backend.algorithm === 'im2col-gemm' ? 'direct' : 'im2col-gemm'] });
    expect(conv.plan(shape).algorithm).toBe(alt.chosen);
    expect(conv.plan(shape).algorithm).not.toBe(twin.plan(shape).algorithm);
    expect(conv.plan(other)).toEqual(twin.plan(other));
    setNumThreads(1);
    expect(conv.plan(shape)).toEqual(twin.plan(shape));
    const x = randomTensor(other, 13);
    expect(sameBits(conv.forward(x).data, twin.forward(x).data)).toBe(true);
  });

  test('replacing the weights (setter, loadStateDict) keeps the tuned choices', () => {
    const conv = new Conv2d(8, 8, 3, { padding: 1 });
    const shape = [1, 8, 9, 9];
    const alt = conv.backend.algorithm === 'im2col-gemm' ? 'direct' : 'im2col-gemm';
    expect(conv.tune(shape, { algorithms: [alt] }).chosen).toBe(alt);
    const x = randomTensor(shape, 14);
    conv.weight = randomTensor(conv.weight.shape, 15);
    expect(conv.plan(shape).algorithm).toBe(alt);
    expect(conv.plan(shape).tuned).toBe(true);
    expectReference(conv, x, conv.forward(x));
    conv.loadStateDict({ weight: randomTensor(conv.weight.shape, 16), bias: randomTensor([8], 17) });
    expect(conv.plan(shape).algorithm).toBe(alt);
    expectReference(conv, x, conv.forward(x));
  });

  test('Conv1d tunes its inner [N, C, 1, L] layer', () => {
    const conv = new Conv1d(4, 6, 5, { padding: 2 });
    const twin = new Conv1d(4, 6, 5, { padding: 2 });
    twin.weight = conv.weight;
    twin.bias = conv.bias;
    const r = conv.tune([2, 4, 30], { repetitions: 2 });
    expect(conv.plan([2, 4, 30]).algorithm).toBe(r.chosen);
    expect(conv.plan([4, 30]).tuned).toBe(false);  // batch 1 is another shape
    const x = randomTensor([2, 4, 30], 18);
    const k = 4 * 5, magnitude = 2 * (k + 1);  // |x|, |w|, |b| <= 1, two results' error
    expect(compare(conv.forward(x).data, twin.forward(x).data, k, magnitude)).toBeNull();
  });

  test('bad arguments name the argument', () => {
    const conv = new Conv2d(4, 4, 3);
    expect(() => conv.tune([1, 4, 5, 5], { repetitions: 0 })).toThrow(/Conv2d\.tune: repetitions/);
    expect(() => conv.tune([1, 4, 5, 5], { algorithms: ['fastest'] })).toThrow(/Conv2d\.tune: algorithms\[0\] is "fastest"/);
    expect(() => conv.tune([1, 4, 5, 5], { algorithms: [] })).toThrow(/algorithms must be a non-empty array/);
    expect(() => conv.tune([1, 4, 5, 5], { algorithms: ['depthwise-direct'] })).toThrow(/'depthwise-direct' does not apply/);
    expect(() => conv.tune([1, 4, 5, 5], { warmup: 1 })).toThrow(/Conv2d\.tune/);
    expect(() => conv.tune([1, 3, 5, 5])).toThrow(/Conv2d\.tune/);
    expect(() => conv.tune([0, 4, 5, 5])).toThrow(/batch must be at least 1/);
    expect(() => new Conv1d(2, 2, 3).tune([1, 2, 2])).toThrow(/Conv1d\.tune/);
    expect(conv.plan([1, 4, 5, 5]).tuned).toBe(false);
  });

  test('SIMDCONV_TUNE=1 tunes the first call of each new shape', () => {
    const script = `
      const s = require('.');
      const { randomArray } = require('./scripts/random');
      const conv = new s.Conv2d(8, 8, 3, { padding: 1 });
      const x = new s.Tensor(randomArray(2 * 8 * 7 * 7, 3), [2, 8, 7, 7]);
      const y = conv.forward(x);
      console.log(JSON.stringify({ tuned: conv.plan([2, 8, 7, 7]).tuned, out: Array.from(y.data),
        weight: Array.from(conv.weight.data), bias: Array.from(conv.bias.data) }));`;
    const root = path.join(__dirname, '..');
    const run = (env) => spawnSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env } });
    const on = run({ SIMDCONV_TUNE: '1' });
    expect(on.stderr).toBe('');
    const r = JSON.parse(on.stdout);
    expect(r.tuned).toBe(true);
    const conv = new Conv2d(8, 8, 3, { padding: 1 });
    conv.weight = new simdconv.Tensor(Float32Array.from(r.weight), conv.weight.shape);
    conv.bias = new simdconv.Tensor(Float32Array.from(r.bias), [8]);
    const x = randomTensor([2, 8, 7, 7], 3);
    expectReference(conv, x, { data: Float32Array.from(r.out) });
    const off = JSON.parse(run({ SIMDCONV_TUNE: '0' }).stdout);
    expect(off.tuned).toBe(false);
  });
});
