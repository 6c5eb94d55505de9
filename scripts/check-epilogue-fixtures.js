// The fused epilogue's PyTorch fixtures (test/fixtures/epilogue.json, from
// scripts/gen_epilogue_fixtures.py) and their tolerance rule, shared by
// test/epilogue.test.js (jest, every ISA cap) and, through
// check-family-fixtures.js, the scripts that run the package outside jest
// (an arm64 prebuild under qemu, node.exe under Wine, Bun and Deno).
//
// Tolerance per element: (L + 1) * 4 eps32 (sqrt(K) + 2) * absBound, where
// 4 eps32 (sqrt(K) + 2) * absBound is the parity suite's bound on the conv's
// error (absBound counts |residual| too, since conv + residual is one more
// rounding), L bounds |act'| (an error in the activation's input grows at most
// L times), and the + 1 leaves the activation's own rounding at least
// 8 eps32 x absBound >= 8 ulps of its input's magnitude. Where the residual is
// special (NaN, +-inf, +-1e30) or the exact input is 0 (absBound 0), results
// that are NaN, infinite or zero must be PyTorch's exactly, the sign of zero
// included where the exact input is 0.
// Plain CommonJS with node: built-ins only, so every runtime loads it.
'use strict';
const { fixtures, sameBits } = require('./parity-fixtures');

const EPS32 = 2 ** -23;

/** L: a bound on |act'| over the reals (silu' <= 1.0998, gelu' <= 1.1289 in both forms, hardswish' <= 1.5). */
function slopeBound(a) {
  switch (typeof a === 'string' ? a : a.name) {
    case 'leakyRelu': return Math.max(1, Math.abs(a.negativeSlope ?? 0.01));
    case 'elu': return Math.max(1, a.alpha ?? 1);
    case 'sigmoid': return 0.25;
    case 'silu': return 1.1;
    case 'gelu': return 1.13;
    case 'hardswish': return 1.5;
    default: return 1; // relu, relu6, hardtanh, tanh
  }
}

const isSpecial = (r) => !Number.isFinite(r) || Math.abs(r) >= 1e30;
const show = (v) => (Object.is(v, -0) ? '-0' : String(v));

/**
 * Problems with `got` against PyTorch's `want` (empty when it passes); bound
 * and residual (or null) are per element, K the reduction length.
 */
function epilogueMismatches(label, got, want, bound, residual, K, activation) {
  const scale = (slopeBound(activation) + 1) * 4 * EPS32 * (Math.sqrt(K) + 2);
  let bad = 0, first = '';
  for (let i = 0; i < want.length; i++) {
    const g = got[i], w = want[i];
    const exactZero = bound[i] === 0; // the activation's exact input is 0 (or -0)
    let ok;
    if ((residual && isSpecial(residual[i])) || exactZero) {
      if (!Number.isFinite(w) || exactZero) ok = Object.is(g, w);
      else if (w === 0) ok = g === 0;
      else ok = Math.abs(g - w) <= scale * bound[i];
    } else {
      ok = Math.abs(g - w) <= scale * bound[i]; // false for a NaN
    }
    if (ok) continue;
    if (!bad) first = `at ${i}: got ${show(g)}, PyTorch ${show(w)}${residual ? ` (residual ${show(residual[i])})` : ''}, ` +
      `tolerance ${scale * bound[i]}`;
    bad++;
  }
  return bad ? [`${label}: ${bad} of ${want.length} elements off; first ${first}`] : [];
}

/** A fixture layer case built through the public API with the given activation and PyTorch's weights. */
function fixtureLayer(simdconv, c, activation, load) {
  const conv = new simdconv[c.layer](c.inChannels, c.outChannels, c.kernelSize, { ...c.options, activation });
  conv.loadStateDict({ weight: new simdconv.Tensor(load(c.weight), c.weightShape),
    bias: c.bias && new simdconv.Tensor(load(c.bias), [c.outChannels]) });
  return conv;
}

/**
 * Every output of every layer case (every 4th layer with quick) through the
 * public API at the planner's choice: forward within tolerance, forwardAsync
 * bitwise equal to it. Calls fail(msg) per problem.
 */
async function epilogueParity({ simdconv, fail, quick }) {
  const { manifest, load } = fixtures('epilogue');
  let passed = 0, total = 0;
  for (const c of manifest.layers.filter((_, i) => !quick || i % 4 === 0)) {
    const input = new simdconv.Tensor(load(c.input), c.inputShape);
    const residualData = load(c.residual);
    const residual = new simdconv.Tensor(residualData, c.outputShape);
    for (const o of c.outputs) {
      total++;
      const conv = fixtureLayer(simdconv, c, o.activation, load);
      const opts = o.residual ? { residual } : {};
      const y = conv.forward(input, opts);
      const label = `epilogue ${c.name} ${JSON.stringify(o.activation)}${o.residual ? ' + residual' : ''}`;
      const problems = epilogueMismatches(label, y.data, load(o.expected),
        load(o.residual ? c.absBoundResidual : c.absBound), o.residual ? residualData : null, c.K, o.activation);
      if (!problems.length && !sameBits((await conv.forwardAsync(input, opts)).data, y.data))
        problems.push(`${label}: forwardAsync differs from forward`);
      problems.forEach(fail);
      if (!problems.length) passed++;
    }
  }
  console.log(`fused epilogue: ${passed}/${total} PyTorch fixture outputs (every activation, with and without ` +
    'a residual) pass');
}

module.exports = { slopeBound, epilogueMismatches, fixtureLayer, epilogueParity };
