// The fused epilogue's API (numbers against PyTorch are in epilogue.test.js):
// the `activation` option's checks and canonical field, PyTorch-style repr,
// `residual` checks, aliasing and snapshots, and that weight changes and
// fuseConvBn keep the activation. Exact checks use activations and sums whose
// float32 result is fixed: relu(y) is y or 0, and y + r with no activation is
// one float32 addition of the plain layer's output and the residual.
'use strict';
const { simdconv, randomTensor } = require('./helpers');

const { Tensor, Conv2d, Conv1d, ConvTranspose2d, fuseConvBn } = simdconv;
const t = (shape, seed = 7) => randomTensor(shape, seed);
const LAYERS = [
  ['Conv2d', (o) => new Conv2d(4, 6, 3, { padding: 1, ...o }), [2, 4, 5, 6]],
  ['Conv1d', (o) => new Conv1d(4, 6, 3, { padding: 1, ...o }), [2, 4, 9]],
  ['ConvTranspose2d', (o) => new ConvTranspose2d(4, 6, 3, { stride: 2, ...o }), [2, 4, 3, 4]],
];
const SUPPORTED = 'supported: relu, relu6, leakyRelu, hardtanh, elu, sigmoid, tanh, silu, hardswish, gelu';

/** A layer without activation holding the same weights. */
function plainTwin(make, conv) {
  const plain = make({});
  plain.loadStateDict({ weight: conv.weight, bias: conv.bias });
  return plain;
}

describe.each(LAYERS)('%s: the activation option', (name, make) => {
  test.each([
    ['an unknown name', 'swish', RangeError, `${name}: unknown activation "swish"; ${SUPPORTED}`],
    ["PyTorch's function name", 'leaky_relu', RangeError, `unknown activation "leaky_relu" (did you mean 'leakyRelu'?); ${SUPPORTED}`],
    ["PyTorch's module name", 'ReLU', RangeError, "unknown activation \"ReLU\" (did you mean 'relu'?)"],
    ['an object with an unknown name', { name: 'prelu' }, RangeError, `unknown activation "prelu"; ${SUPPORTED}`],
    ['an object without a name', { negativeSlope: 0.1 }, TypeError, "activation must be a name or an object with a 'name'"],
    ['a number', 1, TypeError, "activation must be one of 'relu', 'relu6', 'leakyRelu', 'hardtanh', 'elu', 'sigmoid', 'tanh', 'silu', 'hardswish', 'gelu' or an object such as { name: 'leakyRelu', negativeSlope: 0.1 }, got 1"],
    ['an array', ['relu'], TypeError, 'got ["relu"]'],
    ['a NaN slope', { name: 'leakyRelu', negativeSlope: NaN }, RangeError, `${name}: activation.negativeSlope must be a finite float32 number, got NaN`],
    ['an infinite alpha', { name: 'elu', alpha: -Infinity }, RangeError, 'activation.alpha must be a finite float32 number, got -Infinity'],
    ['an alpha beyond float32', { name: 'elu', alpha: 1e39 }, RangeError, 'activation.alpha must be a finite float32 number, got 1e+39'],
    ['a string parameter', { name: 'hardtanh', minVal: '0' }, TypeError, 'activation.minVal must be a number, got "0"'],
    ['hardtanh min > max', { name: 'hardtanh', minVal: 2, maxVal: 1 }, RangeError, 'activation: minVal (2) must not be greater than maxVal (1)'],
    ['hardtanh min > default max', { name: 'hardtanh', minVal: 1.5 }, RangeError, 'minVal (1.5) must not be greater than maxVal (1)'],
    ["gelu's approximate", { name: 'gelu', approximate: 'fast' }, RangeError, "activation.approximate must be either 'none' or 'tanh', got \"fast\""],
    ["PyTorch's key names", { name: 'leakyRelu', negative_slope: 0.1 }, TypeError, "activation: unknown key 'negative_slope' for 'leakyRelu' (did you mean 'negativeSlope'?); its parameters: negativeSlope"],
    ['a parameter of another kind', { name: 'relu', alpha: 1 }, TypeError, "activation: unknown key 'alpha' for 'relu'; 'relu' takes no parameters"],
  ])('%s is refused', (_, activation, cls, message) => {
    let error = null;
    try {
      make({ activation });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(cls);
    expect(error.message).toContain(message);
  });

  test('the field: null without one; names as given; objects with every parameter, frozen; accepted back', () => {
    expect(make({}).activation).toBeNull();
    expect(make({ activation: null }).activation).toBeNull();
    expect(make({ activation: 'relu' }).activation).toBe('relu');
    expect(make({ activation: 'elu' }).activation).toBe('elu');
    const given = { name: 'leakyRelu' };
    const conv = make({ activation: given });
    expect(conv.activation).toEqual({ name: 'leakyRelu', negativeSlope: 0.01 });
    expect(Object.isFrozen(conv.activation)).toBe(true);
    expect(given).toEqual({ name: 'leakyRelu' }); // the caller's object is not modified
    given.negativeSlope = 0.5; // nor read again later
    expect(conv.activation.negativeSlope).toBe(0.01);
    expect(make({ activation: { name: 'hardtanh', maxVal: 3 } }).activation).toEqual({ name: 'hardtanh', minVal: -1, maxVal: 3 });
    expect(make({ activation: { name: 'gelu' } }).activation).toEqual({ name: 'gelu', approximate: 'none' });
    expect(make({ activation: { name: 'hardtanh', minVal: 0.5, maxVal: 0.5 } }).activation.minVal).toBe(0.5); // F.hardtanh's constant
    const back = make({ activation: conv.activation });
    expect(String(back)).toBe(String(conv));
  });

  test('weight and bias setters, loadStateDict and fuseConvBn keep the activation (relu: exactly max(plain, 0))', () => {
    const conv = make({ activation: 'relu' });
    const x = t(LAYERS.find((l) => l[0] === name)[2]);
    const expectRelu = (layer) => {
      const p = plainTwin(make, layer).forward(x).data;
      const y = layer.forward(x).data;
      expect(y.every((v, i) => v === (p[i] > 0 ? p[i] : 0))).toBe(true);
      expect(y.some((v) => v > 0) && p.some((v) => v < 0)).toBe(true); // the check can fail
    };
    expectRelu(conv);
    conv.weight = t(conv.weight.shape, 8);
    expectRelu(conv);
    conv.bias = t([6], 9);
    expectRelu(conv);
    conv.loadStateDict({ weight: t(conv.weight.shape, 10), bias: t([6], 11) });
    expectRelu(conv);
    const ones = new Tensor(new Float32Array(6).fill(1), [6]);
    const fused = fuseConvBn(conv, { running_mean: t([6], 12), running_var: ones, weight: ones, bias: t([6], 13) });
    expect(fused.activation).toBe('relu');
    expect(String(fused)).toMatch(/, activation=ReLU\(\)\)$/);
    expectRelu(fused);
  });
});

