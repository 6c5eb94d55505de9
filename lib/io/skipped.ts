// Which tensors a loader left out of a state dict (non-float dtypes), so that
// Conv2d.loadStateDict can say why a key is missing instead of just "missing".
const skipped = new WeakMap<object, ReadonlyMap<string, string>>();

export function recordSkipped(state: object, names: ReadonlyMap<string, string>): void {
  if (names.size > 0) skipped.set(state, names);
}

/** The dtype of a tensor the loader left out under `key`, if it did. */
export function skippedDtype(state: object, key: string): string | undefined {
  return skipped.get(state)?.get(key);
}
