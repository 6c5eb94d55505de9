// Parity with PyTorch: every case in test/fixtures/parity.json (written by
// scripts/gen_fixtures.py with torch.nn.Conv2d / torch.nn.functional.conv2d in
// float32) is rebuilt through the public API and must reproduce PyTorch's
// repr exactly, its output shape exactly, and every output element within a
// float32 rounding tolerance derived from the reduction length:
//
//   |got - want| <= 4 * eps32 * (sqrt(K) + 2) * B
//
// where K = (inChannels / groups) * kH * kW and B is, for that output element,
// sum over its reduction of |x_padded * w| + |bias| (computed in float64 by the
// generator and stored as `absBound`). Rounding error of any summation order
// of K float32 products is rigorously below ~K * eps32 * B and in practice a
// small multiple of sqrt(K) * eps32 * B; PyTorch's own float32 result sits
// within 0.35 of these units of the float64 value (see `torchErrRatio`), so the
// factor 4 leaves room for two independent float32 summations, no more.
// Also: forwardAsync must agree with forward bit for bit, and neither may
// modify the input (or the loaded weights).
'use strict';
const fs = require('fs');
const path = require('path');
const { Tensor, Conv2d, conv2d } = require('..');

const EPS32 = 2 ** -23;
const TOL_FACTOR = 4;
const FIXTURES = path.join(__dirname, 'fixtures');

const manifest = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'parity.json'), 'utf8'));
const bin = (() => {
  const buf = fs.readFileSync(path.join(FIXTURES, 'parity.bin'));
  // copy into an aligned buffer; the file is little-endian float32
  const ab = new ArrayBuffer(buf.length);
  new Uint8Array(ab).set(buf);
  const dv = new DataView(ab);
  const out = new Float32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = dv.getFloat32(i * 4, true);
  return out;
})();

/** A fresh copy of one stored array. */
const load = (ref) => bin.slice(ref.offset, ref.offset + ref.length);
const bits = (a) => new Uint32Array(a.buffer, a.byteOffset, a.length);
const fmtShape = (s) => `[${s.join(', ')}]`;

function unravel(index, shape) {
  const idx = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(index % shape[d]);
    index = Math.floor(index / shape[d]);
  }
  return `(${idx.join(', ')})`;
}

/** The element that violates the tolerance the most (relative to its tolerance), or null. */
function worstElement(got, want, bound, k) {
  const scale = TOL_FACTOR * EPS32 * (Math.sqrt(k) + 2);
  let worst = null;
  let count = 0;
  for (let i = 0; i < want.length; i++) {
    const tol = scale * bound[i];
    const err = Math.abs(got[i] - want[i]);
    if (err <= tol) continue;
    count++;
    const excess = Number.isNaN(err) ? Infinity : err / Math.max(tol, Number.MIN_VALUE);
    if (!worst || excess > worst.excess) worst = { index: i, got: got[i], want: want[i], err, tol, excess };
  }
  if (worst) worst.count = count;
  return worst;
}

function firstBitDifference(a, b) {
  if (a.length !== b.length) return { index: -1 };
  const ua = bits(a), ub = bits(b);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return { index: i, a: a[i], b: b[i] };
  return null;
}

function checkOutput(c, out, problems, label) {
  if (!(out instanceof Tensor) && !(out && out.data instanceof Float32Array)) {
    problems.push(`${label}: did not return a Tensor`);
    return false;
  }
  if (JSON.stringify(Array.from(out.shape)) !== JSON.stringify(c.outputShape)) {
    problems.push(`${label}: output shape ${fmtShape(out.shape)}, PyTorch ${fmtShape(c.outputShape)}`);
    return false;
  }
  const want = load(c.expected);
  const bound = load(c.absBound);
  const w = worstElement(out.data, want, bound, c.K);
  if (w) {
    problems.push(
      `${label}: ${w.count} of ${want.length} elements outside tolerance; worst at flat index ${w.index} ` +
      `${unravel(w.index, c.outputShape)} of ${fmtShape(c.outputShape)}: got ${w.got}, PyTorch ${w.want}, ` +
      `|diff| ${w.err.toExponential(3)} > tol ${w.tol.toExponential(3)} ` +
      `(K=${c.K}, sum|x*w|+|b|=${bound[w.index].toExponential(3)}, ${w.excess.toFixed(1)}x the tolerance)`);
  }
  return true;
}

function checkUnmodified(label, arr, ref, problems) {
  const d = firstBitDifference(arr, load(ref));
  if (d) problems.push(`${label} was modified${d.index >= 0 ? ` (first at ${d.index}: ${d.a} vs ${d.b})` : ''}`);
}