describe('repr: PyTorch\'s, with the activation as its module repr', () => {
  test.each([
    [new Conv2d(3, 16, 3, { activation: 'relu' }), 'Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1), activation=ReLU())'],
    [new Conv2d(3, 16, 3, { padding: 1, bias: false, paddingMode: 'reflect', activation: 'relu6' }),
      'Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False, padding_mode=reflect, activation=ReLU6())'],
    [new Conv2d(3, 16, 1, { activation: { name: 'leakyRelu', negativeSlope: 0.1 } }),
      'Conv2d(3, 16, kernel_size=(1, 1), stride=(1, 1), activation=LeakyReLU(negative_slope=0.1))'],
    [new Conv2d(3, 16, 1, { activation: 'leakyRelu' }), 'Conv2d(3, 16, kernel_size=(1, 1), stride=(1, 1), activation=LeakyReLU(negative_slope=0.01))'],
    [new Conv2d(3, 16, 1, { activation: { name: 'leakyRelu', negativeSlope: 1e-7 } }), 'Conv2d(3, 16, kernel_size=(1, 1), stride=(1, 1), activation=LeakyReLU(negative_slope=1e-07))'],
    [new Conv2d(3, 16, 1, { activation: { name: 'hardtanh' } }), 'Conv2d(3, 16, kernel_size=(1, 1), stride=(1, 1), activation=Hardtanh(min_val=-1.0, max_val=1.0))'],
    [new Conv2d(3, 16, 1, { activation: { name: 'hardtanh', minVal: -1.5, maxVal: 0.001 } }), 'Conv2d(3, 16, kernel_size=(1, 1), stride=(1, 1), activation=Hardtanh(min_val=-1.5, max_val=0.001))'],
    [new Conv2d(3, 16, 1, { activation: { name: 'elu', alpha: 1e20 } }), 'Conv2d(3, 16, kernel_size=(1, 1), stride=(1, 1), activation=ELU(alpha=1e+20))'],
    [new Conv2d(3, 16, 1, { activation: 'elu' }), 'Conv2d(3, 16, kernel_size=(1, 1), stride=(1, 1), activation=ELU(alpha=1.0))'],
    [new Conv2d(3, 16, 1, { activation: 'sigmoid' }), 'Conv2d(3, 16, kernel_size=(1, 1), stride=(1, 1), activation=Sigmoid())'],
    [new Conv2d(3, 16, 1, { activation: 'tanh' }), 'Conv2d(3, 16, kernel_size=(1, 1), stride=(1, 1), activation=Tanh())'],
    [new Conv2d(3, 16, 1, { activation: 'silu' }), 'Conv2d(3, 16, kernel_size=(1, 1), stride=(1, 1), activation=SiLU())'],
    [new Conv2d(3, 16, 1, { activation: 'hardswish' }), 'Conv2d(3, 16, kernel_size=(1, 1), stride=(1, 1), activation=Hardswish())'],
    [new Conv2d(3, 16, 1, { activation: 'gelu' }), "Conv2d(3, 16, kernel_size=(1, 1), stride=(1, 1), activation=GELU(approximate='none'))"],
    [new Conv2d(3, 16, 1, { activation: { name: 'gelu', approximate: 'tanh' } }), "Conv2d(3, 16, kernel_size=(1, 1), stride=(1, 1), activation=GELU(approximate='tanh'))"],
    [new Conv1d(4, 8, 3, { bias: false, activation: 'silu' }), 'Conv1d(4, 8, kernel_size=(3,), stride=(1,), bias=False, activation=SiLU())'],
    [new ConvTranspose2d(4, 6, 3, { stride: 2, outputPadding: 1, activation: { name: 'elu', alpha: 0.5 } }),
      'ConvTranspose2d(4, 6, kernel_size=(3, 3), stride=(2, 2), output_padding=(1, 1), activation=ELU(alpha=0.5))'],
  ])('%s', (conv, repr) => {
    expect(String(conv)).toBe(repr);
  });
});

