// Shape checks for a layer's parameters (weight setter, bias setter,
// loadStateDict): one message for every layer class.
import { Tensor } from './tensor';
import { asTensor, sameShape } from './tensors';

export function checkWeightShape(t: unknown, want: readonly number[], name: string): Tensor {
  const w = asTensor(t, name);
  if (!sameShape(w.shape, want))
    throw new RangeError(`${name}: expected weight of shape [${want.join(', ')}], got [${w.shape.join(', ')}]`);
  return w;
}

/** null removes the bias, as `conv.bias = None` does in PyTorch. */
export function checkBiasShape(t: unknown, outChannels: number, name: string): Tensor | null {
  if (t === null) return null;
  const b = asTensor(t, name);
  if (!sameShape(b.shape, [outChannels]))
    throw new RangeError(`${name}: expected bias of shape [${outChannels}], got [${b.shape.join(', ')}]`);
  return b;
}
