// ConvTranspose2d's argument handling beyond the PyTorch error fixtures
// (test/transpose.test.js): default init, options, loadStateDict, setters,
// activation and residual misuse, device/dtype, outputSize forms, forwardAsync's
// rejections, plan(), and the binding's own checks when TypeScript is skipped.
'use strict';
const { simdconv, native, randomTensor } = require('./helpers');
const { Tensor, ConvTranspose2d, convTranspose2d, convTranspose2dOutputShape } = simdconv;

const t = (shape, seed = 3) => randomTensor(shape, seed);

describe('construction', () => {
  test("default init: kaiming_uniform(a=sqrt 5) with fan_in from weight dimension 1 (out/groups x kH x kW)", () => {
    // fan_in = 2/1 * 1 * 1 = 2: bound 1/sqrt(2). Conv2d's rule (in/groups = 64) would give 1/8.
    const conv = new ConvTranspose2d(64, 2, 1);
    expect(conv.weight.shape).toEqual([64, 2, 1, 1]);
    const maxW = conv.weight.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(maxW).toBeLessThanOrEqual(Math.fround(1 / Math.sqrt(2)));
    expect(maxW).toBeGreaterThan(1 / 8);
    const maxB = conv.bias.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(maxB).toBeLessThanOrEqual(Math.fround(1 / Math.sqrt(2)));
    // grouped: weight [in, out/groups, kH, kW], fan_in = 3 * 2 * 2 = 12
    const g = new ConvTranspose2d(4, 6, 2, { groups: 2 });
    expect(g.weight.shape).toEqual([4, 3, 2, 2]);
    expect(g.weight.data.every((v) => Math.abs(v) <= Math.fround(1 / Math.sqrt(12)))).toBe(true);
  });

  test('readonly fields as Conv2d, plus outputPadding', () => {
    const c = new ConvTranspose2d(4, 6, [3, 2], { stride: [2, 1], padding: 1, outputPadding: [1, 0], dilation: [1, 2], groups: 2 });
    expect([c.inChannels, c.outChannels, c.kernelSize, c.stride, c.padding, c.outputPadding, c.dilation, c.groups, c.paddingMode])
      .toEqual([4, 6, [3, 2], [2, 1], [1, 1], [1, 0], [1, 2], 2, 'zeros']);
    expect(String(c)).toBe('ConvTranspose2d(4, 6, kernel_size=(3, 2), stride=(2, 1), padding=(1, 1), dilation=(1, 2), ' +
      'output_padding=(1, 0), groups=2)');
  });

  test.each([
    [{ activation: { name: 'elu', alpha: NaN } }, RangeError, /^ConvTranspose2d: activation.alpha must be a finite float32 number, got NaN/],
    [{ output_padding: 1 }, TypeError, /unknown option 'output_padding' \(did you mean 'outputPadding'\?\)/],
    [{ padding: 'same' }, TypeError, /padding must be an integer or a pair/],
    [{ outputPadding: -1 }, RangeError, /outputPadding must be an integer in \[0/],
    [{ stride: 0 }, RangeError, /stride must be an integer in \[1/],
    [{ bias: 1 }, TypeError, /bias must be a boolean, got/],
    [{ device: 'cuda' }, TypeError, /^ConvTranspose2d: device 'cuda' is not supported/],
    [{ dtype: 'float64' }, TypeError, /^ConvTranspose2d: dtype 'float64' is not supported/],
    [{ paddingMode: 'circular' }, TypeError, /only 'zeros' paddingMode/],
  ])('%p is refused', (o, cls, message) => {
    expect(() => new ConvTranspose2d(2, 3, 3, o)).toThrow(cls);
    expect(() => new ConvTranspose2d(2, 3, 3, o)).toThrow(message);
  });

  test('device cpu / dtype float32 / null are accepted', () => {
    for (const o of [{ device: 'cpu' }, { device: null }, { dtype: 'float32' }, { dtype: null }])
      expect(new ConvTranspose2d(2, 3, 3, o).weight.data).toBeInstanceOf(Float32Array);
  });

  test('a layer PyTorch builds but cannot run (output padding too large) fails when called, as in PyTorch', () => {
    const c = new ConvTranspose2d(2, 3, 3, { outputPadding: 1 });
    expect(() => c.forward(t([1, 2, 4, 4]))).toThrow(/output padding must be smaller than either stride or dilation/);
    // with outputSize, PyTorch ignores the layer's output padding
    expect(c.forward(t([1, 2, 4, 4]), { outputSize: [6, 6] }).shape).toEqual([1, 3, 6, 6]);
  });
});

describe('parameters', () => {
  test('loadStateDict with prefix; errors name the key; a failure changes nothing', () => {
    const c = new ConvTranspose2d(2, 4, 3, { groups: 2 });
    const w = t([2, 2, 3, 3]), b = t([4]);
    c.loadStateDict({ 'up.weight': w, 'up.bias': b }, { prefix: 'up.' });
    expect(c.weight).toBe(w);
    expect(c.bias).toBe(b);
    expect(() => c.loadStateDict({ 'up.weight': t([4, 1, 3, 3]), 'up.bias': b }, { prefix: 'up.' }))
      .toThrow("ConvTranspose2d.loadStateDict: 'up.weight': expected weight of shape [2, 2, 3, 3], got [4, 1, 3, 3]");
    expect(() => c.loadStateDict({ weight: w })).toThrow(/missing key 'bias' \(this layer has a bias\)/);
    expect(() => c.loadStateDict({ w: w })).toThrow(/missing key 'weight'/);
    expect(c.weight).toBe(w);
    const nb = new ConvTranspose2d(2, 4, 3, { bias: false });
    expect(() => nb.loadStateDict({ weight: t([2, 4, 3, 3]), bias: t([4]) })).toThrow(/unexpected key 'bias'/);
  });

  test('setting weight and bias changes the output; bias = null removes it', () => {
    const c = new ConvTranspose2d(1, 1, 1, { stride: 2 });
    c.weight = new Tensor(Float32Array.of(2), [1, 1, 1, 1]);
    c.bias = new Tensor(Float32Array.of(0.5), [1]);
    const x = new Tensor(Float32Array.of(1, 3), [1, 1, 1, 2]);
    expect(Array.from(c.forward(x).data)).toEqual([2.5, 0.5, 6.5]);
    c.bias = null;
    expect(Array.from(c.forward(x).data)).toEqual([2, 0, 6]);
    c.weight.data[0] = 3; // in place, then assigned again to take effect
    c.weight = c.weight;
    expect(Array.from(c.forward(x).data)).toEqual([3, 0, 9]);
    expect(() => { c.weight = t([1, 2, 1, 1]); }).toThrow(/expected weight of shape \[1, 1, 1, 1\]/);
  });
});

describe('calls', () => {
  const c = new ConvTranspose2d(3, 2, 3, { stride: 2, padding: 1 });
  test('outputSize: 2 entries or the full shape; bad forms are errors', () => {
    const x = t([2, 3, 4, 4]);
    expect(c.forward(x, { outputSize: [8, 7] }).shape).toEqual([2, 2, 8, 7]);
    expect(c.forward(x, { outputSize: [2, 2, 8, 8] }).shape).toEqual([2, 2, 8, 8]);
    expect(() => c.forward(x, { outputSize: '8' })).toThrow(/outputSize must be an array of integers/);
    expect(() => c.forward(x, { outputSize: [8.5, 8] })).toThrow(/outputSize\[0\] must be an integer/);
    expect(() => c.forward(x, { output_size: [8, 8] })).toThrow(/did you mean 'outputSize'/);
    expect(() => c.forward(x, { residual: x })).toThrow(/^ConvTranspose2d.forward: residual has shape \[2, 3, 4, 4\], expected the output's shape \[2, 2, 7, 7\]/);
    expect(() => c.forward(x, { outputSize: [8, 8], residual: Tensor.zeros([2, 2, 7, 7]) })).toThrow(/residual has shape \[2, 2, 7, 7\], expected the output's shape \[2, 2, 8, 8\]/);
    expect(() => c.forward(x, { activation: 'relu' })).toThrow(/ConvTranspose2d.forward: unknown option 'activation'/);
  });

  test('out: shape checked against the outputSize; not shared with the input', () => {
    const x = t([3, 4, 4]);
    expect(() => c.forward(x, { out: Tensor.zeros([2, 7, 7]), outputSize: [8, 8] }))
      .toThrow('ConvTranspose2d.forward: out has shape [2, 7, 7], expected [2, 8, 8]');
    const out = Tensor.zeros([2, 8, 8]);
    expect(c.forward(x, { out, outputSize: [8, 8] })).toBe(out);
  });

  test('forwardAsync rejects (never throws) bad calls, and honours an aborted signal', async () => {
    const x = t([1, 3, 4, 4]);
    await expect(c.forwardAsync(x, { outputSize: [20, 20] })).rejects.toThrow(/requested an output size of \[20, 20\]/);
    await expect(c.forwardAsync(t([1, 4, 4, 4]))).rejects.toThrow(/expected input\[1, 4, 4, 4\] to have 3 channels/);
    const ac = new AbortController();
    ac.abort();
    await expect(c.forwardAsync(x, { signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
    const y = await c.forwardAsync(x, { outputSize: [8, 8] });
    expect(Array.from(y.data)).toEqual(Array.from(c.forward(x, { outputSize: [8, 8] }).data));
  });

  test('plan(): the transposed GEMM, tasks that split the output, scratch within its budget', () => {
    const p = c.plan([2, 3, 4, 4]);
    expect(p.layerAlgorithm).toBe('transposed-gemm');
    expect(p.algorithm).toBe('transposed-gemm');
    // cols (2 x 3 x 3 rows x 16 input pixels) and the packed B; at most the
    // 4 MiB cols budget plus one K block of NR panel
    expect(p.workspaceBytes).toBeGreaterThanOrEqual(4 * 18 * 16);
    expect(p.workspaceBytes).toBeLessThanOrEqual(4 * ((1 << 20) + p.blocking.kc * p.blocking.nr + 64));
    // images x groups x row bands x column bands, the bands covering the 7 x 7 output
    expect(p.tasks).toBe(2 * p.blocking.bands * p.blocking.columnBands);
    expect(p.blocking.bandRows * p.blocking.bands).toBeGreaterThanOrEqual(7);
    expect(p.blocking.bandColumns * p.blocking.columnBands).toBeGreaterThanOrEqual(7);
    expect(c.plan([3, 4, 4], { outputSize: [8, 8] }).algorithm).toBe('transposed-gemm');
    expect(() => c.plan([0, 3, 4, 4])).toThrow(/the batch must be at least 1/);
  });

  test('plan(): the direct gather where the cols of one output element would not fit the GEMM\'s budget', () => {
    // dilation 30: one output element's taps read 61 x 61 input pixels, each
    // with 128 x 3 x 3 cols entries (4.3 M floats > 1 M)
    const far = new ConvTranspose2d(2, 128, 3, { dilation: 30 });
    const p = far.plan([1, 2, 61, 61]);
    expect(p.layerAlgorithm).toBe('transposed-gemm');
    expect(p.algorithm).toBe('transposed-direct');
    expect(p.workspaceBytes).toBe(0);
    // a smaller input: its cols fit, the GEMM runs
    expect(far.plan([1, 2, 8, 8]).algorithm).toBe('transposed-gemm');
  });

  test('functional forms check the weight and bias', () => {
    expect(convTranspose2dOutputShape([1, 4, 5, 5], [4, 3, 3, 3], { groups: 2, stride: 2, outputPadding: 1 }))
      .toEqual([1, 6, 12, 12]);
    expect(() => convTranspose2d(t([1, 4, 5, 5]), t([4, 3, 3]))).toThrow(/weight must be 4-D \[inChannels, outChannels\/groups/);
    expect(() => convTranspose2d(t([1, 4, 5, 5]), t([4, 3, 3, 3]), t([4]))).toThrow(/expected bias of shape \[3\], got \[4\]/);
    expect(() => convTranspose2d(t([1, 4, 5, 5]), t([4, 3, 3, 3]), null, { groups: 3 }))
      .toThrow(/inChannels \(4\) must be divisible by groups \(3\)/);
  });
});

describe('the binding checks again (TypeScript skipped)', () => {
  const params = { inChannels: 2, outChannels: 2, kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padTop: 0,
    padBottom: 0, padLeft: 0, padRight: 0, dilationH: 1, dilationW: 1, groups: 1, padMode: 0, transposed: true };
  const w = new Float32Array(2 * 2 * 9);
  test.each([
    [{ outputPaddingH: 1 }, /output_padding\[0\] \(1\) must be smaller than either stride\[0\] \(1\) or dilation\[0\] \(1\)/],
    [{ padMode: 1 }, /only zeros padding_mode/],
    [{ transposed: 1 }, /transposed must be a boolean/],
    [{ transposed: false, outputPaddingW: 1 }, /output_padding is only for a transposed convolution/],
  ])('%p', (extra, message) => {
    expect(() => new native.Layer({ ...params, ...extra }, w, null)).toThrow(message);
  });
  test('an output below 1 and a wrong out length are refused by the native call', () => {
    const layer = new native.Layer({ ...params, padTop: 3, padBottom: 3 }, w, null);
    expect(() => layer.forward(new Float32Array(2), 1, 1, 1, new Float32Array(1))).toThrow(/output size would be below 1/);
    const ok = new native.Layer(params, w, null);
    expect(() => ok.forward(new Float32Array(2 * 4), 1, 2, 2, new Float32Array(3))).toThrow(/out has 3 elements, expected 32/);
  });
});
