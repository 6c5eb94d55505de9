// Conv2d geometry as PyTorch defines it: padding resolution ('valid', 'same'
// with the extra pad on the bottom/right), PyTorch's checks, output size.
import { Pair, describeValue, toPair, checkInt } from './args';
import type { NativeLayerParams } from './native';

export type PaddingMode = 'zeros' | 'reflect' | 'replicate' | 'circular';
export type Padding = Pair | 'valid' | 'same';
export const PADDING_MODES: readonly PaddingMode[] = ['zeros', 'reflect', 'replicate', 'circular'];

/** The layer's resolved geometry; everything explicit. */
export interface Geometry {
  inChannels: number;
  outChannels: number;
  kernel: [number, number];
  stride: [number, number];
  dilation: [number, number];
  groups: number;
  padding: [number, number] | 'valid' | 'same'; // as given (for repr)
  pads: { top: number; bottom: number; left: number; right: number };
  paddingMode: PaddingMode;
}

export function checkPaddingMode(v: unknown, where: string): PaddingMode {
  if (typeof v !== 'string' || !PADDING_MODES.includes(v as PaddingMode))
    throw new TypeError(`${where}: paddingMode must be one of ${PADDING_MODES.map((m) => `'${m}'`).join(', ')}, ` +
      `got ${describeValue(v)}`);
  return v as PaddingMode;
}

export function makeGeometry(where: string, inChannels: unknown, outChannels: unknown, kernelSize: unknown,
  o: { stride?: unknown; padding?: unknown; dilation?: unknown; groups?: unknown; paddingMode?: unknown }): Geometry {
  const inC = checkInt(inChannels, `${where}: inChannels`, 1);
  const outC = checkInt(outChannels, `${where}: outChannels`, 1);
  const kernel = toPair(kernelSize, `${where}: kernelSize`, 1);
  const stride = toPair(o.stride ?? 1, `${where}: stride`, 1);
  const dilation = toPair(o.dilation ?? 1, `${where}: dilation`, 1);
  const groups = checkInt(o.groups ?? 1, `${where}: groups`, 1);
  const paddingMode = checkPaddingMode(o.paddingMode ?? 'zeros', where);
  if (inC % groups !== 0)
    throw new RangeError(`${where}: inChannels (${inC}) must be divisible by groups (${groups})`);
  if (outC % groups !== 0)
    throw new RangeError(`${where}: outChannels (${outC}) must be divisible by groups (${groups})`);
  const weightElements = outC * (inC / groups) * kernel[0] * kernel[1];
  if (weightElements > 2 ** 31)
    throw new RangeError(`${where}: the weight would have ${weightElements} elements ` +
      `([${outC}, ${inC / groups}, ${kernel[0]}, ${kernel[1]}]), more than 2^31`);
  const rawPadding = o.padding ?? 0;
  let padding: Geometry['padding'];
  let pads: Geometry['pads'];
  if (rawPadding === 'valid') {
    padding = 'valid';
    pads = { top: 0, bottom: 0, left: 0, right: 0 };
  } else if (rawPadding === 'same') {
    if (stride[0] !== 1 || stride[1] !== 1)
      throw new RangeError(`${where}: padding='same' is not supported for strided convolutions ` +
        `(stride=[${stride.join(', ')}])`);
    padding = 'same';
    // PyTorch: total = dilation*(k-1); left/top get total//2, right/bottom the rest.
    // Plain arithmetic, not `>> 1`: the total reaches 2^62 and a 32-bit shift
    // would turn a total of 2^31 into a negative padding.
    const th = dilation[0] * (kernel[0] - 1), tw = dilation[1] * (kernel[1] - 1);
    for (const [total, axis] of [[th, 0], [tw, 1]] as const)
      if (total - Math.floor(total / 2) > 2 ** 31)
        throw new RangeError(`${where}: padding='same' needs a padding of ${total} in total along dimension ` +
          `${axis} (dilation ${dilation[axis]} x (kernel size ${kernel[axis]} - 1)), more than 2 x 2^31`);
    pads = { top: Math.floor(th / 2), bottom: th - Math.floor(th / 2),
      left: Math.floor(tw / 2), right: tw - Math.floor(tw / 2) };
  } else if (typeof rawPadding === 'string') {
    throw new TypeError(`${where}: padding must be an integer, a pair, 'valid' or 'same', got ${describeValue(rawPadding)}`);
  } else {
    padding = toPair(rawPadding, `${where}: padding`, 0);
    pads = { top: padding[0], bottom: padding[0], left: padding[1], right: padding[1] };
  }
  return { inChannels: inC, outChannels: outC, kernel, stride, dilation, groups, padding, pads, paddingMode };
}

