// Checks on Tensor arguments: done on every call, since JS callers can swap a
// tensor's data or shape after it was built.
import { constants as buffer } from 'node:buffer';
import { Tensor } from './tensor';
import { describeValue } from './args';

/** A Tensor (or a {data, shape} object from another copy of the package), re-validated. */
export function asTensor(v: unknown, name: string): Tensor {
  if (v instanceof Tensor) {
    if (!(v.data instanceof Float32Array) || !Array.isArray(v.shape))
      throw new TypeError(`${name}: tensor data must be a Float32Array and shape an array`);
    const size = v.shape.reduce((a: number, b: number) => a * b, 1);
    if (size !== v.data.length)
      throw new RangeError(`${name}: tensor data has ${v.data.length} elements but its shape ` +
        `[${v.shape.join(', ')}] needs ${size}`);
    return v;
  }
  if (v !== null && typeof v === 'object' && 'data' in v && 'shape' in v) {
    const t = v as { data: unknown; shape: unknown };
    if (t.data instanceof Float32Array && Array.isArray(t.shape)) return new Tensor(t.data, t.shape);
  }
  throw new TypeError(`${name} must be a Tensor, got ${describeValue(v)}`);
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * A tensor for a result that the native call writes in full: its memory is
 * not zero-filled first (Buffer.allocUnsafeSlow: its own ArrayBuffer, offset
 * 0, so the view is aligned), since zero-filling would write every byte once
 * more only for the convolution to overwrite it. Every algorithm writes every
 * output element; test/property.test.js checks it on outputs that start as NaN.
 */
function uninitializedTensor(shape: number[], where: string): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n * Float32Array.BYTES_PER_ELEMENT > buffer.MAX_LENGTH)
    throw new RangeError(`${where}: the output [${shape.join(', ')}] would have ${shape.reduce((a, b) => a * BigInt(b), 1n)} elements, ` +
      `more than one Float32Array can hold here (${buffer.MAX_LENGTH / Float32Array.BYTES_PER_ELEMENT})`);
  const bytes = Buffer.allocUnsafeSlow(n * Float32Array.BYTES_PER_ELEMENT);
  return new Tensor(new Float32Array(bytes.buffer, bytes.byteOffset, n), shape);
}

/** The caller's `out`, checked against the output's shape, or a new tensor when there is none. */
export function outputTensor(out: unknown, shape: number[], input: Tensor, where: string): Tensor {
  if (out === undefined) return uninitializedTensor(shape, where);
  const t = asTensor(out, `${where}: out`);
  if (!sameShape(t.shape, shape))
    throw new RangeError(`${where}: out has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
  if (t.data.buffer === input.data.buffer) {
    const a0 = t.data.byteOffset, a1 = a0 + t.data.byteLength;
    const b0 = input.data.byteOffset, b1 = b0 + input.data.byteLength;
    if (a0 < b1 && b0 < a1) throw new RangeError(`${where}: out must not share memory with the input`);
  }
  return t;
}

/** A call's `residual` (undefined or null: none), which must have exactly the output's shape. */
export function residualTensor(residual: unknown, shape: readonly number[], where: string): Tensor | undefined {
  if (residual === undefined || residual === null) return undefined;
  const r = asTensor(residual, `${where}: residual`);
  if (!sameShape(r.shape, shape))
    throw new RangeError(`${where}: residual has shape [${r.shape.join(', ')}], expected the output's shape ` +
      `[${shape.join(', ')}]`);
  return r;
}

export function abortError(reason: unknown): Error {
  const e = new Error('The operation was aborted', { cause: reason });
  e.name = 'AbortError';
  return e;
}
