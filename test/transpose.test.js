// ConvTranspose2d against PyTorch (test/fixtures/transpose.json, written by
// scripts/gen_transpose_fixtures.py with torch 1.13): the module over every
// option and combination (stride, padding, output_padding, groups incl.
// depthwise-style, dilation, bias, output_size, unbatched), F.conv_transpose2d,
// and every call PyTorch rejects; then random layers against a float64
// scatter reference written here (the definition, not the native gather).
// Tolerance: 4 * eps32 * (sqrt(K) + 2) * absBound per element, as parity.test.js.
'use strict';
const fs = require('fs');
const path = require('path');
const fc = require('fast-check');
const { simdconv, randomTensor, expectTorchError } = require('./helpers');
const { Tensor, ConvTranspose2d, convTranspose2d, convTranspose2dOutputShape, fuseConvBn } = simdconv;

const EPS32 = 2 ** -23;
const FIXTURES = path.join(__dirname, 'fixtures');
const manifest = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'transpose.json'), 'utf8'));
const bin = (() => {
  const buf = fs.readFileSync(path.join(FIXTURES, 'transpose.bin'));
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.length); // little-endian float32
  return Float32Array.from({ length: buf.length / 4 }, (_, i) => dv.getFloat32(i * 4, true));
})();
const load = (ref) => bin.slice(ref.offset, ref.offset + ref.length);
const tensor = (ref, shape) => new Tensor(load(ref), shape);

/** Problems with `got` against PyTorch's `want` under the per-element bound (empty when it passes). */
function outsideTolerance(label, got, c, expected = c.expected) {
  if (JSON.stringify(got.shape) !== JSON.stringify(c.outputShape))
    return [`${label}: shape [${got.shape}], PyTorch [${c.outputShape}]`];
  const want = load(expected), bound = load(c.absBound);
  const scale = 4 * EPS32 * (Math.sqrt(c.K) + 2);
  let bad = 0, first = '';
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got.data[i] - want[i]);
    if (err <= scale * bound[i]) continue;
    if (!bad) first = `at ${i}: got ${got.data[i]}, PyTorch ${want[i]}`;
    bad++;
  }
  return bad ? [`${label}: ${bad} of ${want.length} elements off; first ${first}`] : [];
}
function check(name, problems) {
  if (problems.length) throw new Error(`${name}:\n  - ${problems.join('\n  - ')}`);
}

test('transpose fixtures: manifest and binary agree', () => {
  expect(manifest.modules.length).toBeGreaterThanOrEqual(40);
  expect(manifest.functional.length).toBeGreaterThanOrEqual(4);
  expect(manifest.errors.length).toBeGreaterThanOrEqual(13);
  for (const c of [...manifest.modules, ...manifest.functional])
    for (const r of [c.input, c.weight, c.bias, c.expected, c.absBound])
      if (r) expect(r.offset + r.length).toBeLessThanOrEqual(bin.length);
});

describe(`torch.nn.ConvTranspose2d parity (ISA ${simdconv.backendInfo().isa})`, () => {
  test.each(manifest.modules.map((c) => [c.name, c]))('%s', async (_name, c) => {
    const problems = [];
    const conv = new ConvTranspose2d(c.inChannels, c.outChannels, c.kernelSize, c.options);
    if (conv.toString() !== c.repr) problems.push(`toString() is ${conv}, PyTorch's repr is ${c.repr}`);
    if (JSON.stringify(conv.weight.shape) !== JSON.stringify(c.weightShape))
      problems.push(`default weight shape [${conv.weight.shape}], PyTorch [${c.weightShape}]`);
    if ((conv.bias === null) !== (c.bias === null)) problems.push('bias presence differs from PyTorch');
    expect(conv.backend.algorithm).toBe('transposed-gemm');
    conv.loadStateDict({ 'up.weight': tensor(c.weight, c.weightShape), 'up.bias': c.bias && tensor(c.bias, [c.outChannels]) },
      { prefix: 'up.' });
    const input = tensor(c.input, c.inputShape);
    const opts = c.outputSize ? { outputSize: c.outputSize } : {};
    const y = conv.forward(input, opts);
    problems.push(...outsideTolerance('forward', y, c));
    const out = new Tensor(new Float32Array(y.data.length).fill(NaN), y.shape);
    expect(conv.forward(input, { ...opts, out })).toBe(out);
    if (!y.data.every((v, i) => Object.is(v, out.data[i]))) problems.push('forward with out differs from forward');
    const ya = await conv.forwardAsync(input, opts);
    if (!y.data.every((v, i) => Object.is(v, ya.data[i]))) problems.push('forwardAsync differs from forward');
    if (!input.data.every((v, i) => Object.is(v, load(c.input)[i]))) problems.push('forward modified its input');
    check(c.name, problems);
  });
});

