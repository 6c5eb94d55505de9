// The conv family against PyTorch (test/fixtures/family.json, written by
// scripts/gen_family_fixtures.py with torch 1.13): torch.nn.Conv1d over every
// option, F.conv1d, and fuse_conv_bn_eval for Conv2d and Conv1d; then random
// Conv1d layers (and their BatchNorm folds) against the float64 reference.
// Outputs must be within 4 * eps32 * (sqrt(K) + 2) * absBound of PyTorch's per
// element (the parity suite's rule, see parity.test.js); the fused weights and
// biases must equal PyTorch's bit for bit, since fuse_conv_bn_eval is
// elementwise float32 arithmetic that lib/fuse.ts repeats step for step.
'use strict';
const fs = require('fs');
const path = require('path');
const fc = require('fast-check');
const { simdconv, randomTensor, reference, compare, magnitudeBound, channelArbs, layerChannels } = require('./helpers');
const { Tensor, Conv1d, Conv2d, conv1d, fuseConvBn } = simdconv;

const EPS32 = 2 ** -23;
const FIXTURES = path.join(__dirname, 'fixtures');
const manifest = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'family.json'), 'utf8'));
const bin = (() => {
  const buf = fs.readFileSync(path.join(FIXTURES, 'family.bin'));
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.length); // little-endian float32
  return Float32Array.from({ length: buf.length / 4 }, (_, i) => dv.getFloat32(i * 4, true));
})();
const load = (ref) => bin.slice(ref.offset, ref.offset + ref.length);
const tensor = (ref, shape) => new Tensor(load(ref), shape);
const sameBits = (a, b) => a.length === b.length &&
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** Problems with `got` against PyTorch's `want` under the per-element bound (empty when it passes). */
function outsideTolerance(label, got, c, want) {
  if (JSON.stringify(got.shape) !== JSON.stringify(c.outputShape))
    return [`${label}: shape [${got.shape}], PyTorch [${c.outputShape}]`];
  const bound = load(c.absBound);
  const scale = 4 * EPS32 * (Math.sqrt(c.K) + 2);
  let bad = 0, worst = null;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got.data[i] - want[i]);
    if (err <= scale * bound[i]) continue;
    bad++;
    if (!worst || !(err / bound[i] <= worst.err / worst.bound)) worst = { i, err, bound: bound[i], got: got.data[i], want: want[i] };
  }
  return bad ? [`${label}: ${bad} of ${want.length} elements off; worst at ${worst.i}: got ${worst.got}, PyTorch ` +
    `${worst.want}, |diff| ${worst.err} > ${scale * worst.bound}`] : [];
}

function check(name, problems) {
  if (problems.length) throw new Error(`${name}:\n  - ${problems.join('\n  - ')}`);
}

test('family fixtures: manifest and binary agree', () => {
  expect(bin.length).toBe(manifest.totalElements);
  expect(manifest.conv1d.length).toBeGreaterThan(80);
  expect(manifest.functional1d.length).toBeGreaterThan(5);
  expect(manifest.fuse.length).toBeGreaterThan(5);
  const refs = [...manifest.conv1d, ...manifest.functional1d, ...manifest.fuse]
    .flatMap((c) => [c.input, c.weight, c.bias, c.expected, c.absBound, c.fusedWeight, c.expectedBn]);
  for (const r of refs) if (r) expect(r.offset + r.length).toBeLessThanOrEqual(bin.length);
});

describe(`torch.nn.Conv1d parity (ISA ${simdconv.backendInfo().isa})`, () => {
  test.each(manifest.conv1d.map((c) => [c.name, c]))('%s', async (_name, c) => {
    const problems = [];
    const conv = new Conv1d(c.inChannels, c.outChannels, c.kernelSize, c.options);
    if (conv.toString() !== c.repr) problems.push(`toString() is ${conv}, PyTorch's repr is ${c.repr}`);
    const attrs = { kernelSize: conv.kernelSize, stride: conv.stride, padding: conv.padding,
      dilation: conv.dilation, groups: conv.groups, paddingMode: conv.paddingMode };
    for (const [key, got] of Object.entries(attrs))
      if (JSON.stringify(got) !== JSON.stringify(c.torchAttrs[key]))
        problems.push(`conv.${key} is ${JSON.stringify(got)}, PyTorch's is ${JSON.stringify(c.torchAttrs[key])}`);
    if (JSON.stringify(conv.weight.shape) !== JSON.stringify(c.weightShape))
      problems.push(`default weight shape [${conv.weight.shape}], PyTorch [${c.weightShape}]`);
    if ((conv.bias === null) !== (c.bias === null)) problems.push('bias presence differs from PyTorch');
    check(c.name, problems);

    const weight = tensor(c.weight, c.weightShape);
    conv.loadStateDict({ 'm.weight': weight, 'm.bias': c.bias && tensor(c.bias, [c.outChannels]) }, { prefix: 'm.' });
    expect(conv.weight.data).toBe(weight.data); // the 3-D weight is the loaded tensor, not a copy
    const input = tensor(c.input, c.inputShape);
    const y = conv.forward(input);
    problems.push(...outsideTolerance('forward', y, c, load(c.expected)));
    if (!sameBits(input.data, load(c.input))) problems.push('forward modified its input');
    if (!sameBits(weight.data, load(c.weight))) problems.push('forward modified the weight');
    check(c.name, problems);

    const out = Tensor.zeros(c.outputShape);
    expect(conv.forward(input, { out })).toBe(out);
    const viaAsync = await conv.forwardAsync(input);
    const outAsync = Tensor.zeros(c.outputShape);
    expect(await conv.forwardAsync(input, { out: outAsync, signal: new AbortController().signal })).toBe(outAsync);
    for (const [label, t] of [['forward with out', out], ['forwardAsync', viaAsync], ['forwardAsync with out', outAsync]]) {
      if (JSON.stringify(t.shape) !== JSON.stringify(y.shape) || !sameBits(t.data, y.data))
        problems.push(`${label} differs from forward bitwise`);
    }
    check(c.name, problems);
  });
});

