// `simdconv demo`: the package's main job on data it ships with, no arguments.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { lib, packageRoot, packageVersion, ensureDir, formatSeconds, convFlops } from './common';
import { decodeImage, encodeImage } from './images';
import { parseKernel, filterLayer, applyFilter } from './filter';
import type { Conv2d, Tensor } from '../index';

export const SAMPLE_IMAGE = path.join(packageRoot, 'data', 'sample.png');

function time<T>(fn: () => T): { value: T; seconds: number } {
  const t0 = performance.now();
  const value = fn();
  return { value, seconds: (performance.now() - t0) / 1000 };
}

/** Deterministic values in [-1, 1). */
function randomData(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

export async function demoCommand(o: { outDir?: string; batch: number }): Promise<number> {
  const simdconv = lib();
  const { Conv2d, Tensor } = simdconv;
  const info = simdconv.backendInfo();
  const outDir = o.outDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'simdconv-demo-'));
  ensureDir(outDir);
  console.log(`simdconv ${packageVersion()} demo: ISA ${info.isa} (supported: ${info.supportedIsas.join(', ')}), ` +
    `${info.numThreads} threads, Node.js ${process.version}`);

  // 1. Image filters: depthwise Conv2d layers on the bundled image.
  const img = decodeImage(fs.readFileSync(SAMPLE_IMAGE));
  console.log(`\n1. Image filters on ${path.relative(process.cwd(), SAMPLE_IMAGE) || SAMPLE_IMAGE} ` +
    `(${img.width}x${img.height}, ${img.channels} channels) as depthwise Conv2d layers (groups = channels):`);
  for (const [spec, file] of [['sobel', 'sample-sobel.png'], ['gaussian:2', 'sample-gaussian.png'], ['sharpen', 'sample-sharpen.png']]) {
    const k = parseKernel(spec);
    const conv = filterLayer(k, img.channels, 'reflect');
    await applyFilter(k, conv, img); // warm-up: the first call of a shape sets up workspaces
    const t0 = performance.now();
    const { planes } = await applyFilter(k, conv, img);
    const seconds = (performance.now() - t0) / 1000;
    const out = path.join(outDir, file);
    fs.writeFileSync(out, encodeImage(img, planes, 92));
    console.log(`   ${k.name}: ${String(conv)}`);
    console.log(`      [1, ${img.channels}, ${img.height}, ${img.width}] -> [1, ${conv.outChannels}, ${img.height}, ${img.width}]` +
      `${k.kind === 'sobel' ? ' -> gradient magnitude' : ''}, ${formatSeconds(seconds)} -> ${out}`);
  }

  // 2. A ResNet-style 3x3 layer on random data.
  const n = o.batch;
  const conv = new Conv2d(64, 64, 3, { padding: 1, bias: false });
  const x = new Tensor(randomData(n * 64 * 56 * 56, 1), [n, 64, 56, 56]);
  console.log(`\n2. A ResNet-style layer: ${String(conv)} (${conv.backend.algorithm}, ${conv.backend.isa})`);
  const out = Tensor.zeros([n, 64, 56, 56]);
  conv.forward(x, { out }); // warm-up: per-thread workspaces
  const runs: number[] = [];
  for (let i = 0; i < 5; i++) runs.push(time(() => conv.forward(x, { out })).seconds);
  const best = Math.min(...runs);
  const flops = convFlops(out.shape, conv);
  console.log(`   input [${x.shape.join(', ')}] -> output [${out.shape.join(', ')}], ${(flops / 1e9).toFixed(2)} GFLOP per call`);
  console.log(`   forward: best of 5 ${formatSeconds(best)}, ${(flops / best / 1e9).toFixed(1)} GFLOP/s ` +
    `(median ${formatSeconds(runs.sort((a, b) => a - b)[2])})`);
  await conv.forwardAsync(x); // warm-up of the async path
  const t0 = performance.now();
  const y = await conv.forwardAsync(x);
  const asyncSeconds = (performance.now() - t0) / 1000;
  let same = true;
  for (let i = 0; i < y.data.length && same; i++) same = Object.is(y.data[i], out.data[i]);
  console.log(`   forwardAsync (off the JS thread): ${formatSeconds(asyncSeconds)}, ` +
    `${same ? 'bitwise identical to forward' : 'DIFFERENT from forward'}`);
  const npy = path.join(outDir, 'resnet-output.npy');
  fs.writeFileSync(npy, simdconv.saveNpy(new Tensor(y.data.subarray(0, 64 * 56 * 56), [1, 64, 56, 56])));
  console.log(`   first output image saved as ${npy} (numpy.load / torch.from_numpy read it)`);

  const fusedAgrees = fusedLayerDemo(simdconv, conv, x);

  console.log(`\nOutputs in ${outDir}`);
  console.log('Next: simdconv filter --kernel sobel IMAGE... --out-dir DIR, ' +
    'simdconv run --weights model.safetensors --prefix conv1. ... (simdconv --help)');
  return same && fusedAgrees ? 0 : 1;
}