export function nativeParams(g: Geometry): NativeLayerParams {
  return {
    inChannels: g.inChannels, outChannels: g.outChannels,
    kernelH: g.kernel[0], kernelW: g.kernel[1],
    strideH: g.stride[0], strideW: g.stride[1],
    padTop: g.pads.top, padBottom: g.pads.bottom, padLeft: g.pads.left, padRight: g.pads.right,
    dilationH: g.dilation[0], dilationW: g.dilation[1],
    groups: g.groups,
    padMode: PADDING_MODES.indexOf(g.paddingMode),
  };
}

/** The call's input as N, C, H, W (unbatched [C, H, W] -> N = 1). */
export interface InputDims { n: number; c: number; h: number; w: number; batched: boolean }

export function inputDims(shape: readonly number[], where: string): InputDims {
  if (shape.length === 4) return { n: shape[0], c: shape[1], h: shape[2], w: shape[3], batched: true };
  if (shape.length === 3) return { n: 1, c: shape[0], h: shape[1], w: shape[2], batched: false };
  throw new RangeError(`${where}: expected a 3-D (unbatched) or 4-D (batched) input, ` +
    `got input of shape [${shape.join(', ')}]`);
}

/** PyTorch's checks for one call, then the output shape (same rank as the input). */
export function outputShape(g: Geometry, shape: readonly number[], where: string): number[] {
  const d = inputDims(shape, where);
  const weightShape = `[${g.outChannels}, ${g.inChannels / g.groups}, ${g.kernel[0]}, ${g.kernel[1]}]`;
  if (d.c !== g.inChannels)
    throw new RangeError(`${where}: given groups=${g.groups}, weight of size ${weightShape}, expected input ` +
      `[${shape.join(', ')}] to have ${g.inChannels} channels, but got ${d.c} channels instead`);
  if (d.h < 1 || d.w < 1)
    throw new RangeError(`${where}: input height and width must be at least 1, got input of shape [${shape.join(', ')}]`);
  const { top, bottom, left, right } = g.pads;
  if (g.paddingMode === 'reflect' || g.paddingMode === 'circular') {
    const checks: [number, number, string][] = [[top, d.h, 'height'], [bottom, d.h, 'height'],
      [left, d.w, 'width'], [right, d.w, 'width']];
    for (const [pad, size, axis] of checks) {
      if (g.paddingMode === 'reflect' && pad >= size)
        throw new RangeError(`${where}: reflect padding (${pad}) must be smaller than the input ${axis} (${size}) ` +
          `for input of shape [${shape.join(', ')}]`);
      if (g.paddingMode === 'circular' && pad > size)
        throw new RangeError(`${where}: circular padding (${pad}) must not exceed the input ${axis} (${size}) ` +
          `for input of shape [${shape.join(', ')}]`);
    }
  }
  const spanH = g.dilation[0] * (g.kernel[0] - 1) + 1, spanW = g.dilation[1] * (g.kernel[1] - 1) + 1;
  const ph = d.h + top + bottom, pw = d.w + left + right;
  if (ph < spanH || pw < spanW)
    throw new RangeError(`${where}: padded input size (${ph} x ${pw}) is smaller than the dilated kernel ` +
      `(${spanH} x ${spanW}) for input of shape [${shape.join(', ')}]: output size would be below 1`);
  const oh = Math.floor((ph - spanH) / g.stride[0]) + 1, ow = Math.floor((pw - spanW) / g.stride[1]) + 1;
  return d.batched ? [d.n, g.outChannels, oh, ow] : [g.outChannels, oh, ow];
}