async function checkAsync(c, run, runAsync, input, sync, problems) {
  const asyncOut = await runAsync(input);
  if (!asyncOut || !(asyncOut.data instanceof Float32Array)) {
    problems.push('forwardAsync: did not resolve to a Tensor');
    return;
  }
  if (JSON.stringify(Array.from(asyncOut.shape)) !== JSON.stringify(Array.from(sync.shape))) {
    problems.push(`forwardAsync: shape ${fmtShape(asyncOut.shape)} differs from forward's ${fmtShape(sync.shape)}`);
    return;
  }
  const d = firstBitDifference(asyncOut.data, sync.data);
  if (d) {
    problems.push(`forwardAsync differs from forward bitwise at ${d.index} ${unravel(d.index, c.outputShape)}: ` +
      `${d.a} vs ${d.b}`);
  }
  // and a second synchronous call is deterministic
  const again = run(input);
  const d2 = firstBitDifference(again.data, sync.data);
  if (d2) problems.push(`a second forward differs from the first at ${d2.index}: ${d2.a} vs ${d2.b}`);
}

function fail(c, problems) {
  if (problems.length) throw new Error(`parity case '${c.name}':\n  - ${problems.join('\n  - ')}`);
}

const moduleCases = manifest.cases.filter((c) => !c.functional);
const functionalCases = manifest.cases.filter((c) => c.functional);

describe('fixtures', () => {
  test('manifest and binary agree', () => {
    expect(bin.length).toBe(manifest.totalElements);
    expect(moduleCases.length).toBeGreaterThan(50);
    expect(functionalCases.length).toBeGreaterThan(0);
    for (const c of manifest.cases) {
      for (const key of ['input', 'weight', 'bias', 'expected', 'absBound']) {
        const r = c[key];
        if (r === null) continue;
        expect(r.offset + r.length).toBeLessThanOrEqual(bin.length);
      }
      expect(c.expected.length).toBe(c.outputShape.reduce((a, b) => a * b, 1));
    }
  });
});

describe('torch.nn.Conv2d parity', () => {
  test.each(moduleCases.map((c) => [c.name, c]))('%s', async (_name, c) => {
    const problems = [];
    const conv = new Conv2d(c.inChannels, c.outChannels, c.kernelSize, c.options);

    const repr = conv.toString();
    if (repr !== c.repr) problems.push(`toString() is\n      ${repr}\n    PyTorch's repr is\n      ${c.repr}`);
    const a = c.torchAttrs;
    const attrs = {
      kernelSize: conv.kernelSize, stride: conv.stride, padding: conv.padding, dilation: conv.dilation,
      groups: conv.groups, paddingMode: conv.paddingMode,
    };
    for (const [key, got] of Object.entries(attrs)) {
      const g = typeof got === 'string' || typeof got === 'number' ? got : Array.from(got);
      if (JSON.stringify(g) !== JSON.stringify(a[key])) {
        problems.push(`conv.${key} is ${JSON.stringify(g)}, PyTorch's is ${JSON.stringify(a[key])}`);
      }
    }
    if (JSON.stringify(Array.from(conv.weight.shape)) !== JSON.stringify(c.weightShape)) {
      problems.push(`default weight shape ${fmtShape(conv.weight.shape)}, PyTorch ${fmtShape(c.weightShape)}`);
    }
    if ((conv.bias === null) !== (c.bias === null)) {
      problems.push(`default bias is ${conv.bias === null ? 'null' : 'present'}, PyTorch's is ${c.bias === null ? 'None' : 'present'}`);
    }
    fail(c, problems);

    const weightData = load(c.weight);
    const biasData = c.bias === null ? null : load(c.bias);
    conv.loadStateDict({
      weight: new Tensor(weightData, c.weightShape),
      bias: biasData === null ? null : new Tensor(biasData, [c.outChannels]),
    });

    const inputData = load(c.input);
    const input = new Tensor(inputData, c.inputShape);
    const out = conv.forward(input);
    const shapeOk = checkOutput(c, out, problems, 'forward');
    checkUnmodified('the input', inputData, c.input, problems);
    if (shapeOk) {
      await checkAsync(c, (x) => conv.forward(x), (x) => conv.forwardAsync(x), input, out, problems);
      checkUnmodified('the input (after forwardAsync)', inputData, c.input, problems);
    }
    checkUnmodified('the loaded weight', weightData, c.weight, problems);
    if (biasData) checkUnmodified('the loaded bias', biasData, c.bias, problems);
    fail(c, problems);
  });
});

describe('torch.nn.functional.conv2d parity', () => {
  test.each(functionalCases.map((c) => [c.name, c]))('%s', (_name, c) => {
    const problems = [];
    const inputData = load(c.input);
    const weightData = load(c.weight);
    const biasData = c.bias === null ? null : load(c.bias);
    const out = conv2d(
      new Tensor(inputData, c.inputShape),
      new Tensor(weightData, c.weightShape),
      biasData === null ? null : new Tensor(biasData, [c.weightShape[0]]),
      c.options);
    checkOutput(c, out, problems, 'conv2d');
    checkUnmodified('the input', inputData, c.input, problems);
    checkUnmodified('the weight', weightData, c.weight, problems);
    if (biasData) checkUnmodified('the bias', biasData, c.bias, problems);
    fail(c, problems);
  });
});