describe.each(LAYERS)('%s: residual', (name, make, shape) => {
  const conv = make({});
  const x = t(shape);
  const outShape = conv.forward(x).shape;

  test('y = plain + residual, one float32 addition; the residual is not modified; null means none', async () => {
    const r = t(outShape, 20);
    const before = Float32Array.from(r.data);
    const p = conv.forward(x).data;
    const want = p.map((v, i) => Math.fround(v + r.data[i]));
    const y = conv.forward(x, { residual: r });
    expect(y.data).toEqual(want);
    expect((await conv.forwardAsync(x, { residual: r })).data).toEqual(want);
    expect(r.data).toEqual(before);
    expect(conv.forward(x, { residual: null }).data).toEqual(p);
  });

  test('out may be the residual itself (x += conv(x) in place): as if they did not alias', async () => {
    const r = t(outShape, 21);
    const want = conv.forward(x, { residual: new Tensor(Float32Array.from(r.data), outShape) }).data;
    const inPlace = new Tensor(Float32Array.from(r.data), outShape);
    expect(conv.forward(x, { residual: inPlace, out: inPlace })).toBe(inPlace);
    expect(inPlace.data).toEqual(want);
    const inPlaceAsync = new Tensor(Float32Array.from(r.data), outShape);
    expect(await conv.forwardAsync(x, { residual: inPlaceAsync, out: inPlaceAsync })).toBe(inPlaceAsync);
    expect(inPlaceAsync.data).toEqual(want);
  });

  test('forwardAsync snapshots the residual at the call', async () => {
    const r = t(outShape, 22);
    const want = conv.forward(x, { residual: r }).data;
    const pending = conv.forwardAsync(x, { residual: r });
    r.data.fill(1e6);
    expect((await pending).data).toEqual(want);
  });

  test.each([
    ['a Float32Array', () => new Float32Array(4), TypeError, 'residual must be a Tensor, got a Float32Array'],
    ['the input', () => x, RangeError, `residual has shape [${shape.join(', ')}], expected the output's shape [${outShape.join(', ')}]`],
    ['an unbatched output shape', () => Tensor.zeros(outShape.slice(1)), RangeError, `residual has shape [${outShape.slice(1).join(', ')}], expected the output's shape`],
    ['a tensor whose data no longer fits its shape', () => { const r = Tensor.zeros(outShape); r.shape[0] += 1; return r; }, RangeError,
      'residual: tensor data has'],
  ])('%s is refused, sync and async', async (_, residual, cls, message) => {
    expect(() => conv.forward(x, { residual: residual() })).toThrow(cls);
    expect(() => conv.forward(x, { residual: residual() })).toThrow(`${name}.forward: ${message}`);
    await expect(conv.forwardAsync(x, { residual: residual() })).rejects.toThrow(`${name}.forwardAsync: ${message}`);
  });
});

test('Conv1d unbatched [C, L] takes a [O, L\'] residual; a 1-element batch one is refused', () => {
  const conv = new Conv1d(3, 5, 3, { activation: 'tanh' });
  const x = t([3, 10]);
  expect(conv.forward(x, { residual: t([5, 8]) }).shape).toEqual([5, 8]);
  expect(() => conv.forward(x, { residual: t([1, 5, 8]) })).toThrow("residual has shape [1, 5, 8], expected the output's shape [5, 8]");
});

test('ConvTranspose2d: outputSize decides the residual\'s shape', () => {
  const conv = new ConvTranspose2d(3, 2, 3, { stride: 2, padding: 1, activation: 'sigmoid' });
  const x = t([1, 3, 4, 4]);
  const y = conv.forward(x, { outputSize: [8, 8], residual: t([1, 2, 8, 8]) });
  expect(y.shape).toEqual([1, 2, 8, 8]);
  expect(y.data.every((v) => v > 0 && v < 1)).toBe(true);
});
