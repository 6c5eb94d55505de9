// The fused epilogue at the binding (lib/native): the activation fields of
// the layer parameters and the residual argument of forward/forwardAsync are
// checked again natively with errors that name them; the residual is added
// before the activation, snapshotted at an async call, and read as it was
// before the call when it shares memory with out.
'use strict';
const { native } = require('../dist/native');
const { randomArray } = require('../scripts/random');

const params = {
  inChannels: 3, outChannels: 4, kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padTop: 1,
  padBottom: 1, padLeft: 1, padRight: 1, dilationH: 1, dilationW: 1, groups: 1, padMode: 0,
};
const [N, H, W] = [2, 5, 6];
const inLength = N * 3 * H * W;
const outLength = N * 4 * H * W;
const weight = randomArray(4 * 3 * 9, 1);
const bias = randomArray(4, 2);
const x = randomArray(inLength, 3);
const residual = randomArray(outLength, 4);

/** fn() throws an error named `name` (a native error: another realm than jest's) matching `message`. */
function expectNativeError(fn, name, message) {
  let err = null;
  try { fn(); } catch (e) { err = e; }
  expect(err).not.toBeNull();
  expect(err.name).toBe(name);
  expect(err.message).toMatch(message);
}

const layer = (extra = {}) => new native.Layer({ ...params, ...extra }, weight, bias);
const forward = (l, r = null) => l.forward(x, N, H, W, new Float32Array(outLength), r);
const forwardAsync = (l, out, r) => new Promise((resolve, reject) => {
  l.forwardAsync(x, N, H, W, out, r, (err, result) => (err ? reject(err) : resolve(result)));
});

describe('activation parameters are checked natively', () => {
  test.each([
    [{ activation: 'swish' }, 'RangeError', /activation 'swish' is not one of none, relu, .*gelu_tanh/],
    [{ activation: 'leakyRelu' }, 'RangeError', /activation 'leakyRelu' is not one of/],
    [{ activation: 3 }, 'TypeError', /activation must be a string/],
    [{ activation: 'leaky_relu', activationAlpha: NaN }, 'RangeError', /activationAlpha must be a finite float32 number, got NaN/],
    [{ activation: 'elu', activationAlpha: 1e39 }, 'RangeError', /activationAlpha must be a finite float32 number, got 1e\+39/],
    [{ activation: 'hardtanh', activationBeta: '1' }, 'TypeError', /activationBeta must be a number/],
    [{ activation: 'hardtanh', activationAlpha: 2, activationBeta: 1 }, 'RangeError',
      /hardtanh: activationAlpha \(min_val\) 2 must not be greater than activationBeta \(max_val\) 1/],
    [{ activation: 'hardtanh', activationAlpha: 2 }, 'RangeError', /min_val\) 2 must not be greater than activationBeta \(max_val\) 1/],
  ])('%j', (extra, name, message) => {
    expectNativeError(() => layer(extra), name, message);
  });

  test('every name of the core is accepted; absent means none', () => {
    for (const a of ['none', 'relu', 'relu6', 'leaky_relu', 'hardtanh', 'elu', 'sigmoid', 'tanh', 'silu',
      'hardswish', 'gelu', 'gelu_tanh'])
      expect(() => layer({ activation: a })).not.toThrow();
    expect(forward(layer({ activation: 'none' }))).toEqual(forward(layer()));
  });
});

describe('the epilogue reaches the core', () => {
  test('relu with a residual: exactly max(conv + residual, 0); sigmoid and leaky_relu by their formulas', () => {
    const plain = forward(layer());
    const relu = forward(layer({ activation: 'relu' }), residual);
    const want = plain.map((v, i) => Math.max(Math.fround(v + residual[i]), 0));
    expect(relu).toEqual(want);
    const sig = forward(layer({ activation: 'sigmoid' }));
    const leaky = forward(layer({ activation: 'leaky_relu', activationAlpha: 0.25 }), residual);
    for (let i = 0; i < outLength; i++) {
      expect(Math.abs(sig[i] - 1 / (1 + Math.exp(-plain[i])))).toBeLessThan(1e-6);
      const pre = Math.fround(plain[i] + residual[i]);
      expect(leaky[i]).toBe(pre > 0 ? pre : Math.fround(pre * 0.25));
    }
    // the defaults: leaky_relu 0.01, hardtanh [-1, 1]
    const dflt = forward(layer({ activation: 'leaky_relu' }));
    for (let i = 0; i < outLength; i++) expect(dflt[i]).toBe(plain[i] > 0 ? plain[i] : Math.fround(plain[i] * Math.fround(0.01)));
    expect(forward(layer({ activation: 'hardtanh' }))).toEqual(plain.map((v) => Math.min(Math.max(v, -1), 1)));
  });

  test('setWeights keeps the activation', () => {
    const l = layer({ activation: 'relu' });
    l.setWeights(weight, bias);
    expect(forward(l).every((v) => v >= 0)).toBe(true);
    expect(forward(l)).toEqual(forward(layer({ activation: 'relu' })));
  });

  test('a transposed layer takes the activation and the residual', () => {
    const t = { ...params, transposed: true, outputPaddingH: 0, outputPaddingW: 0, inChannels: 4, outChannels: 3 };
    const w = randomArray(4 * 3 * 9, 5);
    const [oh, ow] = native.outputSize(t, N, H, W);
    const n = N * 3 * oh * ow;
    const xin = randomArray(N * 4 * H * W, 6);
    const r = randomArray(n, 7);
    const plain = new native.Layer(t, w, null).forward(xin, N, H, W, new Float32Array(n));
    const got = new native.Layer({ ...t, activation: 'relu' }, w, null).forward(xin, N, H, W, new Float32Array(n), r);
    expect(got).toEqual(plain.map((v, i) => Math.max(Math.fround(v + r[i]), 0)));
  });
});

