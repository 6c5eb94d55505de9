// torch.nn.functional.conv2d and the shape formula: zero padding only.
import { Tensor } from './tensor';
import { Pair, checkOptions, checkShape, describeValue } from './args';
import { Geometry, Padding, makeGeometry, nativeParams, outputShape } from './geometry';
import { asTensor } from './tensors';
import { runSync } from './run';
import { native } from './native';

export interface Conv2dFunctionalOptions {
  stride?: Pair;
  padding?: Padding;
  dilation?: Pair;
  groups?: number;
}
const OPTIONS = ['stride', 'padding', 'dilation', 'groups'] as const;

function geometryFromWeight(where: string, inputShape: readonly number[], weightShape: readonly number[],
  options: unknown): Geometry {
  const o = checkOptions<Conv2dFunctionalOptions>(options, OPTIONS, where);
  if (weightShape.length !== 4)
    throw new RangeError(`${where}: weight must be 4-D [outChannels, inChannels/groups, kH, kW], ` +
      `got shape [${weightShape.join(', ')}]`);
  const [outC, inPerGroup, kh, kw] = weightShape;
  const groups = o.groups ?? 1;
  if (typeof groups !== 'number' || !Number.isInteger(groups) || groups < 1)
    throw new RangeError(`${where}: groups must be a positive integer, got ${describeValue(groups)}`);
  if (inPerGroup < 1 || outC < 1 || kh < 1 || kw < 1)
    throw new RangeError(`${where}: weight shape [${weightShape.join(', ')}] has a zero dimension`);
  // The input's channel count is checked against inPerGroup*groups in outputShape().
  const g = makeGeometry(where, inPerGroup * groups, outC, [kh, kw], { ...o, groups });
  outputShape(g, inputShape, where);
  return g;
}

export function conv2d(input: Tensor, weight: Tensor, bias?: Tensor | null,
  options?: Conv2dFunctionalOptions): Tensor {
  const where = 'conv2d';
  const x = asTensor(input, `${where}: input`);
  const w = asTensor(weight, `${where}: weight`);
  const g = geometryFromWeight(where, x.shape, w.shape, options);
  let b: Tensor | null = null;
  if (bias !== undefined && bias !== null) {
    b = asTensor(bias, `${where}: bias`);
    if (b.shape.length !== 1 || b.shape[0] !== g.outChannels)
      throw new RangeError(`${where}: expected bias of shape [${g.outChannels}], got [${b.shape.join(', ')}]`);
  }
  const layer = new native.Layer(nativeParams(g), w.data, b?.data ?? null);
  return runSync(layer, g, x, undefined, where);
}

export function conv2dOutputShape(inputShape: readonly number[], weightShape: readonly number[],
  options?: Conv2dFunctionalOptions): number[] {
  const where = 'conv2dOutputShape';
  const inShape = checkShape(inputShape, `${where}: inputShape`);
  const wShape = checkShape(weightShape, `${where}: weightShape`);
  const g = geometryFromWeight(where, inShape, wShape, options);
  return outputShape(g, inShape, where);
}
