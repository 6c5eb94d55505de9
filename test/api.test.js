// The public API beyond numerics: Tensor, PyTorch's repr and default init,
// loadStateDict, out, unbatched and empty batches, shapes, threads, and both
// module systems.
'use strict';
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { simdconv, randomTensor, reference, compare, magnitudeBound } = require('./helpers');
const { Conv2d, Tensor, conv2d, conv2dOutputShape, setNumThreads, getNumThreads } = simdconv;

describe('Tensor', () => {
  test('keeps the caller array and a copy of the shape', () => {
    const data = new Float32Array(6);
    const shape = [2, 3];
    const x = new Tensor(data, shape);
    expect(x.data).toBe(data);
    shape[0] = 99;
    expect(x.shape).toEqual([2, 3]);
  });
  test('zeros', () => {
    const z = Tensor.zeros([2, 0, 3]);
    expect(z.data.length).toBe(0);
    expect(Tensor.zeros([2, 3]).data).toEqual(new Float32Array(6));
  });
});

describe('Conv2d construction', () => {
  test.each([
    [[3, 64, 3, { padding: 1 }], 'Conv2d(3, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))'],
    [[16, 33, [3, 5], { stride: [2, 1], padding: [4, 2], dilation: [3, 1] }], 'Conv2d(16, 33, kernel_size=(3, 5), stride=(2, 1), padding=(4, 2), dilation=(3, 1))'],
    [[8, 8, 3, { groups: 8, bias: false, padding: 'same', paddingMode: 'reflect' }], 'Conv2d(8, 8, kernel_size=(3, 3), stride=(1, 1), padding=same, groups=8, bias=False, padding_mode=reflect)'],
    [[2, 4, 1, { padding: 'valid' }], 'Conv2d(2, 4, kernel_size=(1, 1), stride=(1, 1), padding=valid)'],
    [[2, 4, 2, { padding: 0, dilation: 1, groups: 1, paddingMode: 'zeros' }], 'Conv2d(2, 4, kernel_size=(2, 2), stride=(1, 1))'],
    [[2, 4, 2, { paddingMode: 'circular', padding: [0, 1] }], 'Conv2d(2, 4, kernel_size=(2, 2), stride=(1, 1), padding=(0, 1), padding_mode=circular)'],
  ])('repr of %j', (args, repr) => {
    expect(String(new Conv2d(...args))).toBe(repr);
  });

  test('fields as PyTorch normalises them', () => {
    const c = new Conv2d(4, 6, [3, 5], { stride: 2, padding: [1, 2], dilation: [1, 2], groups: 2, paddingMode: 'replicate' });
    expect([c.inChannels, c.outChannels, c.kernelSize, c.stride, c.padding, c.dilation, c.groups, c.paddingMode])
      .toEqual([4, 6, [3, 5], [2, 2], [1, 2], [1, 2], 2, 'replicate']);
    expect(c.weight.shape).toEqual([6, 2, 3, 5]);
    expect(c.bias.shape).toEqual([6]);
    expect(new Conv2d(4, 6, 3, { bias: false }).bias).toBeNull();
  });

  test("default init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias, as PyTorch's kaiming_uniform(a=sqrt(5))", () => {
    const c = new Conv2d(32, 64, 3, { groups: 2 }); // fan_in = 16*9 = 144 -> bound 1/12
    const bound = 1 / 12;
    const w = c.weight.data;
    let min = Infinity, max = -Infinity, sum = 0, sq = 0;
    for (const v of w) { min = Math.min(min, v); max = Math.max(max, v); sum += v; sq += v * v; }
    expect(max).toBeLessThanOrEqual(bound);
    expect(min).toBeGreaterThanOrEqual(-bound);
    expect(max).toBeGreaterThan(0.95 * bound); // 9216 samples fill the range
    expect(min).toBeLessThan(-0.95 * bound);
    expect(Math.abs(sum / w.length)).toBeLessThan(0.05 * bound);
    // Variance of U(-b, b) is b^2/3; the mean of 9216 squares has a standard
    // deviation of 0.31 % of b^2, so 10 % of b^2/3 is 10 sigma. (toBeCloseTo(..., 4),
    // an absolute 5e-5 = 2.3 sigma, failed 1 run in 50.)
    expect(Math.abs(sq / w.length - bound * bound / 3)).toBeLessThan(0.1 * bound * bound / 3);
    for (const v of c.bias.data) expect(Math.abs(v)).toBeLessThanOrEqual(bound);
    expect(new Set(c.bias.data).size).toBe(64);
  });
});

