// The conv family's argument handling: every Conv1d / conv1d call PyTorch
// rejects (test/fixtures/family.json records PyTorch's own error for each) is
// an error here too, before native work, with conv1d's message where we copy
// it; device/dtype; activation and residual misuse; loadStateDict, the weight
// setters and default init; fuseConvBn's checks.
'use strict';
const fs = require('fs');
const path = require('path');
const { simdconv, randomTensor, expectTorchError } = require('./helpers');
const { recordSkipped } = require('../dist/io/skipped');
const { Tensor, Conv1d, Conv2d, conv1d, fuseConvBn } = simdconv;

const t = (shape) => randomTensor(shape, 5);
const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'family.json'), 'utf8'));

describe('what PyTorch rejects, Conv1d and conv1d reject', () => {
  test.each(manifest.errors.map((c) => [c.name, c]))('%s', (_name, c) => {
    const { call } = c;
    const run = call.functional
      ? () => conv1d(t(call.input), t(call.weight), call.bias && t(call.bias), call.options)
      : () => new Conv1d(...call.ctor, call.options).forward(t(call.input));
    expect(expectTorchError(run, c).message).toMatch(call.functional ? /^conv1d: / : /^Conv1d(\.forward)?: /);
  });
});

describe('device and dtype (PyTorch constructor arguments)', () => {
  test.each([[Conv2d], [Conv1d]])('%p accepts the CPU and float32, spelled as API.md says', (Layer) => {
    for (const o of [{ device: 'cpu' }, { device: null }, { dtype: 'float32' }, { dtype: null },
      { device: 'cpu', dtype: 'float32' }]) {
      const conv = new Layer(2, 3, 3, o);
      expect(conv.weight.data).toBeInstanceOf(Float32Array);
    }
  });
  test.each([
    [Conv2d, { device: 'cuda' }, /^Conv2d: device 'cuda' is not supported; simdconv runs on the CPU \('cpu' or null\)$/],
    [Conv2d, { device: 'cuda:0' }, /device 'cuda:0' is not supported/],
    [Conv2d, { dtype: 'float64' }, /^Conv2d: dtype 'float64' is not supported; simdconv computes in float32 \('float32' or null\)$/],
    [Conv2d, { dtype: 'bfloat16' }, /dtype 'bfloat16' is not supported/],
    [Conv1d, { device: 'mps' }, /^Conv1d: device 'mps' is not supported/],
    [Conv1d, { dtype: 'float16' }, /^Conv1d: dtype 'float16' is not supported/],
    [Conv1d, { device: 0 }, /device 0 is not supported/],
    [Conv1d, { dtype: Float32Array }, /dtype a function is not supported/],
  ])('%p %p', (Layer, o, message) => {
    expect(() => new Layer(2, 3, 3, o)).toThrow(TypeError);
    expect(() => new Layer(2, 3, 3, o)).toThrow(message);
  });
});

