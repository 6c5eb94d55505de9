// The fused epilogue against PyTorch (test/fixtures/epilogue.json, written by
// scripts/gen_epilogue_fixtures.py with torch 1.13): F.<act>(conv(x) + residual)
// and F.<act>(conv(x)) for every activation form, on layers whose every
// algorithm candidate is forced in turn (conv.tune with one algorithm), so each
// driver's epilogue is checked; residuals with NaN, +-inf, +-1e30 and -0;
// fuse_conv_bn_eval followed by an activation; then random layers against the
// float64 reference with a JS formula per activation. Runs on every ISA cap.
// The tolerance rule (scripts/check-epilogue-fixtures.js): (L + 1) times the
// parity suite's bound, L bounding |act'|; NaN, infinite and zero results where
// the residual is special, and the sign of an exactly zero input, exactly.
'use strict';
const fc = require('fast-check');
const { simdconv, randomTensor, reference, magnitudeBound, channelArbs, layerChannels } = require('./helpers');
const { fixtures, sameBits } = require('../scripts/parity-fixtures');
const { epilogueMismatches: mismatches, fixtureLayer } = require('../scripts/check-epilogue-fixtures');

const { Tensor, Conv2d, Conv1d, ConvTranspose2d, conv2dOutputShape, fuseConvBn, getNumThreads, setNumThreads } = simdconv;
const { manifest, load } = fixtures('epilogue');
// ConvTranspose2d's fixture layers all run transposed-gemm (the planner's
// choice; transposed-direct is forced in the C++ test_epilogue, as JS has no
// tune for ConvTranspose2d).
const ALGORITHMS = ['im2col-gemm', 'winograd-2x2', 'depthwise-direct', 'grouped-direct', 'direct', 'transposed-gemm'];

function check(name, problems) {
  if (problems.length) throw new Error(`${name}:\n  - ${problems.join('\n  - ')}`);
}

const makeLayer = (c, activation) => fixtureLayer(simdconv, c, activation, load);

/** The algorithms that can run this layer for this shape (ConvTranspose2d: the planner's, it has no tune). */
function candidates(c) {
  if (c.layer === 'ConvTranspose2d') return [makeLayer(c, null).plan(c.inputShape).algorithm];
  return makeLayer(c, null).tune(c.inputShape, { repetitions: 1 }).candidates.map((k) => k.algorithm);
}

const reached = new Set();

test('epilogue fixtures: manifest and binary agree; every activation form on every layer', () => {
  expect(manifest.layers.length).toBeGreaterThanOrEqual(15);
  expect(manifest.activations.length).toBeGreaterThanOrEqual(17);
  const total = manifest.layers.flatMap((c) => [c.input, c.weight, c.bias, c.residual, c.absBound, c.absBoundResidual,
    ...c.outputs.map((o) => o.expected)]).filter(Boolean);
  for (const r of total) expect(r.offset + r.length).toBeLessThanOrEqual(manifest.totalElements);
  for (const c of manifest.layers)
    expect(c.outputs.filter((o) => o.residual).length).toBe(manifest.activations.length);
});

