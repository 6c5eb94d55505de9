// Reading tensors out of a PyTorch state_dict (as loadSafetensors returns it)
// for layers other than Conv2d: the prefix option, and a missing key explained
// (a non-float tensor the loader left out, or the keys that look close).
import { Tensor } from './tensor';
import { checkOptions, describeValue } from './args';
import { asTensor } from './tensors';
import { skippedDtype } from './io/skipped';

export type StateDict = Record<string, Tensor | null | undefined>;

/** Checks `state` and the `{ prefix }` options; returns the prefix ('' by default). */
export function statePrefix(state: unknown, options: unknown, where: string): string {
  const o = checkOptions<{ prefix: string }>(options, ['prefix'], where);
  const prefix = o.prefix ?? '';
  if (typeof prefix !== 'string')
    throw new TypeError(`${where}: prefix must be a string, got ${describeValue(prefix)}`);
  if (state === null || typeof state !== 'object')
    throw new TypeError(`${where}: state must be an object of Tensors, got ${describeValue(state)}`);
  return prefix;
}

/** The tensor under `key`, or undefined when absent (a non-float tensor left out by the loader throws). */
export function stateEntry(state: StateDict, key: string, where: string): Tensor | undefined {
  const v = state[key];
  if (v !== undefined && v !== null) return asTensor(v, `${where}: '${key}'`);
  const dtype = skippedDtype(state, key);
  if (dtype !== undefined)
    throw new TypeError(`${where}: '${key}' is ${/^[aeiu]/.test(dtype) ? 'an' : 'a'} ${dtype} tensor, not float ` +
      '(loadSafetensors leaves non-float tensors out)');
  return undefined;
}

/** The tensor under `key`; a missing key throws, listing keys that end like it. */
export function requiredEntry(state: StateDict, key: string, where: string, why = ''): Tensor {
  const t = stateEntry(state, key, where);
  if (t !== undefined) return t;
  const suffix = key.slice(key.lastIndexOf('.') + 1);
  const near = Object.keys(state).filter((k) => k.endsWith(suffix)).slice(0, 5);
  throw new Error(`${where}: missing key '${key}'${why}` +
    (near.length ? `; keys ending in '${suffix}': ${near.join(', ')}` : ''));
}