describe('Conv1d options', () => {
  test.each([
    ['an unknown activation', () => new Conv1d(3, 4, 3, { activation: 'swish' }), /^Conv1d: unknown activation "swish"; supported: relu, relu6, leakyRelu/],
    ['a residual of the input\'s shape', () => new Conv1d(3, 4, 3).forward(t([1, 3, 8]), { residual: t([1, 3, 8]) }), /^Conv1d.forward: residual has shape \[1, 3, 8\], expected the output's shape \[1, 4, 6\]/],
    ['snake_case option', () => new Conv1d(3, 4, 3, { padding_mode: 'reflect' }), /unknown option 'padding_mode' \(did you mean 'paddingMode'\?\)/],
    ['non-boolean bias', () => new Conv1d(3, 4, 3, { bias: 1 }), /Conv1d: bias must be a boolean, got 1/],
    ['a 2-D kernel', () => new Conv1d(3, 4, [3, 3]), /Conv1d: kernelSize must be an integer \(or a 1-element array\), got \[3, 3\]/],
    ['a fractional stride', () => new Conv1d(3, 4, 3, { stride: 1.5 }), /Conv1d: stride must be an integer .*got 1.5/],
    ['a NaN dilation in a 1-tuple', () => new Conv1d(3, 4, 3, { dilation: [NaN] }), /Conv1d: dilation\[0\] must be an integer .*got NaN/],
    ['a huge weight', () => new Conv1d(65536, 65536, 3), /the weight would have \d+ elements \(\[65536, 65536, 3\]\), more than 2\^31/],
    ['options not an object', () => new Conv1d(3, 4, 3, 'same'), /Conv1d: options must be an object, got "same"/],
  ])('%s', (_, fn, message) => {
    expect(fn).toThrow(message);
  });

  test('1-tuples are accepted where PyTorch takes them, and read back as 1-tuples', () => {
    const conv = new Conv1d(2, 4, [5], { stride: [2], padding: [1], dilation: [2] });
    expect([conv.kernelSize, conv.stride, conv.padding, conv.dilation]).toEqual([[5], [2], [1], [2]]);
    expect(String(conv)).toBe('Conv1d(2, 4, kernel_size=(5,), stride=(2,), padding=(1,), dilation=(2,))');
  });

  test('repr follows PyTorch for each non-default field', () => {
    expect(String(new Conv1d(3, 16, 3))).toBe('Conv1d(3, 16, kernel_size=(3,), stride=(1,))');
    expect(String(new Conv1d(4, 8, 3, { padding: 'same', groups: 4, bias: false, paddingMode: 'circular' })))
      .toBe('Conv1d(4, 8, kernel_size=(3,), stride=(1,), padding=same, groups=4, bias=False, padding_mode=circular)');
    expect(String(new Conv1d(3, 3, 1, { padding: 'valid' }))).toBe('Conv1d(3, 3, kernel_size=(1,), stride=(1,), padding=valid)');
  });
});

describe('Conv1d.forward / forwardAsync misuse', () => {
  const conv = new Conv1d(3, 4, 3);
  test.each([
    ['not a tensor', () => conv.forward(new Float32Array(24)), /Conv1d.forward: input must be a Tensor, got a Float32Array/],
    ['out with the wrong shape', () => conv.forward(t([1, 3, 8]), { out: Tensor.zeros([1, 4, 8]) }), /Conv1d.forward: out has shape \[1, 4, 8\], expected \[1, 4, 6\]/],
    ['out of the unbatched shape for a batched input', () => conv.forward(t([1, 3, 8]), { out: Tensor.zeros([4, 6]) }), /out has shape \[4, 6\], expected \[1, 4, 6\]/],
    ['out sharing the input', () => { const x = t([1, 3, 8]); conv.forward(x, { out: new Tensor(x.data.subarray(0, 24), [1, 4, 6]) }); }, /Conv1d.forward: out must not share memory with the input/],
    ['unknown forward option', () => conv.forward(t([1, 3, 8]), { signal: null }), /Conv1d.forward: unknown option 'signal'/],
  ])('%s', (_, fn, message) => {
    expect(fn).toThrow(message);
  });

  test('forwardAsync rejects (does not throw), in Conv1d words', async () => {
    await expect(conv.forwardAsync(t([1, 5, 8]))).rejects.toThrow(/^Conv1d.forwardAsync: Given groups=1, weight of size \[4, 3, 3\], expected input\[1, 5, 8\]/);
    await expect(conv.forwardAsync(t([1, 3, 8]), { signal: {} })).rejects.toThrow(/^Conv1d.forwardAsync: signal must be an AbortSignal/);
    await expect(conv.forwardAsync(t([1, 3, 8]), { residual: t([4, 6]) })).rejects.toThrow(/^Conv1d.forwardAsync: residual has shape \[4, 6\], expected the output's shape \[1, 4, 6\]/);
    const ac = new AbortController();
    ac.abort();
    await expect(conv.forwardAsync(t([1, 3, 8]), { signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });

  test('a batch of 0 gives an empty output of the right shape', async () => {
    expect(conv.forward(t([0, 3, 8])).shape).toEqual([0, 4, 6]);
    expect((await conv.forwardAsync(t([0, 3, 8]))).shape).toEqual([0, 4, 6]);
  });
});

describe('Conv1d weights', () => {
  test('default init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = inChannels/groups * k', () => {
    // 512 output channels: the 512 bias values all fall below 0.75 * bound with
    // probability 0.75^512 (< 1e-60), so the range check cannot flake (with 12
    // bias values it failed 1 run in 30).
    const conv = new Conv1d(8, 512, 5, { groups: 2 }); // fan_in 20
    const bound = 1 / Math.sqrt(20);
    for (const data of [conv.weight.data, conv.bias.data]) {
      const max = Math.max(...data.map(Math.abs));
      expect(max).toBeLessThanOrEqual(bound);
      expect(max).toBeGreaterThan(0.75 * bound);
    }
    expect(conv.weight.shape).toEqual([512, 4, 5]);
  });

  test('the weight setter shares the tensor, checks the shape, and repacks', () => {
    const conv = new Conv1d(2, 1, 2, { bias: false });
    const x = new Tensor(Float32Array.of(1, 2, 3, 10, 20, 30), [2, 3]);
    const w = new Tensor(Float32Array.of(1, 0, 0, 1), [1, 2, 2]);
    conv.weight = w;
    expect(conv.weight).toBe(w);
    expect(Array.from(conv.forward(x).data)).toEqual([21, 32]);
    w.data[0] = 2; // in place: takes effect once assigned again
    conv.weight = conv.weight;
    expect(Array.from(conv.forward(x).data)).toEqual([22, 34]);
    expect(() => { conv.weight = t([1, 2, 1, 2]); }).toThrow(/Conv1d.weight: expected weight of shape \[1, 2, 2\], got \[1, 2, 1, 2\]/);
    expect(conv.weight).toBe(w);
    conv.bias = new Tensor(Float32Array.of(100), [1]);
    expect(Array.from(conv.forward(x).data)).toEqual([122, 134]);
    expect(String(conv)).toBe('Conv1d(2, 1, kernel_size=(2,), stride=(1,))');
    conv.bias = null;
    expect(String(conv)).toBe('Conv1d(2, 1, kernel_size=(2,), stride=(1,), bias=False)');
    expect(() => { conv.bias = t([2]); }).toThrow(/Conv1d.bias: expected bias of shape \[1\], got \[2\]/);
  });
});

describe('Conv1d.loadStateDict', () => {
  const conv = new Conv1d(4, 6, 3, { groups: 2 });
  test.each([
    ['missing weight', { bias: t([6]) }, {}, /^Conv1d.loadStateDict: missing key 'weight'/],
    ['missing prefixed weight', { 'enc.0.weight': t([6, 2, 3]) }, { prefix: 'enc.1.' }, /missing key 'enc.1.weight'; keys ending in 'weight': enc.0.weight/],
    ['a Conv2d-shaped weight', { weight: t([6, 2, 1, 3]), bias: t([6]) }, {}, /'weight': expected weight of shape \[6, 2, 3\], got \[6, 2, 1, 3\]/],
    ['missing bias', { weight: t([6, 2, 3]) }, {}, /missing key 'bias' \(this layer has a bias\)/],
    ['bias with the wrong shape', { weight: t([6, 2, 3]), bias: t([3]) }, {}, /'bias': expected bias of shape \[6\], got \[3\]/],
    ['a plain array', { weight: [1, 2], bias: t([6]) }, {}, /'weight' must be a Tensor, got \[1, 2\]/],
    ['non-string prefix', { weight: t([6, 2, 3]) }, { prefix: 0 }, /prefix must be a string, got 0/],
    ['state not an object', null, {}, /state must be an object of Tensors, got null/],
  ])('%s', (_, state, options, message) => {
    const before = [conv.weight, conv.bias];
    expect(() => conv.loadStateDict(state, options)).toThrow(message);
    expect([conv.weight, conv.bias]).toEqual(before); // a failed load changes nothing
    expect(conv.weight).toBe(before[0]);
  });

  test('a bias for a layer without one, and a non-float tensor left out by the loader', () => {
    const nb = new Conv1d(2, 2, 1, { bias: false });
    expect(() => nb.loadStateDict({ weight: t([2, 2, 1]), bias: t([2]) })).toThrow(/unexpected key 'bias': this layer was built with bias: false/);
    const state = {};
    recordSkipped(state, new Map([['weight', 'int64']]));
    expect(() => nb.loadStateDict(state)).toThrow(/'weight' is an int64 tensor, not float \(loadSafetensors leaves non-float tensors out\)/);
  });
});

describe('fuseConvBn checks', () => {
  const conv = new Conv2d(3, 4, 3);
  const bn = (C = 4) => ({ 'bn.running_mean': t([C]), 'bn.running_var': Tensor.zeros([C]) });
  test.each([
    ['not a conv layer', () => fuseConvBn({ weight: t([4, 3, 3, 3]) }, bn()), /fuseConvBn: conv must be a Conv2d, a Conv1d or a ConvTranspose2d, got an object/],
    ['missing running_mean', () => fuseConvBn(conv, { 'bn.running_var': t([4]) }, { prefix: 'bn.' }), /fuseConvBn: missing key 'bn.running_mean' \(BatchNorm running statistics\)/],
    ['missing running_var, wrong prefix', () => fuseConvBn(conv, bn(), { prefix: 'bn1.' }), /missing key 'bn1.running_mean'.*keys ending in 'running_mean': bn.running_mean/],
    ['running_var of another layer', () => fuseConvBn(conv, { 'bn.running_mean': t([4]), 'bn.running_var': t([8]) }, { prefix: 'bn.' }), /'bn.running_var' has shape \[8\], expected \[4\] \(the conv's outChannels\)/],
    ['a 2-D weight', () => fuseConvBn(conv, { ...bn(), 'bn.weight': t([4, 1]) }, { prefix: 'bn.' }), /'bn.weight' has shape \[4, 1\], expected \[4\]/],
    ['negative eps', () => fuseConvBn(conv, bn(), { prefix: 'bn.', eps: -1 }), /eps must be a finite number >= 0, got -1/],
    ['NaN eps', () => fuseConvBn(conv, bn(), { prefix: 'bn.', eps: NaN }), /eps must be a finite number >= 0, got NaN/],
    ['unknown option', () => fuseConvBn(conv, bn(), { momentum: 0.1 }), /fuseConvBn: unknown option 'momentum'/],
    ['bn not an object', () => fuseConvBn(conv, undefined), /fuseConvBn: bn must be an object of Tensors .*got undefined/],
  ])('%s', (_, fn, message) => {
    expect(fn).toThrow(message);
  });

  test('a running stat the loader left out (not float) is named', () => {
    const state = { 'running_var': t([4]) };
    recordSkipped(state, new Map([['running_mean', 'int64']]));
    expect(() => fuseConvBn(conv, state)).toThrow(/'running_mean' is an int64 tensor, not float/);
  });

  test('num_batches_tracked is ignored; the original layer is untouched; options carry over', () => {
    const c1 = new Conv1d(4, 6, 3, { stride: 2, padding: 1, dilation: 2, groups: 2, bias: false, paddingMode: 'replicate' });
    const w = c1.weight.data.slice();
    const fused = fuseConvBn(c1, { running_mean: Tensor.zeros([6]), running_var: new Tensor(new Float32Array(6).fill(1), [6]),
      num_batches_tracked: undefined }, { eps: 0 });
    expect(fused).toBeInstanceOf(Conv1d);
    expect(String(fused)).toBe('Conv1d(4, 6, kernel_size=(3,), stride=(2,), padding=(1,), dilation=(2,), groups=2, padding_mode=replicate)');
    expect(Array.from(fused.weight.data)).toEqual(Array.from(w)); // var 1, eps 0, mean 0: identity
    expect(Array.from(fused.bias.data)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(c1.bias).toBeNull();
    expect(Array.from(c1.weight.data)).toEqual(Array.from(w));
  });
});
