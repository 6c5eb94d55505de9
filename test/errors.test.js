// Bad input gets a clear JS error naming the argument and the values, before
// native work starts: every case where PyTorch raises, and API misuse.
'use strict';
const { simdconv, randomTensor } = require('./helpers');
const { Conv2d, Tensor, conv2d, conv2dOutputShape, setNumThreads } = simdconv;

const t = (shape) => randomTensor(shape, 5);

describe('Conv2d constructor', () => {
  test.each([
    ['groups not dividing in_channels', () => new Conv2d(6, 8, 3, { groups: 4 }), /inChannels \(6\) must be divisible by groups \(4\)/],
    ['groups not dividing out_channels', () => new Conv2d(8, 6, 3, { groups: 4 }), /outChannels \(6\) must be divisible by groups \(4\)/],
    ["'same' with stride > 1", () => new Conv2d(3, 3, 3, { padding: 'same', stride: 2 }), /padding='same' is not supported for strided convolutions \(stride=\[2, 2\]\)/],
    ["'same' with a tuple stride > 1", () => new Conv2d(3, 3, 3, { padding: 'same', stride: [1, 2] }), /strided/],
    ['unknown padding mode', () => new Conv2d(3, 3, 3, { paddingMode: 'mirror' }), /paddingMode must be one of 'zeros', 'reflect', 'replicate', 'circular', got "mirror"/],
    ['unknown padding string', () => new Conv2d(3, 3, 3, { padding: 'full' }), /padding must be .* got "full"/],
    ['zero in_channels', () => new Conv2d(0, 3, 3), /inChannels must be an integer in \[1, .*got 0/],
    ['negative out_channels', () => new Conv2d(3, -1, 3), /outChannels .* got -1/],
    ['zero kernel', () => new Conv2d(3, 3, 0), /kernelSize .* got 0/],
    ['fractional kernel', () => new Conv2d(3, 3, 2.5), /kernelSize .* got 2.5/],
    ['NaN stride', () => new Conv2d(3, 3, 3, { stride: NaN }), /stride .* got NaN/],
    ['Infinity dilation', () => new Conv2d(3, 3, 3, { dilation: Infinity }), /dilation .* got Infinity/],
    ['negative padding', () => new Conv2d(3, 3, 3, { padding: -1 }), /padding .* got -1/],
    ['three-element kernel', () => new Conv2d(3, 3, [3, 3, 3]), /kernelSize must be an integer or a pair/],
    ['string channel count', () => new Conv2d('3', 3, 3), /inChannels must be an integer, got "3"/],
    ['zero groups', () => new Conv2d(3, 3, 3, { groups: 0 }), /groups .* got 0/],
    ['snake_case option', () => new Conv2d(3, 3, 3, { padding_mode: 'reflect' }), /unknown option 'padding_mode' \(did you mean 'paddingMode'\?\)/],
    ['non-boolean bias', () => new Conv2d(3, 3, 3, { bias: 0 }), /bias must be a boolean, got 0/],
    ['options not an object', () => new Conv2d(3, 3, 3, 5), /options must be an object, got 5/],
  ])('%s', (_, fn, message) => {
    expect(fn).toThrow(message);
  });
});

describe('Conv2d.forward', () => {
  const conv = new Conv2d(3, 4, 3);
  test.each([
    ['wrong input channel count', () => conv.forward(t([1, 5, 8, 8])), /expected input \[1, 5, 8, 8\] to have 3 channels, but got 5 channels instead/],
    ['2-D input', () => conv.forward(t([8, 8])), /expected a 3-D \(unbatched\) or 4-D \(batched\) input, got input of shape \[8, 8\]/],
    ['5-D input', () => conv.forward(t([1, 1, 3, 8, 8])), /got input of shape \[1, 1, 3, 8, 8\]/],
    ['output size < 1', () => conv.forward(t([1, 3, 2, 8])), /padded input size \(2 x 8\) is smaller than the dilated kernel \(3 x 3\)/],
    ['reflect pad >= input size', () => new Conv2d(1, 1, 3, { padding: 3, paddingMode: 'reflect' }).forward(t([1, 3, 9])), /reflect padding \(3\) must be smaller than the input height \(3\)/],
    ['circular pad > input size', () => new Conv2d(1, 1, 1, { padding: [0, 3], paddingMode: 'circular' }).forward(t([1, 4, 2])), /circular padding \(3\) must not exceed the input width \(2\)/],
    ['not a tensor', () => conv.forward(new Float32Array(27)), /input must be a Tensor, got a Float32Array/],
    ['data swapped after construction', () => { const x = t([1, 3, 8, 8]); Object.defineProperty(x, 'data', { value: new Float32Array(3) }); conv.forward(x); }, /tensor data has 3 elements but its shape \[1, 3, 8, 8\] needs 192/],
    ['out with the wrong shape', () => conv.forward(t([1, 3, 8, 8]), { out: Tensor.zeros([1, 4, 5, 5]) }), /out has shape \[1, 4, 5, 5\], expected \[1, 4, 6, 6\]/],
    ['out sharing the input buffer', () => { const x = t([1, 3, 8, 8]); conv.forward(x, { out: new Tensor(x.data.subarray(0, 144), [1, 4, 6, 6]) }); }, /out must not share memory with the input/],
    ['unknown forward option', () => conv.forward(t([1, 3, 8, 8]), { output: null }), /unknown option 'output'/],
  ])('%s', (_, fn, message) => {
    expect(fn).toThrow(message);
  });

  test('reflect pad of size-1 and circular pad of size are accepted, as in PyTorch', () => {
    expect(new Conv2d(1, 1, 3, { padding: 2, paddingMode: 'reflect' }).forward(t([1, 3, 3])).shape).toEqual([1, 5, 5]);
    expect(new Conv2d(1, 1, 3, { padding: 2, paddingMode: 'circular' }).forward(t([1, 2, 2])).shape).toEqual([1, 4, 4]);
  });

  test('forwardAsync rejects (does not throw) on bad input', async () => {
    await expect(conv.forwardAsync(t([1, 5, 8, 8]))).rejects.toThrow(/to have 3 channels/);
    await expect(conv.forwardAsync(t([1, 3, 8, 8]), { signal: {} })).rejects.toThrow(/signal must be an AbortSignal/);
  });
});

describe('loadStateDict', () => {
  const conv = new Conv2d(4, 6, 3, { groups: 2 });
  test.each([
    ['missing weight', { bias: t([6]) }, {}, /missing key 'weight'/],
    ['missing prefixed weight', { 'features.0.weight': t([6, 2, 3, 3]) }, { prefix: 'features.1.' }, /missing key 'features.1.weight'; keys ending in 'weight': features.0.weight/],
    ['weight with the wrong shape', { weight: t([6, 4, 3, 3]), bias: t([6]) }, {}, /'weight': expected weight of shape \[6, 2, 3, 3\], got \[6, 4, 3, 3\]/],
    ['missing bias', { weight: t([6, 2, 3, 3]) }, {}, /missing key 'bias' \(this layer has a bias\)/],
    ['bias with the wrong shape', { weight: t([6, 2, 3, 3]), bias: t([5]) }, {}, /'bias': expected bias of shape \[6\], got \[5\]/],
    ['a plain array as weight', { weight: [1, 2, 3], bias: t([6]) }, {}, /'weight' must be a Tensor, got \[1, 2, 3\]/],
    ['non-string prefix', { weight: t([6, 2, 3, 3]) }, { prefix: 3 }, /prefix must be a string, got 3/],
  ])('%s', (_, state, options, message) => {
    const before = conv.weight;
    expect(() => conv.loadStateDict(state, options)).toThrow(message);
    expect(conv.weight).toBe(before); // a failed load changes nothing
  });

  test('bias key for a layer without bias is refused', () => {
    const nb = new Conv2d(2, 2, 1, { bias: false });
    expect(() => nb.loadStateDict({ weight: t([2, 2, 1, 1]), bias: t([2]) })).toThrow(/unexpected key 'bias': this layer was built with bias: false/);
  });
});

describe('functional and misc', () => {
  test.each([
    ['conv2d: 3-D weight', () => conv2d(t([1, 3, 5, 5]), t([4, 3, 3])), /weight must be 4-D/],
    ['conv2d: channel mismatch', () => conv2d(t([1, 3, 5, 5]), t([4, 2, 3, 3])), /to have 2 channels, but got 3 channels instead/],
    ['conv2d: groups mismatch', () => conv2d(t([1, 4, 5, 5]), t([8, 2, 3, 3]), null, { groups: 4 }), /to have 8 channels, but got 4/],
    ['conv2d: bias shape', () => conv2d(t([1, 3, 5, 5]), t([4, 3, 3, 3]), t([3])), /expected bias of shape \[4\], got \[3\]/],
    ['conv2d: padding mode is not an option', () => conv2d(t([1, 3, 5, 5]), t([4, 3, 3, 3]), null, { paddingMode: 'reflect' }), /unknown option 'paddingMode'/],
    ['conv2dOutputShape: negative size', () => conv2dOutputShape([1, 3, -4, 4], [4, 3, 3, 3]), /inputShape\[2\] must be an integer in \[0, .*got -4/],
    ['conv2dOutputShape: too small', () => conv2dOutputShape([1, 3, 2, 2], [4, 3, 3, 3]), /output size would be below 1/],
    ['Tensor: length mismatch', () => new Tensor(new Float32Array(5), [2, 3]), /data has 5 elements but shape \[2, 3\] needs 6/],
    ['Tensor: Float64Array data', () => new Tensor(new Float64Array(6), [2, 3]), /data must be a Float32Array, got a Float64Array/],
    ['Tensor: fractional dim', () => new Tensor(new Float32Array(6), [2, 1.5]), /shape\[1\] must be an integer .* got 1.5/],
    ['Tensor.zeros: huge shape', () => Tensor.zeros([2 ** 20, 2 ** 20, 2 ** 20]), /has too many elements/],
    ['setNumThreads(0)', () => setNumThreads(0), /setNumThreads: n must be an integer in \[1, 1024\], got 0/],
    ['setNumThreads(1.5)', () => setNumThreads(1.5), /got 1.5/],
  ])('%s', (_, fn, message) => {
    expect(fn).toThrow(message);
  });

  test('the binding re-checks what reaches it (a wrong-sized buffer is an error, not a crash)', () => {
    const { native } = require('./helpers');
    const params = { inChannels: 2, outChannels: 2, kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padTop: 0,
      padBottom: 0, padLeft: 0, padRight: 0, dilationH: 1, dilationW: 1, groups: 1, padMode: 0 };
    expect(() => new native.Layer(params, new Float32Array(35), null)).toThrow(/weight has 35 elements, expected 36/);
    const layer = new native.Layer(params, new Float32Array(36), null);
    expect(() => layer.forward(new Float32Array(10), 1, 4, 4, new Float32Array(8))).toThrow(/input has 10 elements, expected 32/);
    expect(() => layer.forward(new Float32Array(32), 1, 4, 4, new Float32Array(7))).toThrow(/out has 7 elements, expected 8/);
    expect(() => layer.forward(new Float64Array(32), 1, 4, 4, new Float32Array(8))).toThrow(/input must be a Float32Array/);
    expect(() => layer.forward(new Float32Array(32), 1.5, 4, 4, new Float32Array(8))).toThrow(/batch must be an integer/);
    expect(() => layer.forward(new Float32Array(32), 1, 2, 4, new Float32Array(8))).toThrow(/smaller than the dilated kernel/);
    expect(() => new native.Layer({ ...params, groups: 3 }, new Float32Array(36), null)).toThrow(/divisible by groups/);
    expect(() => new native.Layer({ ...params, padMode: 7 }, new Float32Array(36), null)).toThrow(/padMode must be an integer in \[0, 3\]/);
  });
});

// Layers PyTorch accepts with padding, stride or dilation near 2^31 on a tiny
// input: computed (as a zero-padded convolution would be), or refused with a
// RangeError naming the sizes; never a wrapped size, a crash or a hang.
describe('huge padding, stride and dilation', () => {
  const { native, reference } = require('./helpers');

  test("'same' with dilation 2^30 (total padding 2^31) runs: the centre tap times the input, plus the bias", () => {
    const x = t([2, 2, 4, 5]);
    expect(conv2dOutputShape(x.shape, [3, 2, 3, 5], { padding: 'same', dilation: [2 ** 30, 2 ** 29] }))
      .toEqual([2, 3, 4, 5]);
    const conv = new Conv2d(2, 3, [3, 5], { padding: 'same', dilation: [2 ** 30, 2 ** 29] });
    const y = conv.forward(x);
    expect(y.shape).toEqual([2, 3, 4, 5]);
    // every other tap reads padding (2^29 or more away from the 4x5 input)
    const w = conv.weight.data, b = conv.bias.data, want = new Float32Array(y.data.length);
    for (let n = 0; n < 2; n++)
      for (let o = 0; o < 3; o++)
        for (let i = 0; i < 20; i++) {
          let acc = b[o];
          for (let c = 0; c < 2; c++) acc += w[((o * 2 + c) * 3 + 1) * 5 + 2] * x.data[(n * 2 + c) * 20 + i];
          want[(n * 3 + o) * 20 + i] = acc;
        }
    for (let i = 0; i < want.length; i++) expect(Math.abs(y.data[i] - want[i])).toBeLessThanOrEqual(1e-6);
  });

  test("'same' whose padding would exceed 2^31 per side is a RangeError naming the sizes", () => {
    expect(() => new Conv2d(1, 1, 4, { padding: 'same', dilation: 2 ** 31 }))
      .toThrow(/padding='same' needs a padding of 6442450944 in total along dimension 0/);
  });

  test.each([
    ['stride and padding 2^31 on 5x5', [3, 4, 3, { stride: 2 ** 31, padding: 2 ** 31 - 1 }], [1, 3, 5, 5]],
    ['dilation and stride 2^31, 2x2 kernel', [2, 2, 2, { stride: 2 ** 31, padding: 2 ** 31, dilation: 2 ** 31 }], [1, 2, 4, 3]],
    ['Winograd-sized 3x3 with dilation 2^20 on 1x1', [40, 36, 3, { padding: 'same', dilation: 2 ** 20 }], [1, 40, 1, 1]],
    ['depthwise, replicate, stride 2^31', [3, 6, 3, { groups: 3, stride: 2 ** 31, padding: 2 ** 31, paddingMode: 'replicate' }], [1, 3, 2, 5]],
  ])('%s: equals the reference', (_, args, shape) => {
    const conv = new Conv2d(...args);
    const x = t(shape);
    const y = conv.forward(x);
    const want = reference(conv, x);
    expect(y.data.length).toBe(want.length);
    for (let i = 0; i < want.length; i++) expect(Math.abs(y.data[i] - want[i])).toBeLessThanOrEqual(1e-4);
  });

  test('the binding refuses a weight whose element count wraps in 64 bits (2^31 x 1 x 2^31 x 4)', () => {
    const params = { inChannels: 1, outChannels: 2 ** 31, kernelH: 2 ** 31, kernelW: 4, strideH: 1, strideW: 1,
      padTop: 0, padBottom: 0, padLeft: 0, padRight: 0, dilationH: 1, dilationW: 1, groups: 1, padMode: 0 };
    let err;
    try { new native.Layer(params, new Float32Array(0), null); } catch (e) { err = e; }
    expect(err.name).toBe('RangeError');  // (a native error: another realm than jest's RangeError)
    expect(err.message).toMatch(/2147483648 x 1 x 2147483648 x 4 overflows/);
  });

  test('an output larger than one Float32Array is a RangeError naming its shape, before any allocation', () => {
    const conv = new Conv2d(1, 1, 1, { padding: 2 ** 30 });
    const x = new simdconv.Tensor(new Float32Array(1), [1, 1, 1, 1]);
    expect(() => conv.forward(x)).toThrow(RangeError);
    expect(() => conv.forward(x)).toThrow(/output \[1, 1, 2147483649, 2147483649\] would have 4611686022722355201 elements/);
  });
});
