// bench/networks.json (the layer lists `node bench/run.js --networks` times,
// written by scripts/gen_networks.js from the architectures' definitions)
// against the same networks built as PyTorch modules
// (scripts/gen_network_totals.py -> test/fixtures/networks_torch.json) and
// against the published multiply-accumulate and parameter counts.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const ROOT = path.join(__dirname, '..');
const lists = JSON.parse(fs.readFileSync(path.join(ROOT, 'bench', 'networks.json'), 'utf8')).networks;
const torch = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'networks_torch.json'), 'utf8')).networks;
const { layerMacs, layerWeightParams, expandLayer } = require('../bench/networks');

const totals = (net) => {
  const t = { convs: 0, conv_transposes: 0, conv_macs: 0, conv_transpose_macs: 0, conv_weight_params: 0 };
  for (const l of net.layers) {
    const transposed = l.op === 'conv_transpose2d';
    t[transposed ? 'conv_transposes' : 'convs'] += l.count;
    t[transposed ? 'conv_transpose_macs' : 'conv_macs'] += l.count * layerMacs(l);
    t.conv_weight_params += l.count * layerWeightParams(l);
  }
  return t;
};

test('bench/networks.json is what scripts/gen_networks.js writes (no hand edits that the generator would undo)', () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'simdconv-nets-')), 'networks.json');
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'gen_networks.js'), out], { stdio: 'ignore' });
  expect(fs.readFileSync(out, 'utf8')).toBe(fs.readFileSync(path.join(ROOT, 'bench', 'networks.json'), 'utf8'));
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
});

test('the bench lists the four networks PyTorch was asked about', () => {
  expect(lists.map((n) => n.name).sort()).toEqual(Object.keys(torch).sort());
});

describe.each(lists.map((n) => [n.name, n]))('%s', (name, net) => {
  test('every conv layer, with its shape and arguments, is the one the PyTorch module runs', () => {
    const mine = net.layers.flatMap((l) => Array(l.count).fill(JSON.stringify(expandLayer(l)))).sort();
    const theirs = torch[name].layers.map((l) => JSON.stringify(l, Object.keys(l).sort())).sort();
    expect(mine).toEqual(theirs);
  });

  test('conv and transposed-conv counts, MACs and conv weight parameters equal the PyTorch module\'s', () => {
    const t = totals(net);
    for (const k of Object.keys(t)) expect([k, t[k]]).toEqual([k, torch[name][k]]);
  });
});

// Published counts (torchvision's model docs, fvcore): ResNet-50 4.09 GMACs and
// 25.56M params (fc: 2.05M MACs, 2.05M params; BatchNorm: 53k params);
// MobileNetV2 300M MACs and 3.50M params (classifier 1.28M, BatchNorm 34k);
// ResNet-18 1.81 GMACs and 11.69M params per image (fc 0.51M, BatchNorm 9.6k).
test.each([
  ['resnet50', 1, 4.09e9 - 2.05e6, 0.01, 25.557e6 - 2.049e6 - 53.1e3, 0.005],
  ['mobilenetv2', 1, 300e6 - 1.28e6, 0.01, 3.505e6 - 1.281e6 - 34.1e3, 0.005],
  ['resnet18_b8', 8, 1.81e9 - 0.51e6, 0.01, 11.690e6 - 0.513e6 - 9.6e3, 0.005],
])('%s is within tolerance of the published MACs and conv parameters', (name, batch, macs, macTol, params, paramTol) => {
  const t = totals(lists.find((n) => n.name === name));
  expect(Math.abs(t.conv_macs / batch / macs - 1)).toBeLessThan(macTol);
  expect(Math.abs(t.conv_weight_params / params - 1)).toBeLessThan(paramTol);
});