describe('torch.nn.functional.conv1d parity', () => {
  test.each(manifest.functional1d.map((c) => [c.name, c]))('%s', (_name, c) => {
    const input = tensor(c.input, c.inputShape);
    const y = conv1d(input, tensor(c.weight, c.weightShape), c.bias && tensor(c.bias, [c.weightShape[0]]), c.options);
    const problems = outsideTolerance('conv1d', y, c, load(c.expected));
    if (!sameBits(input.data, load(c.input))) problems.push('conv1d modified its input');
    check(c.name, problems);
  });
});

describe('fuse_conv_bn_eval parity', () => {
  test.each(manifest.fuse.map((c) => [c.name, c]))('%s', (_name, c) => {
    const problems = [];
    const Layer = c.layer === 'Conv2d' ? Conv2d : Conv1d;
    const conv = new Layer(c.inChannels, c.outChannels, c.kernelSize, c.options);
    const weight = tensor(c.weight, c.weightShape);
    conv.loadStateDict({ weight, bias: c.bias && tensor(c.bias, [c.outChannels]) });
    if (conv.toString() !== c.repr) problems.push(`conv is ${conv}, PyTorch's ${c.repr}`);
    const bn = {};
    for (const [key, ref] of Object.entries(c.bn)) bn[`${c.prefix}${key}`] = tensor(ref, [c.outChannels]);
    bn[`${c.prefix}num_batches_tracked`] = undefined; // int64: left out by loadSafetensors

    const fused = fuseConvBn(conv, bn, { prefix: c.prefix, eps: c.eps });
    if (!(fused instanceof Layer) || fused === conv) problems.push('fuseConvBn did not return a new layer of the same class');
    if (fused.toString() !== c.fusedRepr) problems.push(`fused is ${fused}, PyTorch's ${c.fusedRepr}`);
    if (!sameBits(fused.weight.data, load(c.fusedWeight))) {
      const want = load(c.fusedWeight);
      const i = want.findIndex((v, j) => !Object.is(v, fused.weight.data[j]));
      problems.push(`fused weight differs from PyTorch's at ${i}: ${fused.weight.data[i]} vs ${want[i]}`);
    }
    if (!sameBits(fused.bias.data, load(c.fusedBias)))
      problems.push(`fused bias [${fused.bias.data}] differs from PyTorch's [${load(c.fusedBias)}]`);
    const input = tensor(c.input, c.inputShape);
    const y = fused.forward(input);
    problems.push(...outsideTolerance('fused(x) vs PyTorch fused(x)', y, c, load(c.expectedFused)));
    problems.push(...outsideTolerance('fused(x) vs PyTorch bn(conv(x))', y, c, load(c.expectedBn)));
    if (!sameBits(conv.weight.data, load(c.weight))) problems.push('fuseConvBn modified the conv weight');
    if (conv.bias === null ? c.bias !== null : !sameBits(conv.bias.data, load(c.bias)))
      problems.push('fuseConvBn modified the conv bias');
    check(c.name, problems);
  });
});

// --- property tests against the float64 reference ------------------------------

const layerArb = fc.record({
  ...channelArbs(fc),
  kernel: fc.integer({ min: 1, max: 7 }),
  stride: fc.integer({ min: 1, max: 3 }),
  dilation: fc.integer({ min: 1, max: 4 }),
  padding: fc.oneof(fc.integer({ min: 0, max: 4 }), fc.constantFrom('valid', 'same')),
  paddingMode: fc.constantFrom('zeros', 'reflect', 'replicate', 'circular'),
  bias: fc.boolean(),
  batch: fc.constantFrom(null, 1, 2, 3),
  length: fc.integer({ min: 1, max: 64 }),
  seed: fc.integer({ min: 1, max: 1e9 }),
});

