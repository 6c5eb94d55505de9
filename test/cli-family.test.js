// `simdconv run` for the conv family, run as users run it (node dist/cli.js):
// "type": "Conv1d" / "ConvTranspose2d" (with "output_padding"), "activation"
// and "batch_norm" (a BatchNorm folded with fuseConvBn) from LAYER.json or the
// flags, on the PyTorch cases of test/fixtures/family.json, transpose.json and
// epilogue.json written out as a safetensors state_dict and .npy inputs. Each
// output must equal the library's own layer on the same weights bit for bit,
// and PyTorch's (conv(x), bn(conv(x)) for a fold, F.relu(...) with an
// activation) within the parity tolerance (scripts/parity-fixtures.js). Then
// the mistakes, each refused by name.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { simdconv } = require('./helpers');
const { runCli } = require('./cli-helpers');
const { makeSafetensors, f32bytes } = require('./safetensors-writer');
const { fixtures, parityError, sameBits } = require('../scripts/parity-fixtures');

const { Conv1d, Conv2d, ConvTranspose2d, Tensor, fuseConvBn, loadNpy, saveNpy } = simdconv;
const { manifest, load } = fixtures('family');
const transpose = fixtures('transpose');
const epilogue = fixtures('epilogue');

let tmp;
beforeAll(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'simdconv-cli-family-')); });
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const cli = (args) => runCli(args, { cwd: tmp });

