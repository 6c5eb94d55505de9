// The committed PyTorch fixtures (test/fixtures/<set>.json + .bin) and the
// parity check against them, for the scripts that run the package outside
// jest (test-prebuild-node.js: arm64 Node.js under qemu, node.exe under Wine;
// runtime-checks.js: Bun and Deno). The tolerance is the parity suite's:
// |got - PyTorch| <= 4 eps (sqrt(K) + 2) x the per-element bound.
// Plain CommonJS with node: built-ins only, so every runtime loads it.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const EPS32 = 2 ** -23;
const FIX = path.join(__dirname, '..', 'test', 'fixtures');

/** The manifest of one fixture set and a loader for its float32 ranges. */
function fixtures(set) {
  const manifest = JSON.parse(fs.readFileSync(path.join(FIX, `${set}.json`), 'utf8'));
  const buf = fs.readFileSync(path.join(FIX, `${set}.bin`));
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength); // little-endian float32
  const bin = new Float32Array(buf.length / 4);
  for (let i = 0; i < bin.length; i++) bin[i] = dv.getFloat32(i * 4, true);
  return { manifest, cases: manifest.cases, load: (ref) => bin.slice(ref.offset, ref.offset + ref.length) };
}

const sameBits = (a, b) => a.length === b.length &&
  Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

/**
 * null when out matches the case's PyTorch output (c.expected, or the range
 * given) within tolerance, else what is wrong.
 */
function parityError(c, out, load, expected = c.expected) {
  if (JSON.stringify(Array.from(out.shape)) !== JSON.stringify(c.outputShape))
    return `shape [${out.shape}] vs PyTorch [${c.outputShape}]`;
  const want = load(expected), bound = load(c.absBound);
  const scale = 4 * EPS32 * (Math.sqrt(c.K) + 2);
  let bad = 0, worst = null;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(out.data[i] - want[i]);
    if (err <= scale * bound[i]) continue;
    bad++;
    if (!worst || !(err <= worst.err)) worst = { i, got: out.data[i], want: want[i], err, tol: scale * bound[i] };
  }
  return bad ? `${bad}/${want.length} elements outside tolerance; worst #${worst.i}: got ${worst.got} ` +
    `PyTorch ${worst.want} (|diff| ${worst.err.toExponential(3)} > ${worst.tol.toExponential(3)})` : null;
}

/**
 * Every Conv2d / F.conv2d case of parity.json (every 4th with quick) through
 * the public API of `s`: repr, forward within tolerance, forwardAsync equal to
 * forward bitwise. Calls fail(msg) per problem; returns the counts.
 */
async function conv2dParity(s, fail, { quick = false } = {}) {
  const { cases: all, load } = fixtures('parity');
  const cases = all.filter((_, i) => !quick || i % 4 === 0);
  let passed = 0, elements = 0;
  for (const c of cases) {
    const bias = c.bias === null ? null : load(c.bias);
    let err;
    if (c.functional) {
      const out = s.conv2d(new s.Tensor(load(c.input), c.inputShape), new s.Tensor(load(c.weight), c.weightShape),
        bias === null ? null : new s.Tensor(bias, [c.weightShape[0]]), c.options);
      err = parityError(c, out, load);
    } else {
      const conv = new s.Conv2d(c.inChannels, c.outChannels, c.kernelSize, c.options);
      if (conv.toString() !== c.repr) fail(`parity ${c.name}: repr ${conv.toString()} vs PyTorch ${c.repr}`);
      conv.loadStateDict({
        weight: new s.Tensor(load(c.weight), c.weightShape),
        bias: bias === null ? null : new s.Tensor(bias, [c.outChannels]),
      });
      const input = new s.Tensor(load(c.input), c.inputShape);
      const out = conv.forward(input);
      err = parityError(c, out, load);
      if (!err && !sameBits((await conv.forwardAsync(input)).data, out.data)) err = 'forwardAsync differs from forward';
    }
    if (err) fail(`parity ${c.name}: ${err}`);
    else { passed++; elements += c.expected.length; }
  }
  return { passed, total: cases.length, elements };
}

module.exports = { EPS32, fixtures, sameBits, parityError, conv2dParity };
