// The conv family's PyTorch fixtures (test/fixtures/family.json: Conv1d,
// F.conv1d, fuse_conv_bn_eval) through the public API, for
// scripts/test-arm64-node.js: the same checks as test/family.test.js without
// jest, so they run in an arm64 Node.js under qemu. Calls fail(msg) per problem.
'use strict';
const fs = require('fs');
const path = require('path');

const EPS32 = 2 ** -23;
const FIX = path.join(__dirname, '..', 'test', 'fixtures');

module.exports = async function familyParity({ simdconv, fail, quick }) {
  const { Tensor, Conv1d, Conv2d, conv1d, fuseConvBn } = simdconv;
  const manifest = JSON.parse(fs.readFileSync(path.join(FIX, 'family.json'), 'utf8'));
  const buf = fs.readFileSync(path.join(FIX, 'family.bin'));
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength); // little-endian float32
  const bin = Float32Array.from({ length: buf.length / 4 }, (_, i) => dv.getFloat32(i * 4, true));
  const tensor = (ref, shape) => new Tensor(bin.slice(ref.offset, ref.offset + ref.length), shape);
  const sameBits = (a, b) => a.length === b.length &&
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  const pick = (cases) => cases.filter((_, i) => !quick || i % 4 === 0);

  /** Within 4 eps32 (sqrt(K) + 2) absBound of PyTorch per element (the parity rule). */
  function within(c, label, out, expectedRef) {
    if (JSON.stringify(out.shape) !== JSON.stringify(c.outputShape))
      return fail(`family ${c.name} ${label}: shape [${out.shape}] vs PyTorch [${c.outputShape}]`), false;
    const want = tensor(expectedRef, [expectedRef.length]).data, bound = tensor(c.absBound, [c.absBound.length]).data;
    const scale = 4 * EPS32 * (Math.sqrt(c.K) + 2);
    let bad = 0;
    for (let i = 0; i < want.length; i++) if (!(Math.abs(out.data[i] - want[i]) <= scale * bound[i])) bad++;
    if (bad) fail(`family ${c.name} ${label}: ${bad}/${want.length} elements outside tolerance`);
    return bad === 0;
  }

  let passed = 0, total = 0;
  for (const c of pick(manifest.conv1d)) {
    total++;
    const conv = new Conv1d(c.inChannels, c.outChannels, c.kernelSize, c.options);
    if (conv.toString() !== c.repr) fail(`family ${c.name}: repr ${conv} vs PyTorch ${c.repr}`);
    conv.loadStateDict({ weight: tensor(c.weight, c.weightShape), bias: c.bias && tensor(c.bias, [c.outChannels]) });
    const input = tensor(c.input, c.inputShape);
    const out = conv.forward(input);
    let ok = within(c, 'Conv1d.forward', out, c.expected);
    if (ok && !sameBits((await conv.forwardAsync(input)).data, out.data)) {
      fail(`family ${c.name}: Conv1d.forwardAsync differs from forward`);
      ok = false;
    }
    if (ok) passed++;
  }
  for (const c of pick(manifest.functional1d)) {
    total++;
    const out = conv1d(tensor(c.input, c.inputShape), tensor(c.weight, c.weightShape),
      c.bias && tensor(c.bias, [c.weightShape[0]]), c.options);
    if (within(c, 'conv1d', out, c.expected)) passed++;
  }
  for (const c of pick(manifest.fuse)) {
    total++;
    const Layer = c.layer === 'Conv2d' ? Conv2d : Conv1d;
    const conv = new Layer(c.inChannels, c.outChannels, c.kernelSize, c.options);
    conv.loadStateDict({ weight: tensor(c.weight, c.weightShape), bias: c.bias && tensor(c.bias, [c.outChannels]) });
    const bn = {};
    for (const [key, ref] of Object.entries(c.bn)) bn[`${c.prefix}${key}`] = tensor(ref, [c.outChannels]);
    const fused = fuseConvBn(conv, bn, { prefix: c.prefix, eps: c.eps });
    let ok = true;
    if (!sameBits(fused.weight.data, tensor(c.fusedWeight, [c.fusedWeight.length]).data) ||
        !sameBits(fused.bias.data, tensor(c.fusedBias, [c.outChannels]).data)) {
      fail(`family ${c.name}: fused weight/bias differ from PyTorch's fuse_conv_bn_eval`);
      ok = false;
    }
    if (within(c, 'bn(conv(x))', fused.forward(tensor(c.input, c.inputShape)), c.expectedBn) && ok) passed++;
  }
  console.log(`conv family: ${passed}/${total} PyTorch fixture cases (Conv1d, F.conv1d, fuse_conv_bn_eval) pass`);
};
