// Conv1d geometry as PyTorch defines it, checked with conv1d's own messages.
// A 1-D convolution is the 2-D one on a [N, C, 1, L] view with kernel [1, k],
// stride [1, s], padding [0, p] and dilation [1, d]; 'same' and 'valid'
// resolve along L only. makeGeometry resolves the pads of that 2-D layer.
import { checkInt, describeValue } from './args';
import { PaddingMode, checkPaddingMode, makeGeometry } from './geometry';

export type Padding1d = number | 'valid' | 'same';

export interface Geometry1d {
  inChannels: number;
  outChannels: number;
  kernel: [number];
  stride: [number];
  dilation: [number];
  groups: number;
  padding: [number] | 'valid' | 'same'; // as given (for repr)
  pads: { left: number; right: number };
  paddingMode: PaddingMode;
}

/** The options of the equivalent Conv2d on the [N, C, 1, L] view. */
export interface Options2d {
  stride: [number, number];
  padding: [number, number] | 'valid' | 'same';
  dilation: [number, number];
  groups: number;
  paddingMode: PaddingMode;
}

/** An integer, or PyTorch's 1-tuple [integer], each >= min. */
export function toSingle(v: unknown, name: string, min: number): number {
  if (Array.isArray(v) && v.length === 1) return checkInt(v[0], `${name}[0]`, min);
  if (typeof v === 'number') return checkInt(v, name, min);
  throw new TypeError(`${name} must be an integer (or a 1-element array), got ${describeValue(v)}`);
}

export function makeGeometry1d(where: string, inChannels: unknown, outChannels: unknown, kernelSize: unknown,
  o: { stride?: unknown; padding?: unknown; dilation?: unknown; groups?: unknown; paddingMode?: unknown }): Geometry1d {
  const inC = checkInt(inChannels, `${where}: inChannels`, 1);
  const outC = checkInt(outChannels, `${where}: outChannels`, 1);
  const k = toSingle(kernelSize, `${where}: kernelSize`, 1);
  const s = toSingle(o.stride ?? 1, `${where}: stride`, 1);
  const d = toSingle(o.dilation ?? 1, `${where}: dilation`, 1);
  const groups = checkInt(o.groups ?? 1, `${where}: groups`, 1);
  const paddingMode = checkPaddingMode(o.paddingMode ?? 'zeros', where);
  const raw = o.padding ?? 0;
  let padding: Geometry1d['padding'];
  if (raw === 'valid' || raw === 'same') padding = raw;
  else if (typeof raw === 'string')
    throw new TypeError(`${where}: padding must be an integer, 'valid' or 'same', got ${describeValue(raw)}`);
  else padding = [toSingle(raw, `${where}: padding`, 0)];
  if (padding === 'same' && s !== 1)
    throw new RangeError(`${where}: padding='same' is not supported for strided convolutions (stride=${s})`);
  if (inC % groups === 0 && outC * (inC / groups) * k > 2 ** 31)
    throw new RangeError(`${where}: the weight would have ${outC * (inC / groups) * k} elements ` +
      `([${outC}, ${inC / groups}, ${k}]), more than 2^31`);
  // Checks groups against the channels and splits a 'same' pad as PyTorch does.
  const g2 = makeGeometry(where, inC, outC, [1, k], {
    stride: [1, s], dilation: [1, d], groups, paddingMode,
    padding: typeof padding === 'string' ? padding : [0, padding[0]],
  });
  return {
    inChannels: inC, outChannels: outC, kernel: [k], stride: [s], dilation: [d], groups, padding,
    pads: { left: g2.pads.left, right: g2.pads.right }, paddingMode,
  };
}

export function options2d(g: Geometry1d): Options2d {
  return {
    stride: [1, g.stride[0]], dilation: [1, g.dilation[0]], groups: g.groups, paddingMode: g.paddingMode,
    padding: typeof g.padding === 'string' ? g.padding : [0, g.padding[0]],
  };
}

/** [O, I/groups, k] */
export function weightShape1d(g: Geometry1d): number[] {
  return [g.outChannels, g.inChannels / g.groups, g.kernel[0]];
}

/** The call's input as N, C, L (unbatched [C, L] -> N = 1). */
export interface InputDims1d { n: number; c: number; l: number; batched: boolean }

export function inputDims1d(shape: readonly number[], where: string): InputDims1d {
  if (shape.length === 3) return { n: shape[0], c: shape[1], l: shape[2], batched: true };
  if (shape.length === 2) return { n: 1, c: shape[0], l: shape[1], batched: false };
  throw new RangeError(`${where}: Expected 2D (unbatched) or 3D (batched) input to conv1d, ` +
    `but got input of size: [${shape.join(', ')}]`);
}

/** PyTorch's conv1d checks for one call, then the output shape (same rank as the input). */
export function outputShape1d(g: Geometry1d, shape: readonly number[], where: string): number[] {
  const d = inputDims1d(shape, where);
  // PyTorch reports an unbatched input as the batch of one it makes of it.
  const asBatch = `[${d.n}, ${d.c}, ${d.l}]`;
  if (d.c !== g.inChannels)
    throw new RangeError(`${where}: Given groups=${g.groups}, weight of size [${weightShape1d(g).join(', ')}], ` +
      `expected input${asBatch} to have ${g.inChannels} channels, but got ${d.c} channels instead`);
  if (d.l < 1)
    throw new RangeError(`${where}: input length must be at least 1, got input of size [${shape.join(', ')}]`);
  const { left, right } = g.pads;
  // PyTorch's F.pad messages; the dimension counts from 0 in the input as given.
  if (g.paddingMode === 'reflect' && (left >= d.l || right >= d.l))
    throw new RangeError(`${where}: reflect padding must be smaller than the input length: Padding size should be ` +
      `less than the corresponding input dimension, but got: padding (${left}, ${right}) at dimension ` +
      `${shape.length - 1} of input [${shape.join(', ')}]`);
  if (g.paddingMode === 'circular' && (left > d.l || right > d.l))
    throw new RangeError(`${where}: circular padding (${left}, ${right}) must not exceed the input length ` +
      `(${d.l}) of input [${shape.join(', ')}]: Padding value causes wrapping around more than once.`);
  const span = g.dilation[0] * (g.kernel[0] - 1) + 1;
  const padded = d.l + left + right;
  if (padded < span)
    throw new RangeError(`${where}: Calculated padded input size per channel: (${padded}). Kernel size: (${span}). ` +
      `Kernel size can't be greater than actual input size (input of size [${shape.join(', ')}])`);
  const lOut = Math.floor((padded - span) / g.stride[0]) + 1;
  return d.batched ? [d.n, g.outChannels, lOut] : [g.outChannels, lOut];
}

/** The 4-D shape [N, C, 1, L] that a 3-D [N, C, L] or 2-D [C, L] shape is viewed as. */
export function view4d(shape: readonly number[]): number[] {
  return shape.length === 3 ? [shape[0], shape[1], 1, shape[2]] : [1, shape[0], 1, shape[1]];
}
