// The conv family's PyTorch fixtures (test/fixtures/family.json: Conv1d,
// F.conv1d, fuse_conv_bn_eval; transpose.json: ConvTranspose2d, F.conv_transpose2d;
// epilogue.json: the fused activation and residual, check-epilogue-fixtures.js)
// through the public API, for
// scripts/test-prebuild-node.js: the same checks as test/family.test.js
// without jest, so they run where jest cannot (a prebuild in arm64 Node.js
// under qemu, in node.exe under Wine). Calls fail(msg) per problem.
'use strict';
const { fixtures, sameBits, parityError } = require('./parity-fixtures');

module.exports = async function familyParity({ simdconv, fail, quick }) {
  const { Tensor, Conv1d, Conv2d, ConvTranspose2d, conv1d, convTranspose2d, fuseConvBn } = simdconv;
  const { manifest, load } = fixtures('family');
  const tensor = (ref, shape) => new Tensor(load(ref), shape);
  const pick = (cases) => cases.filter((_, i) => !quick || i % 4 === 0);

  /** Within the parity rule's tolerance of PyTorch's output at expectedRef. */
  function within(c, label, out, expectedRef) {
    const err = parityError(c, out, load, expectedRef);
    if (err) fail(`family ${c.name} ${label}: ${err}`);
    return err === null;
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
  // ConvTranspose2d and F.conv_transpose2d (test/fixtures/transpose.json)
  const t = fixtures('transpose');
  const ttensor = (ref, shape) => new Tensor(t.load(ref), shape);
  const twithin = (c, label, out) => {
    const err = parityError(c, out, t.load);
    if (err) fail(`transpose ${c.name} ${label}: ${err}`);
    return err === null;
  };
  for (const c of pick(t.manifest.modules)) {
    total++;
    const conv = new ConvTranspose2d(c.inChannels, c.outChannels, c.kernelSize, c.options);
    if (conv.toString() !== c.repr) fail(`transpose ${c.name}: repr ${conv} vs PyTorch ${c.repr}`);
    conv.loadStateDict({ weight: ttensor(c.weight, c.weightShape), bias: c.bias && ttensor(c.bias, [c.outChannels]) });
    const input = ttensor(c.input, c.inputShape);
    const opts = c.outputSize ? { outputSize: c.outputSize } : {};
    const out = conv.forward(input, opts);
    let ok = twithin(c, 'forward', out);
    if (ok && !sameBits((await conv.forwardAsync(input, opts)).data, out.data)) {
      fail(`transpose ${c.name}: forwardAsync differs from forward`);
      ok = false;
    }
    if (ok) passed++;
  }
  for (const c of pick(t.manifest.functional)) {
    total++;
    const out = convTranspose2d(ttensor(c.input, c.inputShape), ttensor(c.weight, c.weightShape),
      c.bias && ttensor(c.bias, [c.weightShape[1] * (c.options.groups || 1)]), c.options);
    if (twithin(c, 'conv_transpose2d', out)) passed++;
  }
  console.log(`conv family: ${passed}/${total} PyTorch fixture cases (Conv1d, F.conv1d, fuse_conv_bn_eval, ` +
    'ConvTranspose2d, F.conv_transpose2d) pass');
  // the fused epilogue's (test/fixtures/epilogue.json)
  await require('./check-epilogue-fixtures').epilogueParity({ simdconv, fail, quick });
};