/** A random Conv1d with its input, and the same layer as a Conv2d on the [N, C, 1, L] view (the oracle's form). */
function build(L) {
  const [inC, outC, groups] = layerChannels(L);
  const stride = L.padding === 'same' ? 1 : L.stride;
  const conv = new Conv1d(inC, outC, L.kernel, { stride, padding: L.padding, dilation: L.dilation, groups,
    bias: L.bias, paddingMode: L.paddingMode });
  const shape = L.batch === null ? [inC, L.length] : [L.batch, inC, L.length];
  const input = randomTensor(shape, L.seed);
  try {
    conv.forward(input);
  } catch {
    return null; // the sizes PyTorch rejects (error tests cover them)
  }
  const as2d = new Conv2d(inC, outC, [1, L.kernel], { stride: [1, stride], dilation: [1, L.dilation], groups,
    padding: typeof L.padding === 'string' ? L.padding : [0, L.padding], paddingMode: L.paddingMode, bias: L.bias });
  as2d.loadStateDict({ weight: new Tensor(conv.weight.data, [outC, inC / groups, 1, L.kernel]), bias: conv.bias });
  const input4d = new Tensor(input.data, L.batch === null ? [1, inC, 1, L.length] : [L.batch, inC, 1, L.length]);
  return { conv, input, as2d, input4d };
}

describe(`Conv1d vs the float64 reference (ISA ${simdconv.backendInfo().isa})`, () => {
  test('random layers agree within float32 rounding; async and out agree bitwise', async () => {
    let checked = 0;
    await fc.assert(fc.asyncProperty(layerArb, async (L) => {
      const c = build(L);
      fc.pre(c !== null);
      const before = c.input.data.slice();
      const got = c.conv.forward(c.input);
      const want = reference(c.as2d, c.input4d);
      expect(got.data.length).toBe(want.length);
      const { k, magnitude } = magnitudeBound(c.as2d, c.input4d);
      const worst = compare(got.data, want, k, magnitude);
      if (worst) throw new Error(`${c.conv} input [${c.input.shape}]: element ${worst.index} got ${worst.got} want ${worst.want}`);
      expect(sameBits(c.input.data, before)).toBe(true);
      expect(sameBits((await c.conv.forwardAsync(c.input)).data, got.data)).toBe(true);
      checked++;
    }), { numRuns: 200, seed: 20261129 });
    expect(checked).toBeGreaterThan(80);
  });

  test('fuseConvBn(conv) equals bn(conv(x)) evaluated in float64', () => {
    let checked = 0;
    fc.assert(fc.property(layerArb, fc.double({ min: 1e-6, max: 0.1, noNaN: true }), fc.boolean(), (L, eps, affine) => {
      const c = build(L);
      fc.pre(c !== null);
      const C = c.conv.outChannels;
      const r = randomTensor([4, C], L.seed + 1).data;
      const stat = (i, f) => new Tensor(Float32Array.from(r.subarray(i * C, (i + 1) * C), f), [C]);
      const bn = { 'bn.running_mean': stat(0, (v) => v * 0.5), 'bn.running_var': stat(1, (v) => Math.exp(2 * v)) };
      if (affine) Object.assign(bn, { 'bn.weight': stat(2, (v) => 2 * v), 'bn.bias': stat(3, (v) => v) });
      const fused = fuseConvBn(c.conv, bn, { prefix: 'bn.', eps });
      const got = fused.forward(c.input);
      // float64 bn(conv(x)) on the unfused layer's float64 reference output
      const y = reference(c.as2d, c.input4d);
      const per = y.length / (c.input4d.shape[0] * C);
      const want = new Float64Array(y.length), bound = new Float64Array(y.length);
      const { magnitude } = magnitudeBound(c.as2d, c.input4d);
      for (let i = 0; i < y.length; i++) {
        const ch = Math.floor(i / per) % C;
        const s = (affine ? bn['bn.weight'].data[ch] : 1) / Math.sqrt(bn['bn.running_var'].data[ch] + eps);
        const beta = affine ? bn['bn.bias'].data[ch] : 0;
        want[i] = (y[i] - bn['bn.running_mean'].data[ch]) * s + beta;
        bound[i] = (magnitude + Math.abs(bn['bn.running_mean'].data[ch])) * Math.abs(s) + Math.abs(beta);
      }
      const tol = 4 * EPS32 * (Math.sqrt(c.conv.weight.data.length / C) + 4);
      for (let i = 0; i < y.length; i++) {
        if (!(Math.abs(got.data[i] - want[i]) <= tol * bound[i]))
          throw new Error(`${c.conv} eps ${eps}: element ${i} got ${got.data[i]} want ${want[i]} (tol ${tol * bound[i]})`);
      }
      checked++;
    }), { numRuns: 100, seed: 11 });
    expect(checked).toBeGreaterThan(40);
  });
});
