// One forward call on a native layer, sync or async: checks, output tensor,
// then the native work. Shared by Conv2d and the functional conv2d.
import { Tensor } from './tensor';
import { asTensor, outputTensor, abortError } from './tensors';
import { Geometry, outputShape, inputDims } from './geometry';
import { describeValue } from './args';
import type { NativeLayer } from './native';

interface Prepared { input: Tensor; out: Tensor; n: number; h: number; w: number }

function prepare(g: Geometry, input: unknown, out: unknown, where: string): Prepared {
  const x = asTensor(input, `${where}: input`);
  const shape = outputShape(g, x.shape, where);
  const d = inputDims(x.shape, where);
  return { input: x, out: outputTensor(out, shape, x, where), n: d.n, h: d.h, w: d.w };
}

export function runSync(layer: NativeLayer, g: Geometry, input: unknown, out: unknown, where: string): Tensor {
  const p = prepare(g, input, out, where);
  if (p.n > 0) layer.forward(p.input.data, p.n, p.h, p.w, p.out.data);
  return p.out;
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

export function runAsync(layer: NativeLayer, g: Geometry, input: unknown, out: unknown, signal: unknown,
  where: string): Promise<Tensor> {
  return new Promise<Tensor>((resolve, reject) => {
    const s = checkSignal(signal, where);
    const p = prepare(g, input, out, where);
    if (s?.aborted) throw abortError(s.reason);
    if (p.n === 0) return resolve(p.out);
    // The native side polls this flag between work items.
    const cancel = new Int32Array(1);
    const onAbort = () => { Atomics.store(cancel, 0, 1); };
    s?.addEventListener('abort', onAbort, { once: true });
    layer.forwardAsync(p.input.data, p.n, p.h, p.w, p.out.data, cancel, (err) => {
      s?.removeEventListener('abort', onAbort);
      if (err && err.name === 'AbortError') reject(abortError(s?.reason));
      else if (err) reject(err);
      else resolve(p.out);
    });
  });
}
