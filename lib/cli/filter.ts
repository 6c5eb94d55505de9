// `simdconv filter`: image filters as depthwise Conv2d layers (one kernel per
// channel, groups = channels, 'same' padding), PNG and JPEG in and out.
import * as path from 'node:path';
import type { Conv2d, PaddingMode, Tensor } from '../index';
import { UsageError, lib, ensureDir, processFiles, printSummary, readInputFile, writeFileAtomic, convFlops } from './common';
import { Shard, selectFiles, describeSelection } from './inputs';
import { decodeImage, encodeImage, Image } from './images';

/** A 2-D kernel [kH, kW], or one per channel [C, 1, kH, kW] (from a .npy file). */
export interface KernelSpec {
  name: string;
  /** 'sobel': x and y gradients, output = sqrt(gx^2 + gy^2) */
  kind: 'linear' | 'sobel';
  kernels: Float32Array[]; // sobel: [gx, gy]; linear: one
  kh: number;
  kw: number;
  perChannel?: { channels: number; weight: Float32Array };
}

export const SOBEL_X = [-1, 0, 1, -2, 0, 2, -1, 0, 1];
export const SOBEL_Y = [-1, -2, -1, 0, 0, 0, 1, 2, 1];

export function gaussianKernel(sigma: number): { k: Float32Array; size: number } {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const size = 2 * r + 1;
  const g1 = Array.from({ length: size }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const s = g1.reduce((a, b) => a + b, 0);
  const k = new Float32Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) k[y * size + x] = (g1[y] * g1[x]) / (s * s);
  return { k, size };
}

/**
 * A kernel with a NaN or an infinity makes every output pixel NaN or infinite, and one of
 * all zeros makes every pixel 0: either way a black image written with exit status 0.
 * Both are usage errors instead (the values are checked as float32, the layer's type).
 */
export function refuseDegenerateKernel(spec: string, values: Float32Array, hint?: string): void {
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0)
    throw new UsageError(`--kernel ${spec}: the kernel has a non-finite value (${values[bad]} at element ${bad} of ${values.length})` +
      (hint ? `: ${hint}` : '; every weight must be a finite float32'));
  if (values.every((v) => v === 0))
    throw new UsageError(`--kernel ${spec}: the kernel is all zeros (${values.length} weights), so every output pixel would be 0`);
}

export function parseKernel(spec: string): KernelSpec {
  const lower = spec.toLowerCase();
  if (lower === 'sobel')
    return { name: 'sobel', kind: 'sobel', kernels: [new Float32Array(SOBEL_X), new Float32Array(SOBEL_Y)], kh: 3, kw: 3 };
  if (lower === 'sharpen')
    return { name: 'sharpen', kind: 'linear', kernels: [new Float32Array([0, -1, 0, -1, 5, -1, 0, -1, 0])], kh: 3, kw: 3 };
  let m = /^gaussian:(.+)$/.exec(lower);
  if (m) {
    const sigma = Number(m[1]);
    if (!Number.isFinite(sigma) || sigma <= 0 || sigma > 50)
      throw new UsageError(`--kernel gaussian:SIGMA needs 0 < SIGMA <= 50, got '${m[1]}'`);
    const { k, size } = gaussianKernel(sigma);
    refuseDegenerateKernel(spec, k, 'SIGMA is too small (its square underflows to 0); a SIGMA below about 0.2 already leaves 8-bit pixels unchanged');
    return { name: `gaussian (sigma ${sigma}, ${size}x${size})`, kind: 'linear', kernels: [k], kh: size, kw: size };
  }
  m = /^box:(.+)$/.exec(lower);
  if (m) {
    const n = Number(m[1]);
    if (!Number.isInteger(n) || n < 1 || n > 101) throw new UsageError(`--kernel box:N needs an integer 1 <= N <= 101, got '${m[1]}'`);
    const k = new Float32Array(n * n).fill(1 / (n * n));
    refuseDegenerateKernel(spec, k);
    return { name: `box ${n}x${n}`, kind: 'linear', kernels: [k], kh: n, kw: n };
  }
  if (lower.endsWith('.npy')) {
    let t: Tensor;
    try {
      t = lib().loadNpy(spec);
    } catch (err) {
      throw new UsageError(`--kernel ${(err as Error).message}`);
    }
    refuseDegenerateKernel(spec, t.data);
    if (t.shape.length === 2 && t.shape[0] >= 1 && t.shape[1] >= 1)
      return { name: `${path.basename(spec)} (${t.shape.join('x')})`, kind: 'linear', kernels: [t.data], kh: t.shape[0], kw: t.shape[1] };
    if (t.shape.length === 4 && t.shape[1] === 1 && t.shape[0] >= 1 && t.shape[2] >= 1 && t.shape[3] >= 1)
      return {
        name: `${path.basename(spec)} (per channel ${t.shape.join('x')})`, kind: 'linear', kernels: [], kh: t.shape[2],
        kw: t.shape[3], perChannel: { channels: t.shape[0], weight: t.data },
      };
    throw new UsageError(`--kernel ${spec}: expected a 2-D kernel [kH, kW] or a depthwise weight [C, 1, kH, kW], ` +
      `got shape [${t.shape.join(', ')}]`);
  }
  throw new UsageError(`--kernel must be sobel, gaussian:SIGMA, box:N, sharpen or a FILE.npy, got '${spec}'`);
}

