// One forward call on a native layer, sync or async: checks, output tensor,
// then the native work. Shared by Conv2d and the functional conv2d.
import { Tensor } from './tensor';
import { asTensor, outputTensor, abortError, residualTensor } from './tensors';
import { Geometry, outputShape, inputDims } from './geometry';
import { describeValue } from './args';
import type { NativeLayer } from './native';

/** A layer's geometry, or a function giving a call's output shape (ConvTranspose2d). */
export type OutputShapeOf = Geometry | ((shape: readonly number[], where: string) => number[]);

interface Prepared {
  input: Tensor; out: Tensor | undefined; residual: Float32Array | null; shape: number[]; n: number; h: number; w: number;
}

/**
 * The checked call; with `allocate`, a new output tensor when the caller gave
 * no `out`. A residual may share memory with `out` or the input: the binding
 * copies it first when it overlaps `out` (an in-place `x += conv(x)`).
 */
function prepare(g: OutputShapeOf, input: unknown, out: unknown, residual: unknown, where: string,
  allocate: boolean): Prepared {
  const x = asTensor(input, `${where}: input`);
  const shape = typeof g === 'function' ? g(x.shape, where) : outputShape(g, x.shape, where);
  const d = inputDims(x.shape, where);
  const r = residualTensor(residual, shape, where);
  const o = out === undefined && !allocate ? undefined : outputTensor(out, shape, x, where);
  return { input: x, out: o, residual: r?.data ?? null, shape, n: d.n, h: d.h, w: d.w };
}

export function runSync(layer: NativeLayer, g: OutputShapeOf, input: unknown, out: unknown, where: string,
  residual?: unknown): Tensor {
  const p = prepare(g, input, out, residual, where, true);
  const o = p.out as Tensor;
  if (p.n > 0) layer.forward(p.input.data, p.n, p.h, p.w, o.data, p.residual);
  return o;
}

interface AbortSignalLike {
  aborted: boolean;
  reason?: unknown;
  addEventListener(type: 'abort', fn: () => void, opts?: { once?: boolean }): void;
  removeEventListener(type: 'abort', fn: () => void): void;
}

export function checkSignal(signal: unknown, where: string): AbortSignalLike | undefined {
  if (signal === undefined) return undefined;
  const s = signal as AbortSignalLike;
  if (s === null || typeof s !== 'object' || typeof s.aborted !== 'boolean' ||
      typeof s.addEventListener !== 'function' || typeof s.removeEventListener !== 'function')
    throw new TypeError(`${where}: signal must be an AbortSignal, got ${describeValue(signal)}`);
  return s;
}

/** The AbortError for `s`: its reason as the cause (a reason getter that throws gives its error instead). */
function abortErrorOf(s: AbortSignalLike | undefined): Error {
  let reason: unknown;
  try {
    reason = s?.reason;
  } catch (err) {
    reason = err;
  }
  return abortError(reason);
}

// Abort as fetch does it: once abort() is called before the promise settles,
// it rejects at once with an AbortError, even when the native work has
// already ended (that work is then dropped: `out` is written only by a call
// that resolves). The listener is removed when the call settles, so a
// long-lived signal collects none; a signal that throws rejects the call.
export function runAsync(layer: NativeLayer, g: OutputShapeOf, input: unknown, out: unknown, signal: unknown,
  where: string, residual?: unknown): Promise<Tensor> {
  return new Promise<Tensor>((resolve, reject) => {
    const s = checkSignal(signal, where);
    // Without `out`, the native side makes the result array (and writes it in place).
    const p = prepare(g, input, out, residual, where, false);
    if (s?.aborted) throw abortErrorOf(s);
    if (p.n === 0) return resolve(p.out ?? Tensor.zeros(p.shape));
    let settled = false;
    // Never throws: anything that goes wrong here rejects the call.
    const settle = (err: unknown, result?: Float32Array): void => {
      if (settled) return;
      settled = true;
      try {
        s?.removeEventListener('abort', onAbort);
        if (err) return reject(err);
        // A view of this realm's Float32Array (the addon makes its arrays in the main context,
        // and a vm context, as under jest, has its own Float32Array).
        resolve(p.out ?? new Tensor(new Float32Array((result as Float32Array).buffer), p.shape));
      } catch (e) {
        reject(err ?? e);
      }
    };
    const onAbort = (): void => {
      cancel();
      settle(abortErrorOf(s));
    };
    // The native side copies the input (and residual) now and writes `out` only on success.
    const cancel = layer.forwardAsync(p.input.data, p.n, p.h, p.w, p.out?.data ?? null, p.residual, (err, result) => {
      settle(err && err.name === 'AbortError' ? abortErrorOf(s) : err, result);
    });
    try {
      s?.addEventListener('abort', onAbort, { once: true });
    } catch (e) {
      cancel();
      settle(e);
    }
  });
}
