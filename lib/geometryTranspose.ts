// ConvTranspose2d geometry as PyTorch defines it: the options checked in the
// constructor, the output shape per call (with the layer's output_padding,
// or the one a call's output_size implies: torch's _output_padding), and
// PyTorch's messages for each rule.
import { Pair, checkInt, describeValue, toPair } from './args';
import { inputDims } from './geometry';
import type { NativeLayerParams } from './native';

/** The layer's resolved geometry. Padding is symmetric (PyTorch's padding crops both sides). */
export interface TransposeGeometry {
  inChannels: number;
  outChannels: number;
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  outputPadding: [number, number];
  dilation: [number, number];
  groups: number;
}

export interface TransposeOptions {
  stride?: Pair; padding?: Pair; outputPadding?: Pair; groups?: number; dilation?: Pair;
}

export function makeTransposeGeometry(where: string, inChannels: unknown, outChannels: unknown,
  kernelSize: unknown, o: TransposeOptions & { paddingMode?: unknown }): TransposeGeometry {
  if (o.paddingMode !== undefined && o.paddingMode !== 'zeros')
    throw new TypeError(`${where}: only 'zeros' paddingMode is supported for ConvTranspose2d, ` +
      `got ${describeValue(o.paddingMode)}`);
  const inC = checkInt(inChannels, `${where}: inChannels`, 1);
  const outC = checkInt(outChannels, `${where}: outChannels`, 1);
  const kernel = toPair(kernelSize, `${where}: kernelSize`, 1);
  const stride = toPair(o.stride ?? 1, `${where}: stride`, 1);
  const padding = toPair(o.padding ?? 0, `${where}: padding`, 0);
  const outputPadding = toPair(o.outputPadding ?? 0, `${where}: outputPadding`, 0);
  const dilation = toPair(o.dilation ?? 1, `${where}: dilation`, 1);
  const groups = checkInt(o.groups ?? 1, `${where}: groups`, 1);
  if (inC % groups !== 0)
    throw new RangeError(`${where}: inChannels (${inC}) must be divisible by groups (${groups})`);
  if (outC % groups !== 0)
    throw new RangeError(`${where}: outChannels (${outC}) must be divisible by groups (${groups})`);
  const weightElements = inC * (outC / groups) * kernel[0] * kernel[1];
  if (weightElements > 2 ** 31)
    throw new RangeError(`${where}: the weight would have ${weightElements} elements ` +
      `([${inC}, ${outC / groups}, ${kernel[0]}, ${kernel[1]}]), more than 2^31`);
  return { inChannels: inC, outChannels: outC, kernel, stride, padding, outputPadding, dilation, groups };
}

/** [inChannels, outChannels / groups, kH, kW] */
export function transposeWeightShape(g: TransposeGeometry): number[] {
  return [g.inChannels, g.outChannels / g.groups, g.kernel[0], g.kernel[1]];
}

/** PyTorch's rule (checked when the call runs): output padding below the stride or the dilation. */
export function checkOutputPadding(g: TransposeGeometry, op: readonly number[], where: string): void {
  if ((op[0] < g.stride[0] || op[0] < g.dilation[0]) && (op[1] < g.stride[1] || op[1] < g.dilation[1])) return;
  throw new RangeError(`${where}: output padding must be smaller than either stride or dilation, but got ` +
    `output_padding_height: ${op[0]} output_padding_width: ${op[1]} stride_height: ${g.stride[0]} ` +
    `stride_width: ${g.stride[1]} dilation_height: ${g.dilation[0]} dilation_width: ${g.dilation[1]}`);
}

/** Output size without output padding, per spatial axis (torch's min_sizes). */
function minSizes(g: TransposeGeometry, h: number, w: number): [number, number] {
  const axis = (n: number, d: 0 | 1) =>
    (n - 1) * g.stride[d] - 2 * g.padding[d] + g.dilation[d] * (g.kernel[d] - 1) + 1;
  return [axis(h, 0), axis(w, 1)];
}

/** A call's output shape and the output padding it runs with. */
export interface TransposeCall { shape: number[]; outputPadding: [number, number] }

/**
 * PyTorch's checks for one call, then the output shape (same rank as the
 * input). With `outputSize` (its last two entries are H_out, W_out), the
 * output padding is what makes the output that size (torch's _output_padding).
 */
export function transposeCall(g: TransposeGeometry, shape: readonly number[], where: string,
  outputSize?: unknown): TransposeCall {
  const d = inputDims(shape, where);
  const weight = `[${transposeWeightShape(g).join(', ')}]`;
  if (d.c !== g.inChannels)
    throw new RangeError(`${where}: Given transposed=1, weight of size ${weight}, expected ` +
      `input[${shape.join(', ')}] to have ${g.inChannels} channels, but got ${d.c} channels instead`);
  if (d.h < 1 || d.w < 1)
    throw new RangeError(`${where}: input height and width must be at least 1, got input of shape [${shape.join(', ')}]`);
  const min = minSizes(g, d.h, d.w);
  let op: [number, number];
  if (outputSize === undefined || outputSize === null) {
    op = [g.outputPadding[0], g.outputPadding[1]];
    checkOutputPadding(g, op, where);
  } else {
    op = outputPaddingFor(g, shape, d.batched, min, outputSize, where);
  }
  const oh = min[0] + op[0], ow = min[1] + op[1];
  if (oh < 1 || ow < 1)
    throw new RangeError(`${where}: Given input size per channel: (${d.h} x ${d.w}). Calculated output size ` +
      `per channel: (${oh} x ${ow}). Output size is too small`);
  return { shape: d.batched ? [d.n, g.outChannels, oh, ow] : [g.outChannels, oh, ow], outputPadding: op };
}

function outputPaddingFor(g: TransposeGeometry, shape: readonly number[], batched: boolean,
  min: [number, number], outputSize: unknown, where: string): [number, number] {
  if (!Array.isArray(outputSize))
    throw new TypeError(`${where}: outputSize must be an array of integers, got ${describeValue(outputSize)}`);
  const nonSpatial = batched ? 2 : 1;
  let size = outputSize.map((v, i) => checkInt(v, `${where}: outputSize[${i}]`, 0, 2 ** 53));
  if (size.length === nonSpatial + 2) size = size.slice(nonSpatial);
  if (size.length !== 2)
    throw new RangeError(`${where}: ConvTranspose2D: for ${shape.length}D input, outputSize must have 2 or ` +
      `${nonSpatial + 2} elements (got ${size.length})`);
  const max = [min[0] + g.stride[0] - 1, min[1] + g.stride[1] - 1];
  if (size.some((s, i) => s < min[i] || s > max[i]))
    throw new RangeError(`${where}: requested an output size of [${size.join(', ')}], but valid sizes range ` +
      `from [${min.join(', ')}] to [${max.join(', ')}] (for an input of torch.Size([${shape.slice(2).join(', ')}]))`);
  return [size[0] - min[0], size[1] - min[1]];
}

export function nativeTransposeParams(g: TransposeGeometry, outputPadding: readonly number[]): NativeLayerParams {
  return {
    inChannels: g.inChannels, outChannels: g.outChannels,
    kernelH: g.kernel[0], kernelW: g.kernel[1],
    strideH: g.stride[0], strideW: g.stride[1],
    padTop: g.padding[0], padBottom: g.padding[0], padLeft: g.padding[1], padRight: g.padding[1],
    dilationH: g.dilation[0], dilationW: g.dilation[1],
    groups: g.groups,
    padMode: 0,
    transposed: true,
    outputPaddingH: outputPadding[0], outputPaddingW: outputPadding[1],
  };
}