describe('the residual argument', () => {
  test('wrong type or length: errors naming residual and both lengths', () => {
    const l = layer({ activation: 'relu' });
    expectNativeError(() => forward(l, new Float32Array(5)), 'RangeError',
      `residual has 5 elements, expected ${outLength} (the output's length)`);
    expectNativeError(() => forward(l, new Float64Array(outLength)), 'TypeError', /residual must be a Float32Array/);
    expectNativeError(() => l.forwardAsync(x, N, H, W, null, new Float32Array(outLength + 1), () => {}), 'RangeError',
      `residual has ${outLength + 1} elements, expected ${outLength} (the output's length)`);
    expectNativeError(() => l.forwardAsync(x, N, H, W, null, residual, undefined), 'TypeError',
      /callback must be a function/);
  });

  test('a detached residual is an error at the call, sync and async', () => {
    const l = layer();
    const r = new Float32Array(outLength);
    structuredClone(r.buffer, { transfer: [r.buffer] });
    expectNativeError(() => forward(l, r), 'TypeError', /residual has a detached buffer/);
    expectNativeError(() => l.forwardAsync(x, N, H, W, null, r, () => {}), 'TypeError', /residual has a detached buffer/);
  });

  test('forwardAsync snapshots the residual: detaching and overwriting it after the call changes nothing', async () => {
    const l = layer({ activation: 'gelu' });
    const want = forward(l, residual);
    const r = residual.slice();
    const p = forwardAsync(l, null, r);
    const moved = new Float32Array(structuredClone(r.buffer, { transfer: [r.buffer] }));
    moved.fill(NaN);
    expect(await p).toEqual(want);
    const r2 = residual.slice();
    const p2 = forwardAsync(l, new Float32Array(outLength), r2);
    r2.fill(NaN);
    expect(await p2).toEqual(want);
  });

  test('a residual sharing memory with out is read as it was before the call (sync and async)', async () => {
    const l = layer({ activation: 'silu' });
    const want = forward(l, residual);
    // the same array: an in-place residual add
    const same = residual.slice();
    expect(l.forward(x, N, H, W, same, same)).toEqual(want);
    const sameAsync = residual.slice();
    expect(await forwardAsync(l, sameAsync, sameAsync)).toEqual(want);
    expect(sameAsync).toEqual(want);
    // partial overlap: out and residual are views of one buffer, half an output apart
    const buf = new Float32Array(outLength * 2);
    const half = outLength / 2;
    const out = buf.subarray(0, outLength);
    const r = buf.subarray(half, half + outLength);
    r.set(residual);
    expect(l.forward(x, N, H, W, out, r)).toEqual(want);
    // residual overlapping the input: both only read, nothing to copy
    const shared = randomArray(inLength + half, 8);
    const xin = shared.subarray(0, inLength);
    const rin = shared.subarray(inLength - half, inLength - half + outLength);
    const wantShared = l.forward(xin.slice(), N, H, W, new Float32Array(outLength), rin.slice());
    expect(l.forward(xin, N, H, W, new Float32Array(outLength), rin)).toEqual(wantShared);
  });

  test('async with a residual gives the bits of the sync call', async () => {
    const l = layer({ activation: 'gelu_tanh' });
    expect(await forwardAsync(l, null, residual)).toEqual(forward(l, residual));
    expect(await forwardAsync(l, null, null)).toEqual(forward(l));
  });
});
