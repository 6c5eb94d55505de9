// What `simdconv run` adds to a plain Conv2d, from LAYER.json or the flags:
// the layer's "type" (Conv2d or Conv1d) and "batch_norm" (a BatchNorm in the
// same weights file, folded into the conv with fuseConvBn). The contract's
// ConvTranspose2d and "output_padding" (in the library, not yet in `run`) and
// "activation" (not yet in the library) are refused by name (exit 2), never
// silently ignored, since a run without them would write plausible but wrong
// outputs.
import type { Conv1d, Conv2d, Tensor } from '../index';
import { UsageError, lib } from './common';

export const LAYER_TYPES = ['Conv2d', 'Conv1d'] as const;
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
  batchNorm?: { prefix: string; eps: number };
}

const NOT_IN_THIS_VERSION: Record<string, string> = {
  ConvTranspose2d: '`run` builds Conv2d and Conv1d layers only (the library has ConvTranspose2d)',
  outputPadding: 'it belongs to ConvTranspose2d, which `run` does not build yet',
  activation: 'the fused activation is not available yet; apply it to the outputs afterwards',
};

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
/** An option's camelCase name as its flag's kebab case: batchNormEps -> batch-norm-eps. */
export const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * Checks the family keys of a layer from `config` (LAYER.json's path) or, when
 * undefined, from the flags; messages spell each key as the user wrote it.
 */
export function checkFamily(spec: FamilySpec, config: string | undefined): Family {
  const where = config === undefined ? '' : `--config ${config}: `;
  const name = (key: keyof FamilySpec) => (config === undefined ? `--${kebab(key)}` : `"${snake(key)}"`);
  const given = (key: keyof FamilySpec, value: unknown) =>
    (config === undefined ? `--${kebab(key)} ${String(value)}` : `"${snake(key)}": ${JSON.stringify(value)}`);
  const fail = (message: string) => new UsageError(`${where}${message}`);

  for (const key of ['outputPadding', 'activation'] as const)
    if (spec[key] !== undefined)
      throw fail(`${name(key)} is not supported by this version of simdconv: ${NOT_IN_THIS_VERSION[key]}`);
  const type = spec.type ?? 'Conv2d';
  if (type === 'ConvTranspose2d')
    throw fail(`${given('type', type)} is not supported by this version of simdconv: ${NOT_IN_THIS_VERSION.ConvTranspose2d}`);
  if (!LAYER_TYPES.includes(type as LayerType))
    throw fail(`${name('type')} must be ${LAYER_TYPES.join(' or ')} (default Conv2d), got ${JSON.stringify(type)}`);
  if (spec.batchNorm === undefined) {
    if (spec.batchNormEps !== undefined) throw fail(`${name('batchNormEps')} needs ${name('batchNorm')}`);
    return { type: type as LayerType };
  }
  if (typeof spec.batchNorm !== 'string')
    throw fail(`${name('batchNorm')} must be the BatchNorm's key prefix, a string such as "bn1.", got ${JSON.stringify(spec.batchNorm)}`);
  const eps = spec.batchNormEps ?? DEFAULT_BN_EPS;
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0)
    throw fail(`${name('batchNormEps')} must be a finite number >= 0, got ${JSON.stringify(eps)}`);
  return { type: type as LayerType, batchNorm: { prefix: spec.batchNorm, eps } };
}

/** PyTorch prefixes end with '.': 'layer1.0.conv1' stands for 'layer1.0.conv1.' when only that has `key`. */
export function resolvePrefix(state: Record<string, Tensor>, prefix: string, key: string): string {
  if (prefix && !prefix.endsWith('.') && !Object.hasOwn(state, `${prefix}${key}`) && Object.hasOwn(state, `${prefix}.${key}`))
    return `${prefix}.`;
  return prefix;
}

/** The conv with the BatchNorm under `bn.prefix` in the same state_dict folded in (fuse_conv_bn_eval). */
export function foldBatchNorm<L extends Conv2d | Conv1d>(conv: L, state: Record<string, Tensor>,
  bn: { prefix: string; eps: number }, weightsFile: string): L {
  try {
    return lib().fuseConvBn(conv, state, bn);
  } catch (err) {
    throw new Error(`cannot fold the BatchNorm '${bn.prefix}' of ${weightsFile}: ${(err as Error).message}`);
  }
}
