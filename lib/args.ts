// Argument checks shared by the public functions. Every message names the
// argument and the value it got, so a wrong call is fixed from the message.

export type Pair = number | [number, number];

/** A short, safe description of any value for an error message. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (typeof v === 'function') return 'a function';
  if (Array.isArray(v)) {
    const items = v.slice(0, 6).map((x) => (typeof x === 'object' && x !== null ? '...' : describeValue(x)));
    return `[${items.join(', ')}${v.length > 6 ? ', ...' : ''}]`;
  }
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  const ctor = (v as object).constructor;
  return ctor && ctor !== Object ? `a ${ctor.name}` : 'an object';
}

export function isInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

/** An integer in [min, max]; TypeError for a non-number, RangeError otherwise. */
export function checkInt(v: unknown, name: string, min: number, max = 2 ** 31): number {
  if (typeof v !== 'number') throw new TypeError(`${name} must be an integer, got ${describeValue(v)}`);
  if (!Number.isInteger(v) || v < min || v > max)
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${describeValue(v)}`);
  return v;
}

/** int or [int, int] -> [int, int], each >= min. */
export function toPair(v: unknown, name: string, min: number): [number, number] {
  if (typeof v === 'number') {
    checkInt(v, name, min);
    return [v, v];
  }
  if (Array.isArray(v) && v.length === 2) {
    checkInt(v[0], `${name}[0]`, min);
    checkInt(v[1], `${name}[1]`, min);
    return [v[0], v[1]];
  }
  throw new TypeError(`${name} must be an integer or a pair [h, w] of integers, got ${describeValue(v)}`);
}

/** A shape: an array of non-negative integers whose product is a safe size. */
export function checkShape(shape: unknown, name: string): number[] {
  if (!Array.isArray(shape)) throw new TypeError(`${name} must be an array of integers, got ${describeValue(shape)}`);
  const dims = shape.map((d, i) => checkInt(d, `${name}[${i}]`, 0, 2 ** 32));
  const size = dims.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(size) || size > 2 ** 32)
    throw new RangeError(`${name} [${dims.join(', ')}] has too many elements (${size})`);
  return dims;
}

/** Checks an options object: undefined or a plain object with only known keys. */
export function checkOptions<T extends object>(options: unknown, allowed: readonly string[], where: string): Partial<T> {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw new TypeError(`${where}: options must be an object, got ${describeValue(options)}`);
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      const camel = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
      const hint = camel !== key && allowed.includes(camel) ? ` (did you mean '${camel}'?)` : '';
      throw new TypeError(`${where}: unknown option '${key}'${hint}; known options: ${allowed.join(', ')}`);
    }
  }
  return options as Partial<T>;
}