describe('torch.nn.functional.conv_transpose2d parity', () => {
  test.each(manifest.functional.map((c) => [c.name, c]))('%s', (_name, c) => {
    const groups = c.options.groups ?? 1;
    const bias = c.bias && tensor(c.bias, [c.weightShape[1] * groups]);
    const y = convTranspose2d(tensor(c.input, c.inputShape), tensor(c.weight, c.weightShape), bias, c.options);
    check(c.name, outsideTolerance('convTranspose2d', y, c));
    expect(convTranspose2dOutputShape(c.inputShape, c.weightShape, c.options)).toEqual(c.outputShape);
  });
});

describe('fuse_conv_bn_eval(transpose=True) parity', () => {
  const sameBits = (a, b) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
  test.each(manifest.fuse.map((c) => [c.name, c]))('%s', (_name, c) => {
    const problems = [];
    const conv = new ConvTranspose2d(c.inChannels, c.outChannels, c.kernelSize, c.options);
    conv.loadStateDict({ weight: tensor(c.weight, c.weightShape), bias: c.bias && tensor(c.bias, [c.outChannels]) });
    const bn = {};
    for (const [key, ref] of Object.entries(c.bn)) bn[`${c.prefix}${key}`] = tensor(ref, [c.outChannels]);
    const fused = fuseConvBn(conv, bn, { prefix: c.prefix, eps: c.eps });
    if (!(fused instanceof ConvTranspose2d) || fused === conv) problems.push('not a new ConvTranspose2d');
    if (c.fusedWeight) {
      if (fused.toString() !== c.fusedRepr) problems.push(`fused is ${fused}, PyTorch's ${c.fusedRepr}`);
      if (!sameBits(fused.weight.data, load(c.fusedWeight))) problems.push("fused weight differs from PyTorch's");
      if (!sameBits(fused.bias.data, load(c.fusedBias))) problems.push("fused bias differs from PyTorch's");
      problems.push(...outsideTolerance('fused forward vs fused PyTorch', fused.forward(tensor(c.input, c.inputShape)), c,
        c.expectedFused));
    }
    problems.push(...outsideTolerance('fused forward vs bn(conv(x))', fused.forward(tensor(c.input, c.inputShape)), c,
      c.expectedBn));
    check(c.name, problems);
  });
});

describe('what PyTorch rejects, ConvTranspose2d and convTranspose2d reject', () => {
  const t = (shape) => randomTensor(shape, 5);
  test.each(manifest.errors.map((c) => [c.name, c]))('%s', (_name, c) => {
    const { call } = c;
    const run = call.functional
      ? () => convTranspose2d(t(call.input), t(call.weight), call.bias && t(call.bias), call.options)
      : () => new ConvTranspose2d(...call.ctor, call.options)
        .forward(t(call.input), call.outputSize ? { outputSize: call.outputSize } : undefined);
    expect(expectTorchError(run, c).message).toMatch(call.functional ? /^convTranspose2d: / : /^ConvTranspose2d(\.forward)?: /);
  });
});

