#!/usr/bin/env node
// Writes bench/networks.json: every convolution of the networks that
// `node bench/run.js --networks` times, with its input shape and its
// torch.nn.Conv2d arguments, derived here from the architectures' definitions
// (torchvision's resnet.py and mobilenetv2.py, Ronneberger et al.'s UNet with
// padded convolutions), not from PyTorch. Layers of the same shape and
// arguments are listed once with a count: the bench times each shape once.
// scripts/gen_network_totals.py builds the same networks as PyTorch modules
// and test/networks.test.js checks the two against each other.
//
//   node scripts/gen_networks.js [FILE]     (rewrites bench/networks.json, or writes FILE)
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const OUT = process.argv[2] || path.join(__dirname, '..', 'bench', 'networks.json');
const outSize = (i, k, s, p, d = 1) => Math.floor((i + 2 * p - d * (k - 1) - 1) / s) + 1;

/** A layer list with the running activation shape, as a forward pass sees it. */
class Net {
  constructor(N) { this.N = N; this.layers = []; }

  conv(name, [Cin, H, W], Cout, k, { stride = 1, padding = 0, groups = 1, bias = false } = {}) {
    this.layers.push({ name, N: this.N, Cin, H, W, Cout, kernel: [k, k], stride: [stride, stride],
      padding: [padding, padding], groups, bias });
    return [Cout, outSize(H, k, stride, padding), outSize(W, k, stride, padding)];
  }

  // torch.nn.ConvTranspose2d(Cin, Cout, k, stride): Hout = (H - 1) * stride + k
  convTranspose(name, [Cin, H, W], Cout, k, stride) {
    this.layers.push({ name, op: 'conv_transpose2d', N: this.N, Cin, H, W, Cout, kernel: [k, k],
      stride: [stride, stride], padding: [0, 0], groups: 1, bias: true });
    return [Cout, (H - 1) * stride + k, (W - 1) * stride + k];
  }
}

const maxPool = ([C, H, W], k, s, p) => [C, outSize(H, k, s, p), outSize(W, k, s, p)];

// torchvision resnet.py: conv1 7x7/2 + maxpool 3x3/2; BasicBlock (two 3x3) or
// Bottleneck v1.5 (1x1, 3x3 carrying the stride, 1x1 x4); a 1x1 downsample
// with the block's stride where the shape changes.
function resnet(N, block, blocksPerStage) {
  const net = new Net(N);
  let x = net.conv('conv1', [3, 224, 224], 64, 7, { stride: 2, padding: 3 });
  x = maxPool(x, 3, 2, 1);
  const expansion = block === 'bottleneck' ? 4 : 1;
  blocksPerStage.forEach((n, si) => {
    const width = 64 << si;
    for (let b = 0; b < n; b++) {
      const stride = b === 0 && si > 0 ? 2 : 1;
      const p = `layer${si + 1}.${b}.`;
      const input = x;
      if (block === 'bottleneck') {
        x = net.conv(`${p}conv1`, x, width, 1);
        x = net.conv(`${p}conv2`, x, width, 3, { stride, padding: 1 });
        x = net.conv(`${p}conv3`, x, width * 4, 1);
      } else {
        x = net.conv(`${p}conv1`, x, width, 3, { stride, padding: 1 });
        x = net.conv(`${p}conv2`, x, width, 3, { padding: 1 });
      }
      if (stride !== 1 || input[0] !== width * expansion) net.conv(`${p}downsample.0`, input, width * expansion, 1, { stride });
    }
  });
  return net.layers;
}

// torchvision mobilenetv2.py, width 1.0: stem 3x3/2 to 32; inverted residual
// blocks (t, c, n, s): 1x1 expand by t (absent when t = 1), depthwise 3x3 with
// the stride, 1x1 project; last 1x1 to 1280.
function mobilenetV2(N) {
  const net = new Net(N);
  let x = net.conv('features.0.0', [3, 224, 224], 32, 3, { stride: 2, padding: 1 });
  const settings = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]];
  let f = 1;
  for (const [t, c, n, s] of settings) {
    for (let i = 0; i < n; i++, f++) {
      const stride = i === 0 ? s : 1;
      const hidden = x[0] * t;
      const p = `features.${f}.conv.`;
      let j = 0;
      if (t !== 1) x = net.conv(`${p}${j++}.0`, x, hidden, 1);
      x = net.conv(`${p}${j++}.0`, x, hidden, 3, { stride, padding: 1, groups: hidden });
      x = net.conv(`${p}${j}`, x, c, 1);
    }
  }
  net.conv(`features.${f}.0`, x, 1280, 1);
  return net.layers;
}