const snake = (key) => key.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`);
const f32 = (name, shape, data) => ({ name, dtype: 'F32', shape, bytes: f32bytes(data) });

/**
 * A directory with the case's state_dict (the conv under 'conv.', its BatchNorm under c.prefix with
 * num_batches_tracked as int64, as PyTorch saves it), its input as x.npy and LAYER.json from `layer`.
 */
function writeCase(name, c, layer, loader = load) {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  const tensors = [f32('conv.weight', c.weightShape, loader(c.weight))];
  if (c.bias) tensors.push(f32('conv.bias', [c.outChannels], loader(c.bias)));
  for (const [key, ref] of Object.entries(c.bn ?? {})) tensors.push(f32(`${c.prefix}${key}`, [c.outChannels], loader(ref)));
  if (c.bn) tensors.push({ name: `${c.prefix}num_batches_tracked`, dtype: 'I64', shape: [], bytes: new Uint8Array(8) });
  fs.writeFileSync(path.join(dir, 'w.safetensors'), makeSafetensors(tensors));
  fs.writeFileSync(path.join(dir, 'x.npy'), saveNpy(new Tensor(loader(c.input), c.inputShape)));
  if (layer) fs.writeFileSync(path.join(dir, 'layer.json'), JSON.stringify(layer));
  return {
    dir,
    weights: path.join(dir, 'w.safetensors'),
    config: path.join(dir, 'layer.json'),
    input: path.join(dir, 'x.npy'),
    output: path.join(dir, 'out', 'x.npy'),
  };
}

/** LAYER.json for a fixture case: PyTorch's argument names, the layer's type, and the options as given to torch. */
function layerJson(c, extra = {}) {
  const json = { type: c.layer ?? 'Conv1d', in_channels: c.inChannels, out_channels: c.outChannels, kernel_size: c.kernelSize };
  for (const [key, value] of Object.entries(c.options)) json[snake(key)] = value;
  return { ...json, ...extra };
}

/** The fixture's layer, built and loaded in this process through the library's API. */
function libraryLayer(c, Layer, loader = load, extra = {}) {
  const conv = new Layer(c.inChannels, c.outChannels, c.kernelSize, { ...c.options, ...extra });
  conv.loadStateDict({ weight: new Tensor(loader(c.weight), c.weightShape), bias: c.bias && new Tensor(loader(c.bias), [c.outChannels]) });
  return conv;
}

function expectSameBits(got, want) {
  expect(got.shape).toEqual(want.shape);
  if (!sameBits(got.data, want.data)) {
    const i = want.data.findIndex((v, j) => !Object.is(v, got.data[j]));
    throw new Error(`the CLI's output differs from the library's at element ${i}: ${got.data[i]} vs ${want.data[i]}`);
  }
}

// Every option family of Conv1d, through LAYER.json: 1-tuples, stride, 'same' with an even kernel,
// dilation, groups, depthwise without bias, each padding mode, unbatched [C, L] and empty batches.
const CONV1D_CASES = ['k_as_1_tuple', 'stride2_pad1_odd', 'same_even_k4', 'dil4_causal_like_pad8', 'grouped_8_12_g4',
  'depthwise_nobias', 'reflect_same_dil3_k2', 'replicate_pad2_stride2', 'circular_depthwise', 'reflect_nobias_unbatched',
  'unbatched_grouped_stride', 'batch0', 'whisper_like_80_96_k3'];

describe('"type": "Conv1d" equals the library\'s Conv1d bit for bit, and PyTorch within tolerance', () => {
  test.each(CONV1D_CASES)('%s', (name) => {
    const c = manifest.conv1d.find((k) => k.name === name);
    const files = writeCase(`conv1d-${name}`, c, layerJson(c));
    const r = cli(['run', '--weights', files.weights, '--prefix', 'conv.', '--config', files.config, files.input,
      '--out-dir', path.dirname(files.output)]);
    expect(r.out).toContain(`run: ${c.repr} from`);
    expect(r.code).toBe(0);
    const got = loadNpy(files.output);
    expectSameBits(got, libraryLayer(c, Conv1d).forward(new Tensor(load(c.input), c.inputShape)));
    expect(parityError(c, got, load)).toBeNull();
  });

  test('with flags: --type Conv1d, the channels, kernel and bias taken from the 3-D weight', () => {
    const c = manifest.conv1d.find((k) => k.name === 'reflect_grouped_same_dil2');
    const files = writeCase('conv1d-flags', c);
    const r = cli(['run', '--weights', files.weights, '--prefix', 'conv', '--type', 'Conv1d', '--groups', '3',
      '--padding', 'same', '--dilation', '2', '--padding-mode', 'reflect', files.input, '--out-dir', path.dirname(files.output)]);
    expect(r.out).toContain(`run: ${c.repr} from`);
    expect(r.out).toMatch(/\[1, 6, 11\] -> \[1, 9, 11\]/);
    expect(r.stdout).toMatch(/GFLOP\/s\)/); // FLOPs counted for a 1-element kernelSize too
    expect(r.code).toBe(0);
    const got = loadNpy(files.output);
    expectSameBits(got, libraryLayer(c, Conv1d).forward(new Tensor(load(c.input), c.inputShape)));
    expect(parityError(c, got, load)).toBeNull();
  });
});

describe('"batch_norm" folds the BatchNorm: fuseConvBn + forward bit for bit, PyTorch\'s bn(conv(x)) within tolerance', () => {
  // Cases whose eps is PyTorch's default leave "batch_norm_eps" out, so the default is checked too.
  test.each(manifest.fuse.map((c) => [c.name, c]))('%s', (name, c) => {
    const extra = { batch_norm: c.prefix, ...(c.eps === 1e-5 ? {} : { batch_norm_eps: c.eps }) };
    const files = writeCase(`fuse-${name}`, c, layerJson(c, extra));
    const r = cli(['run', '--weights', files.weights, '--prefix', 'conv.', '--config', files.config, files.input,
      '--out-dir', path.dirname(files.output)]);
    expect(r.out).toContain(`run: ${c.fusedRepr} from`);
    expect(r.out).toContain(`with the BatchNorm '${c.prefix}' folded in (eps ${c.eps})`);
    expect(r.code).toBe(0);
    const Layer = c.layer === 'Conv2d' ? Conv2d : Conv1d;
    const bn = {};
    for (const [key, ref] of Object.entries(c.bn)) bn[key] = new Tensor(load(ref), [c.outChannels]);
    const fused = fuseConvBn(libraryLayer(c, Layer), bn, { eps: c.eps });
    const got = loadNpy(files.output);
    expectSameBits(got, fused.forward(new Tensor(load(c.input), c.inputShape)));
    expect(parityError(c, got, load, c.expectedBn)).toBeNull();
  });

  test('with flags: --batch-norm without the dot and --batch-norm-eps', () => {
    const c = manifest.fuse.find((k) => k.name === 'conv2d_nobias_resnet_like'); // prefix 'layer1.0.bn1.', eps 1e-3
    const files = writeCase('fuse-flags', c);
    const r = cli(['run', '--weights', files.weights, '--prefix', 'conv.', '--padding', '1', '--batch-norm', 'layer1.0.bn1',
      '--batch-norm-eps', String(c.eps), files.input, '--out-dir', path.dirname(files.output)]);
    expect(r.out).toContain("with the BatchNorm 'layer1.0.bn1.' folded in (eps 0.001)");
    expect(r.code).toBe(0);
    expect(parityError(c, loadNpy(files.output), load, c.expectedBn)).toBeNull();
  });
});

describe('"type": "ConvTranspose2d" with "output_padding", and its BatchNorm fold', () => {
  const runCase = (files, args) => cli(['run', '--weights', files.weights, '--prefix', 'conv.', ...args, files.input,
    '--out-dir', path.dirname(files.output)]);

  test.each(['k3_s2_p1_op1', 'asym_op', 'groups3_op', 'unbatched_groups_op', 'dil3_s2_p2'])('%s from LAYER.json', (name) => {
    const c = transpose.manifest.modules.find((k) => k.name === name);
    const files = writeCase(`convT-${name}`, c, layerJson(c, { type: 'ConvTranspose2d' }), transpose.load);
    const r = runCase(files, ['--config', files.config]);
    expect(r.out).toContain(`run: ${c.repr} from`);
    expect(r.code).toBe(0);
    const got = loadNpy(files.output);
    expectSameBits(got, libraryLayer(c, ConvTranspose2d, transpose.load).forward(new Tensor(transpose.load(c.input), c.inputShape)));
    expect(parityError(c, got, transpose.load)).toBeNull();
  });

  test('with flags: channels, kernel and bias from the [in, out/groups, kH, kW] weight', () => {
    const c = transpose.manifest.modules.find((k) => k.name === 'groups3_op'); // 6 -> 9, groups 3, stride 2, padding 1, op 1
    const files = writeCase('convT-flags', c, null, transpose.load);
    const r = runCase(files, ['--type', 'ConvTranspose2d', '--groups', '3', '--stride', '2', '--padding', '1', '--output-padding', '1']);
    expect(r.out).toContain(`run: ${c.repr} from`);
    expect(r.code).toBe(0);
    expect(parityError(c, loadNpy(files.output), transpose.load)).toBeNull();
  });

  test('"batch_norm" folds into a ConvTranspose2d (PyTorch\'s bn(conv(x)) within tolerance)', () => {
    const c = transpose.manifest.fuse.find((k) => k.name === 'fuse_k4_s2_p1'); // prefix 'decoder.bn.'
    const files = writeCase('convT-fuse', c, layerJson(c, { type: 'ConvTranspose2d', batch_norm: c.prefix }), transpose.load);
    const r = runCase(files, ['--config', files.config]);
    expect(r.out).toContain(`with the BatchNorm '${c.prefix}' folded in`);
    expect(r.code).toBe(0);
    expect(parityError(c, loadNpy(files.output), transpose.load, c.expectedBn)).toBeNull();
  });
});

describe('"activation": fused, bit for bit the library\'s layer, PyTorch\'s F.relu(...) within tolerance', () => {
  const byName = (name) => epilogue.manifest.layers.find((k) => k.name === name);
  const runCase = (files, args) => cli(['run', '--weights', files.weights, '--prefix', 'conv.', ...args, files.input,
    '--out-dir', path.dirname(files.output)]);

  test.each([
    ['wino_3x3_16', 'relu', 'relu'],
    ['conv1d_k3', { name: 'leakyRelu', negative_slope: 0.2 }, { name: 'leakyRelu', negativeSlope: 0.2 }],
    ['convT_s2_op1', { name: 'hardtanh', min_val: -0.25, max_val: 0.5 }, { name: 'hardtanh', minVal: -0.25, maxVal: 0.5 }],
    ['grouped_3x3', { name: 'gelu', approximate: 'tanh' }, { name: 'gelu', approximate: 'tanh' }],
  ])('%s with %j in LAYER.json', (name, json, activation) => {
    const c = byName(name);
    const files = writeCase(`act-${name}`, c, layerJson(c, { activation: json }), epilogue.load);
    const r = runCase(files, ['--config', files.config]);
    const o = c.outputs.find((k) => !k.residual && JSON.stringify(k.activation) === JSON.stringify(activation));
    expect(r.out).toContain(`run: ${c.repr.slice(0, -1)}, activation=${o.activationRepr}) from`);
    expect(r.code).toBe(0);
    const got = loadNpy(files.output);
    const Layer = { Conv2d, Conv1d, ConvTranspose2d }[c.layer];
    expectSameBits(got, libraryLayer(c, Layer, epilogue.load, { activation }).forward(new Tensor(epilogue.load(c.input), c.inputShape)));
    if (activation === 'relu') expect(parityError(c, got, epilogue.load, o.expected)).toBeNull(); // relu adds no error
  });

  test('--activation as a name or a JSON object, with --batch-norm: F.relu(bn(conv(x))) within tolerance', () => {
    const c = epilogue.manifest.fuse.find((k) => k.name === 'fuse_conv2d_bn_relu'); // prefix 'layer1.0.bn1.', padding 1, no bias
    const files = writeCase('act-bn-flags', c, null, epilogue.load);
    for (const flag of ['relu', '{"name": "relu"}']) {
      const r = runCase(files, ['--padding', '1', '--batch-norm', c.prefix, '--activation', flag]);
      expect(r.out).toContain('activation=ReLU()) from');
      expect(r.out).toContain(`with the BatchNorm '${c.prefix}' folded in`);
      expect(r.code).toBe(0);
      expect(parityError(c, loadNpy(files.output), epilogue.load, c.expectedBnNoResidual)).toBeNull();
    }
  });
});

describe('refused (exit 2): mistakes, each named', () => {
  const c = manifest.fuse.find((k) => k.name === 'conv1d_bias'); // Conv1d(4, 6, 3, padding 1), BatchNorm 'bn.'
  let files;
  beforeAll(() => { files = writeCase('errors', c); });
  const run = (args) => cli(['run', '--weights', files.weights, '--prefix', 'conv.', ...args, files.input,
    '--out-dir', path.join(files.dir, 'out')]);
  const withConfig = (json) => {
    fs.writeFileSync(files.config, JSON.stringify(json));
    return run(['--config', files.config]);
  };

  test.each([
    ['output_padding on a Conv1d', () => withConfig({ type: 'Conv1d', output_padding: 1 }), '"output_padding" belongs to ConvTranspose2d: give "type": "ConvTranspose2d" (this layer is a Conv1d)'],
    ['--output-padding on a Conv2d', () => run(['--output-padding', '1']), '--output-padding belongs to ConvTranspose2d: give --type ConvTranspose2d (this layer is a Conv2d)'],
    ['an unknown activation', () => withConfig({ type: 'Conv1d', padding: 1, activation: 'swish' }), 'invalid layer: Conv1d: unknown activation "swish"; supported: relu, relu6, leakyRelu'],
    ['an activation parameter that is a string', () => withConfig({ type: 'Conv1d', padding: 1, activation: { name: 'elu', alpha: '1' } }), 'invalid layer: Conv1d: activation.alpha must be a number, got "1"'],
    ['an unknown --activation', () => run(['--type', 'Conv1d', '--padding', '1', '--activation', 'leaky_relu']), 'unknown activation "leaky_relu" (did you mean \'leakyRelu\'?)'],
    ['--activation that is not JSON', () => run(['--type', 'Conv1d', '--activation', '{name: relu}']), '--activation {name: relu}: not a JSON object'],
    ['an unknown type', () => withConfig({ type: 'Linear' }), '"type" must be Conv2d, Conv1d or ConvTranspose2d (default Conv2d), got "Linear"'],
    ['an unknown --type', () => run(['--type', 'conv1d']), '--type must be Conv2d, Conv1d or ConvTranspose2d (default Conv2d), got "conv1d"'],
    ['a type that is not a string', () => withConfig({ type: 1 }), '"type" must be Conv2d, Conv1d or ConvTranspose2d (default Conv2d), got 1'],
    ['batch_norm that is not a string', () => withConfig({ type: 'Conv1d', batch_norm: true }), '"batch_norm" must be the BatchNorm\'s key prefix'],
    ['batch_norm_eps without batch_norm', () => withConfig({ type: 'Conv1d', batch_norm_eps: 1e-3 }), '"batch_norm_eps" needs "batch_norm"'],
    ['--batch-norm-eps without --batch-norm', () => run(['--type', 'Conv1d', '--batch-norm-eps', '1e-3']), '--batch-norm-eps needs --batch-norm'],
    ['a negative batch_norm_eps', () => withConfig({ type: 'Conv1d', batch_norm: 'bn.', batch_norm_eps: -1 }), '"batch_norm_eps" must be a finite number >= 0, got -1'],
    ['a batch_norm_eps string', () => withConfig({ type: 'Conv1d', batch_norm: 'bn.', batch_norm_eps: '1e-3' }), '"batch_norm_eps" must be a finite number >= 0, got "1e-3"'],
    ['a bad --batch-norm-eps', () => run(['--type', 'Conv1d', '--batch-norm', 'bn.', '--batch-norm-eps', 'tiny']), "--batch-norm-eps <eps>' argument 'tiny' is invalid"],
    ['--config and --type', () => run(['--config', files.config, '--type', 'Conv1d']), '--config and conv flags (--type) cannot be combined'],
    ['a Conv1d kernel pair', () => run(['--type', 'Conv1d', '--kernel-size', '3,3']), 'invalid layer: Conv1d: kernelSize must be an integer'],
  ])('%s', (_name, go, message) => {
    const r = go();
    expect(r.stderr).toContain(message);
    expect(r.code).toBe(2);
    expect(fs.existsSync(path.join(files.dir, 'out'))).toBe(false);
  });

  test.each([
    ['a missing BatchNorm', ['--type', 'Conv1d', '--padding', '1', '--batch-norm', 'bn2.'],
      "cannot fold the BatchNorm 'bn2.' of ", "fuseConvBn: missing key 'bn2.running_mean' (BatchNorm running statistics); keys ending in 'running_mean': bn.running_mean"],
    ['a 3-D weight without --type Conv1d', ['--padding', '1'],
      "'conv.weight' in ", 'a Conv2d weight is 4-D [out, in/groups, kH, kW] (a 3-D weight is a Conv1d\'s: give "type": "Conv1d" in LAYER.json, or --type Conv1d)'],
  ])('%s: the job cannot start (exit 1)', (_name, args, start, message) => {
    const r = run(args);
    expect(r.stderr).toContain(start);
    expect(r.stderr).toContain(message);
    expect(r.code).toBe(1);
  });

  test('a 4-D weight with --type Conv1d names the Conv2d it is (exit 1)', () => {
    const c2 = manifest.fuse.find((k) => k.name === 'conv2d_bias_pad1');
    const f2 = writeCase('errors-4d', c2);
    const r = cli(['run', '--weights', f2.weights, '--prefix', 'conv.', '--type', 'Conv1d', f2.input, '--out-dir', path.join(f2.dir, 'out')]);
    expect(r.stderr).toContain("'conv.weight' in ");
    expect(r.stderr).toContain('has shape [8, 3, 3, 3]: a Conv1d weight is 3-D [out, in/groups, k] (a 4-D weight is a Conv2d\'s: give "type": "Conv2d"');
    expect(r.code).toBe(1);
  });

  test('a Conv1d input that is not [N, C, L] or [C, L] fails that file (exit 1); the others are written', () => {
    const bad = path.join(files.dir, 'bad.npy');
    fs.writeFileSync(bad, saveNpy(new Tensor(new Float32Array(4 * 11), [1, 1, 4, 11])));
    const out = path.join(files.dir, 'out-mixed');
    const r = cli(['run', '--weights', files.weights, '--prefix', 'conv.', '--type', 'Conv1d', '--padding', '1',
      '--batch-norm', 'bn.', bad, files.input, '--out-dir', out]);
    expect(r.stderr).toMatch(/FAIL {2}.*bad\.npy: Conv1d\.forwardAsync: /);
    expect(r.code).toBe(1);
    expect(fs.existsSync(path.join(out, 'bad.npy'))).toBe(false);
    expect(parityError(c, loadNpy(path.join(out, 'x.npy')), load, c.expectedBn)).toBeNull();
  });
});