/** ConvTranspose2d by its definition: every input element scattered through every tap, in float64. */
function scatterReference(x, xs, w, b, o, outShape) {
  const [N, C, H, W] = xs;
  const [, OC, OH, OW] = outShape;
  const { stride: [sh, sw], padding: [ph, pw], dilation: [dh, dw], groups, kernel: [KH, KW] } = o;
  const cinG = C / groups, coutG = OC / groups;
  const y = new Float64Array(N * OC * OH * OW);
  for (let n = 0; n < N; n++) {
    for (let oc = 0; oc < OC; oc++) y.fill(b ? b[oc] : 0, ((n * OC + oc) * OH) * OW, ((n * OC + oc + 1) * OH) * OW);
    for (let ci = 0; ci < C; ci++) {
      const g = Math.floor(ci / cinG);
      for (let ih = 0; ih < H; ih++) for (let iw = 0; iw < W; iw++) {
        const v = x[((n * C + ci) * H + ih) * W + iw];
        for (let j = 0; j < coutG; j++) for (let kh = 0; kh < KH; kh++) {
          const oh = ih * sh - ph + kh * dh;
          if (oh < 0 || oh >= OH) continue;
          for (let kw = 0; kw < KW; kw++) {
            const ow = iw * sw - pw + kw * dw;
            if (ow < 0 || ow >= OW) continue;
            y[((n * OC + g * coutG + j) * OH + oh) * OW + ow] += v * w[((ci * coutG + j) * KH + kh) * KW + kw];
          }
        }
      }
    }
  }
  return y;
}

test('random layers match the float64 scatter reference (every option, outputSize, unbatched)', () => {
  const layer = fc.record({
    groups: fc.integer({ min: 1, max: 3 }), cinG: fc.integer({ min: 1, max: 5 }), coutG: fc.integer({ min: 1, max: 5 }),
    kh: fc.integer({ min: 1, max: 4 }), kw: fc.integer({ min: 1, max: 4 }),
    sh: fc.integer({ min: 1, max: 3 }), sw: fc.integer({ min: 1, max: 3 }),
    dh: fc.integer({ min: 1, max: 3 }), dw: fc.integer({ min: 1, max: 2 }),
    ph: fc.integer({ min: 0, max: 2 }), pw: fc.integer({ min: 0, max: 2 }),
    oph: fc.nat(2), opw: fc.nat(2), extraH: fc.nat(2), extraW: fc.nat(2), useSize: fc.boolean(),
    n: fc.integer({ min: 0, max: 2 }), h: fc.integer({ min: 1, max: 7 }), w: fc.integer({ min: 1, max: 7 }),
    bias: fc.boolean(), seed: fc.nat(1000),
  });
  fc.assert(fc.property(layer, (L) => {
    const oph = L.oph % Math.max(L.sh, L.dh), opw = L.opw % Math.max(L.sw, L.dw);
    const minH = (L.h - 1) * L.sh - 2 * L.ph + L.dh * (L.kh - 1) + 1;
    const minW = (L.w - 1) * L.sw - 2 * L.pw + L.dw * (L.kw - 1) + 1;
    if (minH < 1 || minW < 1) return; // PyTorch refuses these (output below 1), tested with the errors
    const C = L.groups * L.cinG, OC = L.groups * L.coutG;
    const conv = new ConvTranspose2d(C, OC, [L.kh, L.kw], { stride: [L.sh, L.sw], padding: [L.ph, L.pw],
      outputPadding: [oph, opw], dilation: [L.dh, L.dw], groups: L.groups, bias: L.bias });
    const batched = L.n > 0;
    const xs = [Math.max(L.n, 1), C, L.h, L.w];
    const x = randomTensor(batched ? xs : xs.slice(1), L.seed);
    const size = L.useSize ? [minH + L.extraH % L.sh, minW + L.extraW % L.sw] : null;
    const y = conv.forward(x, size ? { outputSize: size } : undefined);
    const OH = size ? size[0] : minH + oph, OW = size ? size[1] : minW + opw;
    expect(y.shape).toEqual(batched ? [L.n, OC, OH, OW] : [OC, OH, OW]);
    const want = scatterReference(x.data, xs, conv.weight.data, conv.bias?.data, {
      stride: [L.sh, L.sw], padding: [L.ph, L.pw], dilation: [L.dh, L.dw], groups: L.groups, kernel: [L.kh, L.kw],
    }, [xs[0], OC, OH, OW]);
    const wAbs = conv.weight.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const K = L.cinG * L.kh * L.kw;
    const tol = 4 * EPS32 * (Math.sqrt(K) + 2) * (K * wAbs * 4 + 1);
    for (let i = 0; i < want.length; i++)
      if (!(Math.abs(y.data[i] - want[i]) <= tol))
        throw new Error(`element ${i}: got ${y.data[i]}, reference ${want[i]} (${JSON.stringify(L)})`);
  }), { numRuns: 150, seed: 42 });
});
