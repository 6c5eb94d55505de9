// Loads the prebuilt Node-API addon (prebuilds/<platform>-<arch>/ or a local
// build/Release/), like sharp: no install script, and when nothing fits, one
// error that says what was looked for, where, and what to do.
import * as path from 'node:path';
import * as fs from 'node:fs';
import type { TuneResult } from './tune';

export interface NativeLayerParams {
  inChannels: number; outChannels: number;
  kernelH: number; kernelW: number;
  strideH: number; strideW: number;
  padTop: number; padBottom: number; padLeft: number; padRight: number;
  dilationH: number; dilationW: number;
  groups: number;
  padMode: number; // 0 zeros, 1 reflect, 2 replicate, 3 circular
  // ConvTranspose2d (weight [in, out/groups, kH, kW]); absent: a Conv2d
  transposed?: boolean;
  outputPaddingH?: number; outputPaddingW?: number;
  // The fused activation, y = act(conv(x) + bias + residual); absent: 'none'. activationAlpha:
  // leaky_relu's slope (default 0.01), hardtanh's min (-1), elu's alpha (1); activationBeta:
  // hardtanh's max (1). Checked again natively (unknown name, non-finite value, min > max).
  activation?: NativeActivation;
  activationAlpha?: number; activationBeta?: number;
}

/** The activation names the native core knows (cpp/include/simdconv/epilogue.h). */
export type NativeActivation = 'none' | 'relu' | 'relu6' | 'leaky_relu' | 'hardtanh' | 'elu' | 'sigmoid' |
  'tanh' | 'silu' | 'hardswish' | 'gelu' | 'gelu_tanh';

export interface NativeLayer {
  setWeights(weight: Float32Array, bias: Float32Array | null): void;
  /**
   * `residual` (out's length; may share memory with `out`: it is then read as it was before the
   * call) is added before the layer's activation.
   */
  forward(input: Float32Array, n: number, h: number, w: number, out: Float32Array,
          residual?: Float32Array | null): Float32Array;
  /**
   * Computes from a copy of `input` (and of `residual`, taken at the call); with `out`, into
   * memory of its own, copied into `out` on the JS thread (if not cancelled, and after checking
   * that input and out are still attached and sized); without, into a new array passed to the
   * callback. Returns the call's cancel function.
   */
  forwardAsync(input: Float32Array, n: number, h: number, w: number, out: Float32Array | null,
               residual: Float32Array | null,
               callback: (err: Error | null, result?: Float32Array) => void): () => void;
  readonly algorithm: string;
  readonly isa: string;
  plan(n: number, h: number, w: number): ConvPlan;
  /** Measured tuning; weight and bias are the layer's current ones (the first call keeps them raw). */
  tune(n: number, h: number, w: number, repetitions: number, algorithms: string[] | null,
       weight: Float32Array, bias: Float32Array | null): TuneResult;
}

/** How one call runs (docs/API.md, `conv.plan(inputShape)`): the native plan as a plain object. */
export interface ConvPlan {
  algorithm: string;       // what this call runs
  layerAlgorithm: string;  // what the layer was built for (differs only when gemmFallback)
  microkernel: string;
  isa: string;
  threads: number;
  tasks: number;
  workspaceBytes: number;  // per-thread scratch of one task
  sharedBytes: number;     // the GEMM's shared B buffer (0 unless sharedB)
  gemmFallback: boolean;
  tuned: boolean;          // chosen by conv.tune (or SIMDCONV_TUNE=1) for this shape and thread count
  bInPlace: boolean;
  sharedB: boolean;
  inPlaceDepthwise: boolean;
  blocking: Record<string, number>;
}

/** Where the thread count came from, and the limits the default was derived from. */
export interface NativeThreadsInfo {
  threads: number;
  source: 'affinity' | 'cgroup' | 'cores' | 'env' | 'setNumThreads';
  affinity: number | null;
  cgroupCpus: number | null;
  cgroupVersion: 1 | 2 | null;
  cores: number;
}

/** The CPU as the native core detected it (cpp/include/simdconv/cpu_info.h). */
export interface CpuInfo {
  arch: string;
  vendor: string;
  brand: string;
  family: number | null;
  model: number | null;
  stepping: number | null;
  cachesBytes: { l1d: number | null; l2: number | null; l3: number | null; source: string };
  logicalCores: number;
  fma512: { fullWidth: 'yes' | 'no' | 'unknown'; rule: string };
}

export interface NativeAddon {
  Layer: new (params: NativeLayerParams, weight: Float32Array, bias: Float32Array | null) => NativeLayer;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  threadsInfo(): NativeThreadsInfo;
  cpuInfo(): CpuInfo;
  fmaRoof(isa: string, threads: number, repeats: number): number;
  activeIsa(): string;
  supportedIsas(): string[];
  outputSize(params: NativeLayerParams, n: number, h: number, w: number): [number, number];
  referenceConv2d(params: NativeLayerParams, input: Float32Array, n: number, h: number, w: number,
                  weight: Float32Array, bias: Float32Array | null, out: Float32Array): Float32Array;
}

export const packageRoot = path.join(__dirname, '..');

function libc(): string {
  if (process.platform !== 'linux') return '';
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime ? `glibc ${report.header.glibcVersionRuntime}` : 'musl';
}

function loadError(cause: unknown): Error {
  const prebuilds = path.join(packageRoot, 'prebuilds');
  const available = fs.existsSync(prebuilds) ? fs.readdirSync(prebuilds).join(', ') || 'none' : 'none';
  const target = `${process.platform}-${process.arch}${libc() ? ` (${libc()})` : ''}`;
  const message = [
    `simdconv: could not load the native addon for ${target}, Node.js ${process.versions.node} ` +
      `(Node-API ${process.versions.napi}).`,
    `Looked in: ${path.join(packageRoot, 'build', 'Release')} and ${prebuilds}${path.sep}${process.platform}-${process.arch}`,
    `Prebuilt binaries in this package: ${available}.`,
    'Possible fixes:',
    '- Use a platform with a prebuilt binary (linux-x64 and linux-arm64 with glibc >= 2.18, ' +
      'win32-x64) and Node.js >= 20.',
    '- Reinstall without --ignore-optional/--omit flags that drop files, and check that the ' +
      'package directory was copied whole (prebuilds/ is part of it).',
    '- Build from source in the package directory: `npm run build:native` (needs cmake and a C++17 compiler).',
    `Cause: ${cause instanceof Error ? cause.message : String(cause)}`,
  ].join('\n');
  return new Error(message, { cause });
}

function load(): NativeAddon {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;
    return nodeGypBuild(packageRoot) as NativeAddon;
  } catch (err) {
    throw loadError(err);
  }
}

export const native: NativeAddon = load();