/**
 * 3. The layer of part 2 as a ResNet block uses it: its BatchNorm folded in
 * (fuseConvBn), the ReLU and the skip connection's add fused into the
 * convolution, against the same steps as separate passes over the output.
 * True when both agree to float32 rounding (the fold rounds the weights once more).
 */
function fusedLayerDemo(simdconv: ReturnType<typeof lib>, conv: Conv2d, x: Tensor): boolean {
  const { Tensor, fuseConvBn } = simdconv;
  const c = conv.outChannels;
  // eval-mode BatchNorm statistics as a trained model would hold them
  const stat = (seed: number, scale: number, offset: number) =>
    new Tensor(randomData(c, seed).map((v) => offset + scale * v), [c]);
  const bn = { weight: stat(2, 0.5, 1), bias: stat(3, 0.1, 0), running_mean: stat(4, 0.1, 0), running_var: stat(5, 0.5, 1) };
  const withRelu = new simdconv.Conv2d(c, c, conv.kernelSize, { padding: conv.padding, bias: false, activation: 'relu' });
  withRelu.loadStateDict({ weight: conv.weight });
  const fused = fuseConvBn(withRelu, bn);
  const residual = new Tensor(randomData(x.data.length, 6), x.shape); // 64 -> 64 channels, 'same' size
  console.log(`\n3. A fused layer: that conv, its BatchNorm2d folded in (fuseConvBn), the ReLU and a residual add, in one pass:`);
  console.log(`   ${String(fused)} (${fused.backend.algorithm}, ${fused.backend.isa})`);
  const out = Tensor.zeros(x.shape);
  fused.forward(x, { residual, out }); // warm-up
  const oneRuns: number[] = [];
  for (let i = 0; i < 3; i++) oneRuns.push(time(() => fused.forward(x, { residual, out })).seconds);
  // The same steps as separate passes: conv, then BatchNorm, add and ReLU over the output.
  const eps = 1e-5, plane = out.data.length / (x.shape[0] * c);
  const separate = Tensor.zeros(x.shape);
  const sepRuns: number[] = [];
  for (let i = 0; i < 3; i++) {
    sepRuns.push(time(() => {
      conv.forward(x, { out: separate });
      const y = separate.data;
      for (let j = 0; j < y.length; j++) {
        const ch = Math.floor(j / plane) % c;
        const scale = bn.weight.data[ch] / Math.sqrt(bn.running_var.data[ch] + eps);
        const v = (y[j] - bn.running_mean.data[ch]) * scale + bn.bias.data[ch] + residual.data[j];
        y[j] = v > 0 ? v : 0;
      }
    }).seconds);
  }
  let worst = 0, magnitude = 0;
  for (let j = 0; j < out.data.length; j++) {
    worst = Math.max(worst, Math.abs(out.data[j] - separate.data[j]));
    magnitude = Math.max(magnitude, Math.abs(separate.data[j]));
  }
  console.log(`   fused forward(x, { residual }): best of 3 ${formatSeconds(Math.min(...oneRuns))}; ` +
    `conv + BatchNorm + add + ReLU as separate passes: ${formatSeconds(Math.min(...sepRuns))}; ` +
    `max |difference| ${worst.toExponential(2)} (outputs up to ${magnitude.toFixed(2)})`);
  const agrees = worst <= 1e-4 * Math.max(1, magnitude);
  console.log(`   ${agrees ? 'the same numbers to float32 rounding' : 'DIFFERENT from the separate passes'}`);
  return agrees;
}