describe('forward', () => {
  test('unbatched (C, H, W) input gives (Cout, H, W) and the same numbers as N = 1', () => {
    const c = new Conv2d(3, 5, 3, { padding: 1 });
    const x = randomTensor([3, 7, 9], 11);
    const y = c.forward(x);
    expect(y.shape).toEqual([5, 7, 9]);
    expect(c.forward(new Tensor(x.data, [1, 3, 7, 9])).data).toEqual(y.data);
  });

  test('an empty batch gives an empty output, as in PyTorch', () => {
    const y = new Conv2d(3, 5, 3).forward(Tensor.zeros([0, 3, 7, 9]));
    expect(y.shape).toEqual([0, 5, 5, 7]);
  });

  test('out: writes into the caller tensor and returns it', async () => {
    const c = new Conv2d(3, 4, 3);
    const x = randomTensor([2, 3, 8, 8], 2);
    const out = new Tensor(new Float32Array(2 * 4 * 6 * 6).fill(NaN), [2, 4, 6, 6]);
    expect(c.forward(x, { out })).toBe(out);
    expect(out.data).toEqual(c.forward(x).data);
    out.data.fill(NaN);
    await expect(c.forwardAsync(x, { out })).resolves.toBe(out);
    expect(out.data).toEqual(c.forward(x).data);
  });

  test('weights from loadStateDict (with prefix) and from the setters are used', () => {
    const c = new Conv2d(4, 6, 3, { groups: 2, padding: 1 });
    const x = randomTensor([1, 4, 6, 6], 3);
    const w = randomTensor([6, 2, 3, 3], 4), b = randomTensor([6], 5);
    c.loadStateDict({ 'features.0.weight': w, 'features.0.bias': b, 'features.1.weight': randomTensor([1], 1) }, { prefix: 'features.0.' });
    expect(c.weight).toBe(w);
    expect(c.bias).toBe(b);
    const want = conv2d(x, w, b, { padding: 1, groups: 2 });
    expect(c.forward(x).data).toEqual(want.data);
    // in-place edits are packed when the tensor is assigned again
    w.data[0] += 1;
    c.weight = w;
    expect(c.forward(x).data).toEqual(conv2d(x, w, b, { padding: 1, groups: 2 }).data);
    c.bias = null;
    expect(String(c)).toContain('bias=False');
    expect(c.forward(x).data).toEqual(conv2d(x, w, null, { padding: 1, groups: 2 }).data);
  });

  test('matches the reference on a layer large enough for every blocking level', () => {
    const c = new Conv2d(96, 80, 3, { padding: 1 });
    const x = randomTensor([1, 96, 37, 41], 8);
    const worst = compare(c.forward(x).data, reference(c, x), ...Object.values(magnitudeBound(c, x)));
    expect(worst).toBeNull();
  });
});

describe('shapes, threads, module systems', () => {
  test('conv2dOutputShape follows the PyTorch formula', () => {
    expect(conv2dOutputShape([1, 3, 224, 224], [64, 3, 7, 7], { stride: 2, padding: 3 })).toEqual([1, 64, 112, 112]);
    expect(conv2dOutputShape([3, 10, 11], [4, 3, 2, 4], { padding: 'same', dilation: [1, 3] })).toEqual([4, 10, 11]);
    expect(conv2dOutputShape([2, 4, 9, 9], [8, 2, 3, 3], { groups: 2, stride: [2, 3], dilation: 2 })).toEqual([2, 8, 3, 2]);
  });

  test('setNumThreads / getNumThreads', () => {
    const saved = getNumThreads();
    setNumThreads(3);
    expect(getNumThreads()).toBe(3);
    setNumThreads(saved);
    expect(getNumThreads()).toBe(saved);
  });

  test('SIMDCONV_NUM_THREADS sets the default', () => {
    const out = execFileSync(process.execPath, ['-e', "console.log(require('.').getNumThreads())"],
      { cwd: path.join(__dirname, '..'), env: { ...process.env, SIMDCONV_NUM_THREADS: '5' } });
    expect(out.toString().trim()).toBe('5');
  });

  test('ESM import gives the same classes as require', () => {
    const script = "import { Conv2d, Tensor } from 'simdconv'; import cjs from 'simdconv'; import { createRequire } from 'node:module';" +
      "const req = createRequire(import.meta.url); const c = new Conv2d(1, 1, 1);" +
      "console.log(Conv2d === req('simdconv').Conv2d, cjs.Tensor === Tensor, c.forward(Tensor.zeros([1, 1, 2, 2])).shape.join('x'));";
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: path.join(__dirname, '..') });
    expect(out.toString().trim()).toBe('true true 1x1x2x2');
  });
});