/** The depthwise Conv2d for `channels` channels (sobel: two outputs per channel, gx and gy). */
export function filterLayer(k: KernelSpec, channels: number, paddingMode: PaddingMode): Conv2d {
  const { Conv2d, Tensor } = lib();
  const perChannelOut = k.kind === 'sobel' ? 2 : 1;
  const conv = new Conv2d(channels, channels * perChannelOut, [k.kh, k.kw],
    { groups: channels, padding: 'same', paddingMode, bias: false });
  const size = k.kh * k.kw;
  const w = new Float32Array(channels * perChannelOut * size);
  if (k.perChannel) {
    if (k.perChannel.channels !== channels)
      throw new Error(`the kernel file has weights for ${k.perChannel.channels} channels, the image has ${channels}`);
    w.set(k.perChannel.weight);
  } else {
    for (let c = 0; c < channels; c++)
      for (let j = 0; j < perChannelOut; j++) w.set(k.kernels[j], (c * perChannelOut + j) * size);
  }
  conv.weight = new Tensor(w, conv.weight.shape);
  return conv;
}

/** Runs the filter on decoded planes; returns planes of the same shape. */
export async function applyFilter(k: KernelSpec, conv: Conv2d, img: Image): Promise<{ planes: Float32Array; flops: number }> {
  const { Tensor } = lib();
  const x = new Tensor(img.planes, [1, img.channels, img.height, img.width]);
  const y = await conv.forwardAsync(x);
  const flops = convFlops(y.shape, conv);
  if (k.kind !== 'sobel') return { planes: y.data, flops };
  const n = img.width * img.height;
  const out = new Float32Array(img.channels * n);
  for (let c = 0; c < img.channels; c++) {
    const gx = y.data.subarray(2 * c * n, (2 * c + 1) * n), gy = y.data.subarray((2 * c + 1) * n, (2 * c + 2) * n);
    for (let i = 0; i < n; i++) out[c * n + i] = Math.sqrt(gx[i] * gx[i] + gy[i] * gy[i]);
  }
  return { planes: out, flops };
}

export interface FilterOptions {
  kernel: string;
  paddingMode: PaddingMode;
  outDir: string;
  jobs: number;
  quality: number;
  maxPixels: number;
  threads?: number;
  inputsFrom?: string;
  shard?: Shard;
}

export async function filterCommand(args: string[], o: FilterOptions): Promise<number> {
  const simdconv = lib();
  const k = parseKernel(o.kernel);
  const files = await selectFiles(args, o, 'images', { '--kernel': o.kernel.toLowerCase().endsWith('.npy') ? o.kernel : undefined });
  const { inputs: images, outputs } = files;
  if (o.threads !== undefined) simdconv.setNumThreads(o.threads);
  ensureDir(o.outDir);
  console.log(`filter: ${k.name}, depthwise Conv2d per channel, padding 'same' (${o.paddingMode}), ` +
    `${describeSelection(files, o.shard, 'image')}`);
  const layers = new Map<number, Conv2d>(); // by channel count
  const summary = await processFiles('filter', images, o.jobs, async (input, i) => {
    const img = decodeImage(await readInputFile(input), o.maxPixels);
    let conv = layers.get(img.channels);
    if (!conv) layers.set(img.channels, (conv = filterLayer(k, img.channels, o.paddingMode)));
    const { planes, flops } = await applyFilter(k, conv, img);
    await writeFileAtomic(outputs[i], encodeImage(img, planes, o.quality));
    return { output: outputs[i], detail: `${img.format} ${img.width}x${img.height}x${img.channels}`, flops };
  });
  printSummary('filter', summary, path.resolve(o.outDir));
  return summary.failed ? 1 : 0;
}