describe(`F.<act>(conv(x) + residual) parity, each algorithm forced (ISA ${simdconv.backendInfo().isa})`, () => {
  const saved = getNumThreads();
  afterAll(() => setNumThreads(saved));

  test.each(manifest.layers.map((c) => [`${c.name}: ${c.purpose}`, c]))('%s', async (_name, c) => {
    const input = new Tensor(load(c.input), c.inputShape);
    const residualData = load(c.residual);
    const residual = new Tensor(residualData, c.outputShape);
    const algorithms = candidates(c);
    const problems = [];
    for (const o of c.outputs) {
      const conv = makeLayer(c, o.activation);
      const repr = `${c.repr.slice(0, -1)}, activation=${o.activationRepr})`;
      if (String(conv) !== repr) problems.push(`toString() is ${conv}, expected ${repr}`);
      const want = load(o.expected);
      const bound = load(o.residual ? c.absBoundResidual : c.absBound);
      const opts = o.residual ? { residual } : {};
      const label = `${JSON.stringify(o.activation)}${o.residual ? ' + residual' : ''}`;
      let first = null;
      for (const algorithm of algorithms) {
        if (c.layer !== 'ConvTranspose2d') conv.tune(c.inputShape, { repetitions: 1, algorithms: [algorithm] });
        const y = conv.forward(input, opts);
        reached.add(conv.plan(c.inputShape).algorithm);
        if (JSON.stringify(y.shape) !== JSON.stringify(c.outputShape)) problems.push(`${label}: shape [${y.shape}]`);
        problems.push(...mismatches(`${label} on ${algorithm}`, y.data, want, bound, o.residual ? residualData : null,
          c.K, o.activation));
        first ??= y;
      }
      // the planner's own choice: forwardAsync and `out` give forward's bits, at 1 and 3 threads
      const plain = makeLayer(c, o.activation);
      setNumThreads(1);
      const y1 = plain.forward(input, opts);
      setNumThreads(3);
      const y3 = plain.forward(input, opts);
      const ya = await plain.forwardAsync(input, opts);
      const out = new Tensor(new Float32Array(y1.data.length).fill(NaN), c.outputShape);
      plain.forward(input, { ...opts, out });
      setNumThreads(saved);
      for (const [what, t] of [['3 threads', y3], ['forwardAsync', ya], ['out', out]])
        if (!sameBits(t.data, y1.data)) problems.push(`${label}: ${what} differs bitwise from forward at 1 thread`);
      if (!sameBits(input.data, load(c.input))) problems.push(`${label}: the input was modified`);
      if (!sameBits(residualData, load(c.residual))) problems.push(`${label}: the residual was modified`);
    }
    check(c.name, problems);
  });

  test('the layers above reached every algorithm', () => {
    // runs after the cases (jest runs a file's tests in order); Winograd kernels exist for AVX2 and AVX-512 only
    const winograd = ['avx2', 'avx512'].includes(simdconv.backendInfo().isa);
    expect([...reached].sort()).toEqual(ALGORITHMS.filter((a) => winograd || a !== 'winograd-2x2').sort());
  });
});

describe('fuse_conv_bn_eval followed by an activation, with a residual', () => {
  test.each(manifest.fuse.map((c) => [c.name, c]))('%s', (_name, c) => {
    const conv = makeLayer(c, c.activation);
    const bn = {};
    for (const [key, ref] of Object.entries(c.bn)) bn[`${c.prefix}${key}`] = new Tensor(load(ref), [c.outChannels]);
    const fused = fuseConvBn(conv, bn, { prefix: c.prefix, eps: c.eps });
    expect(fused.activation).toEqual(conv.activation);
    expect(String(fused)).toMatch(new RegExp(`, activation=${c.activationRepr.replace(/[()[\].]/g, '\\$&')}\\)$`));
    const input = new Tensor(load(c.input), c.inputShape);
    const residualData = load(c.residual);
    const bound = load(c.absBound);
    const y = fused.forward(input, { residual: new Tensor(residualData, c.outputShape) });
    check(c.name, [
      ...mismatches('fused layer vs act(fused(x) + r)', y.data, load(c.expectedFused), bound, residualData, c.K, c.activation),
      ...mismatches('fused layer vs act(bn(conv(x)) + r)', y.data, load(c.expectedBn), bound, residualData, c.K, c.activation),
      ...mismatches('no residual vs act(bn(conv(x)))', fused.forward(input).data, load(c.expectedBnNoResidual), bound,
        null, c.K, c.activation),
    ]);
  });
});

