// Shared by the jest suites: random tensors, the native reference oracle and
// a tolerance derived from float32 rounding of a length-K reduction.
'use strict';
const simdconv = require('..');
const { native } = require('../dist/native');
const { makeGeometry, nativeParams, inputDims } = require('../dist/geometry');

const EPS32 = 2 ** -23;

const { randomArray } = require('../scripts/random');

function randomTensor(shape, seed) {
  return new simdconv.Tensor(randomArray(shape.reduce((a, b) => a * b, 1), seed), shape);
}

/** The oracle (double accumulation) for a Conv2d's current weights. */
function reference(conv, input) {
  const g = makeGeometry('reference', conv.inChannels, conv.outChannels, conv.kernelSize, {
    stride: conv.stride, padding: conv.padding, dilation: conv.dilation, groups: conv.groups,
    paddingMode: conv.paddingMode,
  });
  const d = inputDims(input.shape, 'reference');
  const [oh, ow] = native.outputSize(nativeParams(g), d.n, d.h, d.w);
  const out = new Float32Array(d.n * conv.outChannels * oh * ow);
  native.referenceConv2d(nativeParams(g), input.data, d.n, d.h, d.w, conv.weight.data,
    conv.bias ? conv.bias.data : null, out);
  return out;
}

/**
 * Largest violation of |got - want| <= 4 eps (sqrt(K) + 2) * M, where K is
 * the reduction length and M bounds the magnitude of the summed terms
 * (max|x| * max over channels of sum|w| + |b|). Returns null when all pass.
 */
function compare(got, want, k, magnitude) {
  const tol = 4 * EPS32 * (Math.sqrt(k) + 2) * magnitude;
  let worst = null;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= tol) && (!worst || err > worst.err || Number.isNaN(err)))
      worst = { index: i, got: got[i], want: want[i], err, tol };
  }
  return worst;
}

function magnitudeBound(conv, input) {
  let maxX = 0;
  for (const v of input.data) maxX = Math.max(maxX, Math.abs(v));
  const k = conv.weight.data.length / conv.outChannels;
  let worst = 0;
  for (let oc = 0; oc < conv.outChannels; oc++) {
    let s = 0;
    for (let i = 0; i < k; i++) s += Math.abs(conv.weight.data[oc * k + i]);
    worst = Math.max(worst, s * maxX + (conv.bias ? Math.abs(conv.bias.data[oc]) : 0));
  }
  return { k, magnitude: worst };
}

/**
 * fast-check fields for a random layer's channels, and the (inC, outC, groups)
 * they mean: plain, grouped, or depthwise with a channel multiplier.
 */
function channelArbs(fc) {
  return {
    groupsKind: fc.constantFrom('one', 'one', 'grouped', 'depthwise'),
    groups: fc.integer({ min: 2, max: 4 }),
    inPerGroup: fc.integer({ min: 1, max: 19 }),
    outPerGroup: fc.integer({ min: 1, max: 21 }),
    multiplier: fc.integer({ min: 1, max: 3 }),
  };
}
function layerChannels(L) {
  if (L.groupsKind === 'one') return [L.inPerGroup, L.outPerGroup, 1];
  if (L.groupsKind === 'grouped') return [L.inPerGroup * L.groups, L.outPerGroup * L.groups, L.groups];
  return [L.inPerGroup, L.inPerGroup * L.multiplier, L.inPerGroup];
}

/**
 * Asserts that run() throws as PyTorch did for the fixture error case c: the
 * same error class, and PyTorch's words verbatim (less the argument number of
 * torch's internal F.pad call) or, where ours differ by design, c.ours.
 */
function expectTorchError(run, c) {
  let error = null;
  try {
    run();
  } catch (e) {
    error = e;
  }
  if (error === null) throw new Error(`accepted; PyTorch raised ${c.torchError}: ${c.torchMessage}`);
  expect(error.constructor.name).toBe(c.jsClass);
  if (c.ours === null) expect(error.message).toContain(c.torchMessage.replace(/^Argument #\d+: /, ''));
  else expect(error.message).toMatch(new RegExp(c.ours));
  return error;
}

module.exports = { simdconv, native, randomArray, randomTensor, reference, compare, magnitudeBound, channelArbs, layerChannels,
  expectTorchError };