// The classic UNet (Ronneberger et al. 2015) with padded 3x3 convolutions, as
// most PyTorch ports write it: 4 levels, 64 -> 1024 channels, two 3x3 convs
// (with bias) per level, 2x2 max pooling down, 2x2 stride-2 ConvTranspose2d
// up, skip concatenation, a 1x1 head to 2 classes.
function unet(N, size) {
  const net = new Net(N);
  const double = (name, x, c) => net.conv(`${name}.conv2`, net.conv(`${name}.conv1`, x, c, 3, { padding: 1, bias: true }), c, 3, { padding: 1, bias: true });
  let x = double('inc', [3, size, size], 64);
  const skips = [];
  for (let l = 1; l <= 4; l++) {
    skips.push(x);
    x = double(`down${l}`, maxPool(x, 2, 2, 0), 64 << l);
  }
  for (let l = 1; l <= 4; l++) {
    const skip = skips.pop();
    const up = net.convTranspose(`up${l}.up`, x, x[0] / 2, 2, 2);
    x = double(`up${l}`, [up[0] + skip[0], up[1], up[2]], skip[0]);
  }
  net.conv('outc', x, 2, 1, { bias: true });
  return net.layers;
}

/** Layers of the same shape and arguments become one entry with a count (first name kept). */
function merge(layers) {
  const byKey = new Map();
  for (const l of layers) {
    const { name, ...shape } = l;
    const k = JSON.stringify(shape);
    if (byKey.has(k)) byKey.get(k).count++;
    else byKey.set(k, { name, ...l, count: 1 });
  }
  return [...byKey.values()];
}

const networks = [
  { name: 'resnet50', title: 'ResNet-50 (torchvision, v1.5), batch 1, 224x224', layers: resnet(1, 'bottleneck', [3, 4, 6, 3]) },
  { name: 'mobilenetv2', title: 'MobileNetV2 (torchvision, width 1.0), batch 1, 224x224', layers: mobilenetV2(1) },
  { name: 'resnet18_b8', title: 'ResNet-18 (torchvision), batch 8, 224x224', layers: resnet(8, 'basic', [2, 2, 2, 2]) },
  { name: 'unet', title: 'UNet (4 levels, 64-1024 channels, padded 3x3), batch 1, 3x256x256', layers: unet(1, 256) },
];

// One layer per line: the file is read by people as much as by the bench.
const lines = ['{',
  ' "description": "Every convolution of whole networks for `node bench/run.js --networks`: input shape N,Cin,H,W and torch.nn.Conv2d arguments (op conv_transpose2d: torch.nn.ConvTranspose2d), count = how many layers of the network have that shape. Written by scripts/gen_networks.js from the architectures\' definitions; test/networks.test.js checks them against PyTorch modules (scripts/gen_network_totals.py) and published MAC and parameter counts.",',
  ' "networks": ['];
networks.forEach((n, i) => {
  lines.push(`  {"name": ${JSON.stringify(n.name)}, "title": ${JSON.stringify(n.title)}, "layers": [`);
  const merged = merge(n.layers);
  merged.forEach((l, j) => lines.push(`   ${JSON.stringify(l)}${j < merged.length - 1 ? ',' : ''}`));
  lines.push(`  ]}${i < networks.length - 1 ? ',' : ''}`);
});
lines.push(' ]', '}', '');
fs.writeFileSync(OUT, lines.join('\n'));
console.log(`wrote ${path.relative(process.cwd(), OUT)}: ${networks.map((n) => `${n.name} ${n.layers.length} convs, ${merge(n.layers).length} shapes`).join('; ')}`);