// --- random layers against the float64 reference and a JS formula per activation ----------------
const erf = (x) => {
  // Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7): gelu's error is then <= 0.75e-7 |x|, within 8 ulps of |x|
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t *
    Math.exp(-x * x);
  return x < 0 ? -y : y;
};
const sigmoid = (x) => 1 / (1 + Math.exp(-x));
/** The activation in float64, as torch.nn.functional defines it. */
function formula(a) {
  const name = typeof a === 'string' ? a : a.name;
  switch (name) {
    case 'relu': return (x) => Math.max(x, 0);
    case 'relu6': return (x) => Math.min(Math.max(x, 0), 6);
    case 'leakyRelu': { const s = Math.fround(a.negativeSlope ?? 0.01); return (x) => (x > 0 ? x : x * s); }
    case 'hardtanh': return (x) => Math.min(Math.max(x, a.minVal ?? -1), a.maxVal ?? 1);
    case 'elu': { const al = Math.fround(a.alpha ?? 1); return (x) => (x > 0 ? x : al * Math.expm1(x)); }
    case 'sigmoid': return sigmoid;
    case 'tanh': return Math.tanh;
    case 'silu': return (x) => x * sigmoid(x);
    case 'hardswish': return (x) => x * Math.min(Math.max(x + 3, 0), 6) / 6;
    case 'gelu':
      if (a.approximate === 'tanh') return (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
      return (x) => 0.5 * x * (1 + erf(x / Math.SQRT2));
    default: throw new Error(`no formula for ${name}`);
  }
}

const activationArb = fc.oneof(
  fc.constantFrom('relu', 'relu6', 'sigmoid', 'tanh', 'silu', 'hardswish', 'gelu'),
  fc.record({ name: fc.constant('leakyRelu'), negativeSlope: fc.double({ min: -2, max: 2, noNaN: true }) }),
  fc.double({ min: -3, max: 3, noNaN: true }).chain((lo) => fc.double({ min: lo, max: 4, noNaN: true })
    .map((hi) => ({ name: 'hardtanh', minVal: lo, maxVal: hi }))),
  fc.record({ name: fc.constant('elu'), alpha: fc.double({ min: 0, max: 3, noNaN: true }) }),
  fc.record({ name: fc.constant('gelu'), approximate: fc.constantFrom('none', 'tanh') }),
);

test('random Conv2d layers: act(reference + residual) within tolerance', () => {
  fc.assert(fc.property(
    fc.record({
      ...channelArbs(fc),
      k: fc.integer({ min: 1, max: 4 }), stride: fc.integer({ min: 1, max: 2 }), pad: fc.integer({ min: 0, max: 2 }),
      dilation: fc.integer({ min: 1, max: 2 }), h: fc.integer({ min: 4, max: 11 }), w: fc.integer({ min: 4, max: 11 }),
      batch: fc.integer({ min: 1, max: 2 }), mode: fc.constantFrom('zeros', 'zeros', 'reflect', 'replicate', 'circular'),
      bias: fc.boolean(), withResidual: fc.boolean(), activation: activationArb, seed: fc.integer({ min: 1, max: 1e6 }),
    }),
    (L) => {
      const [inC, outC, groups] = layerChannels(L);
      const pad = L.mode === 'zeros' ? L.pad : Math.min(L.pad, 3);
      fc.pre((L.dilation * (L.k - 1)) + 1 <= Math.min(L.h, L.w) + 2 * pad && pad < Math.min(L.h, L.w));
      const conv = new Conv2d(inC, outC, L.k, { stride: L.stride, padding: pad, dilation: L.dilation, groups,
        bias: L.bias, paddingMode: L.mode, activation: L.activation });
      const x = randomTensor([L.batch, inC, L.h, L.w], L.seed);
      const pre = reference(conv, x);
      const outShape = conv2dOutputShape(x.shape, conv.weight.shape, { stride: L.stride, padding: pad, dilation: L.dilation, groups });
      const r = L.withResidual ? randomTensor(outShape, L.seed + 1) : null;
      const y = conv.forward(x, r ? { residual: r } : {});
      const act = formula(conv.activation);
      const { k, magnitude } = magnitudeBound(conv, x);
      const want = pre.map((v, i) => act(v + (r ? r.data[i] : 0)));
      const bound = new Float64Array(pre.length).fill(magnitude + 1); // |r| <= 1
      const problems = mismatches('random', y.data, want, bound, null, k, conv.activation);
      if (problems.length) throw new Error(`${conv}: ${problems[0]}`);
    }), { numRuns: 60, seed: 13 });
});

test('Conv1d and ConvTranspose2d: activation and residual equal a Conv2d-free recomputation', () => {
  // Conv1d runs a [1, k] Conv2d on a view; ConvTranspose2d its own driver: each against the plain
  // layer's output with the activation applied in float64 (the plain conv is checked by the parity suites).
  const cases = [
    [new Conv1d(6, 9, 3, { padding: 1, groups: 3, activation: { name: 'elu', alpha: 0.7 } }), [2, 6, 15]],
    [new ConvTranspose2d(6, 4, 4, { stride: 2, padding: 1, activation: 'silu' }), [1, 6, 5, 4]],
  ];
  for (const [conv, shape] of cases) {
    const x = randomTensor(shape, 21);
    const plain = conv instanceof Conv1d
      ? new Conv1d(6, 9, 3, { padding: 1, groups: 3 }) : new ConvTranspose2d(6, 4, 4, { stride: 2, padding: 1 });
    plain.loadStateDict({ weight: conv.weight, bias: conv.bias });
    const y0 = plain.forward(x);
    const r = randomTensor(y0.shape, 22);
    const y = conv.forward(x, { residual: r });
    const act = formula(conv.activation);
    const want = y0.data.map((v, i) => act(v + r.data[i]));
    const bound = y0.data.map((v, i) => Math.abs(v) + Math.abs(r.data[i]) + 1e-6);
    check(String(conv), mismatches('vs act(plain + r)', y.data, want, bound, null, 1, conv.activation));
  }
});
