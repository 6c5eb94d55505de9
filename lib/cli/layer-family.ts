// What `simdconv run` adds to a plain Conv2d, from LAYER.json or the flags:
// the layer's "type" (Conv2d, Conv1d or ConvTranspose2d, whose
// "output_padding" belongs to it alone), the fused "activation" (the API's
// values; LAYER.json may spell parameters as PyTorch does, negative_slope,
// min_val, max_val) and "batch_norm" (a BatchNorm in the same weights file,
// folded into the conv with fuseConvBn; the activation then follows it).
import type { Conv1d, Conv2d, ConvTranspose2d, Tensor } from '../index';
import { UsageError, lib, convFlops } from './common';

export const LAYER_TYPES = ['Conv2d', 'Conv1d', 'ConvTranspose2d'] as const;
export type LayerType = (typeof LAYER_TYPES)[number];

/** PyTorch's BatchNorm default; the state_dict does not hold eps, so a layer built with another says so. */
export const DEFAULT_BN_EPS = 1e-5;

/** The family keys of a LayerSpec, as given (unchecked: JSON values or flag strings). */
export interface FamilySpec {
  type?: unknown;
  outputPadding?: unknown;
  activation?: unknown;
  batchNorm?: unknown;
  batchNormEps?: unknown;
}

export interface Family {
  type: LayerType;
  /** As the library's `activation` option takes it (the library checks it). */
  activation?: unknown;
  batchNorm?: { prefix: string; eps: number };
}

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const camel = (key: string) => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
/** An option's camelCase name as its flag's kebab case: batchNormEps -> batch-norm-eps. */
export const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * Checks the family keys of a layer from `config` (LAYER.json's path) or, when
 * undefined, from the flags; messages spell each key as the user wrote it.
 */
export function checkFamily(spec: FamilySpec, config: string | undefined): Family {
  const where = config === undefined ? '' : `--config ${config}: `;
  const name = (key: keyof FamilySpec) => (config === undefined ? `--${kebab(key)}` : `"${snake(key)}"`);
  const fail = (message: string) => new UsageError(`${where}${message}`);

  const type = spec.type ?? 'Conv2d';
  if (!LAYER_TYPES.includes(type as LayerType))
    throw fail(`${name('type')} must be ${LAYER_TYPES.slice(0, -1).join(', ')} or ${LAYER_TYPES.at(-1)} (default Conv2d), ` +
      `got ${JSON.stringify(type)}`);
  if (spec.outputPadding !== undefined && type !== 'ConvTranspose2d')
    throw fail(`${name('outputPadding')} belongs to ConvTranspose2d: give ${config === undefined ? '--type ConvTranspose2d'
      : '"type": "ConvTranspose2d"'} (this layer is a ${type})`);
  const family: Family = { type: type as LayerType };
  if (spec.activation !== undefined) family.activation = activationOf(spec.activation, config === undefined, fail);
  if (spec.batchNorm === undefined) {
    if (spec.batchNormEps !== undefined) throw fail(`${name('batchNormEps')} needs ${name('batchNorm')}`);
    return family;
  }
  if (typeof spec.batchNorm !== 'string')
    throw fail(`${name('batchNorm')} must be the BatchNorm's key prefix, a string such as "bn1.", got ${JSON.stringify(spec.batchNorm)}`);
  const eps = spec.batchNormEps ?? DEFAULT_BN_EPS;
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0)
    throw fail(`${name('batchNormEps')} must be a finite number >= 0, got ${JSON.stringify(eps)}`);
  return { ...family, batchNorm: { prefix: spec.batchNorm, eps } };
}

/**
 * The activation as the library takes it: LAYER.json's value with PyTorch's
 * snake_case parameter names (negative_slope, min_val, max_val) in camelCase;
 * --activation's: a name, or that JSON object.
 */
function activationOf(value: unknown, fromFlag: boolean, fail: (message: string) => Error): unknown {
  let v = value;
  if (fromFlag && typeof v === 'string' && v.trimStart().startsWith('{')) {
    try {
      v = JSON.parse(v);
    } catch (err) {
      throw fail(`--activation ${v}: not a JSON object (${(err as Error).message}); give a name such as relu, ` +
        `or {"name": "leakyRelu", "negativeSlope": 0.1}`);
    }
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  return Object.fromEntries(Object.entries(v).map(([key, x]) => [camel(key), x]));
}

/** PyTorch prefixes end with '.': 'layer1.0.conv1' stands for 'layer1.0.conv1.' when only that has `key`. */
export function resolvePrefix(state: Record<string, Tensor>, prefix: string, key: string): string {
  if (prefix && !prefix.endsWith('.') && !Object.hasOwn(state, `${prefix}${key}`) && Object.hasOwn(state, `${prefix}.${key}`))
    return `${prefix}.`;
  return prefix;
}

/** The conv with the BatchNorm under `bn.prefix` in the same state_dict folded in (fuse_conv_bn_eval). */
export function foldBatchNorm<L extends Conv2d | Conv1d | ConvTranspose2d>(conv: L, state: Record<string, Tensor>,
  bn: { prefix: string; eps: number }, weightsFile: string): L {
  try {
    return lib().fuseConvBn(conv, state, bn);
  } catch (err) {
    throw new Error(`cannot fold the BatchNorm '${bn.prefix}' of ${weightsFile}: ${(err as Error).message}`);
  }
}

/** Multiply-adds x 2 of one call: a transposed conv's every input element meets out/groups x kH x kW weights. */
export function layerFlops(inShape: readonly number[], outShape: readonly number[], conv: Conv2d | Conv1d | ConvTranspose2d): number {
  if (!('outputPadding' in conv)) return convFlops(outShape, conv);
  const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);
  return 2 * product(inShape) * (conv.outChannels / conv.groups) * product(conv.kernelSize);
}
