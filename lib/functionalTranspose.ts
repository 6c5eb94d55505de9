// torch.nn.functional.conv_transpose2d and its shape formula:
// H_out = (H_in - 1)*stride - 2*padding + dilation*(k - 1) + output_padding + 1.
import { Tensor } from './tensor';
import { checkOptions, checkShape } from './args';
import { TransposeGeometry, TransposeOptions, makeTransposeGeometry, nativeTransposeParams,
  transposeCall } from './geometryTranspose';
import { asTensor } from './tensors';
import { checkBiasShape } from './params';
import { runSync } from './run';
import { native } from './native';

export type ConvTranspose2dFunctionalOptions = TransposeOptions;
const OPTIONS = ['stride', 'padding', 'outputPadding', 'groups', 'dilation'];

function geometryFromWeight(where: string, weightShape: readonly number[], options: unknown): TransposeGeometry {
  const o = checkOptions<TransposeOptions>(options, OPTIONS, where);
  if (weightShape.length !== 4)
    throw new RangeError(`${where}: weight must be 4-D [inChannels, outChannels/groups, kH, kW], ` +
      `got shape [${weightShape.join(', ')}]`);
  const [inC, outPerGroup, kh, kw] = weightShape;
  if (inC < 1 || outPerGroup < 1 || kh < 1 || kw < 1)
    throw new RangeError(`${where}: weight shape [${weightShape.join(', ')}] has a zero dimension`);
  const groups = o.groups ?? 1;
  // makeTransposeGeometry checks groups and that it divides the weight's input channels.
  return makeTransposeGeometry(where, inC, outPerGroup * (typeof groups === 'number' ? groups : 1), [kh, kw],
    { ...o, groups });
}

export function convTranspose2d(input: Tensor, weight: Tensor, bias?: Tensor | null,
  options?: ConvTranspose2dFunctionalOptions): Tensor {
  const where = 'convTranspose2d';
  const x = asTensor(input, `${where}: input`);
  const w = asTensor(weight, `${where}: weight`);
  const g = geometryFromWeight(where, w.shape, options);
  const b = bias === undefined ? null : checkBiasShape(bias, g.outChannels, `${where}: bias`);
  const call = transposeCall(g, x.shape, where);
  const layer = new native.Layer(nativeTransposeParams(g, call.outputPadding), w.data, b?.data ?? null);
  return runSync(layer, () => call.shape, x, undefined, where);
}

export function convTranspose2dOutputShape(inputShape: readonly number[], weightShape: readonly number[],
  options?: ConvTranspose2dFunctionalOptions): number[] {
  const where = 'convTranspose2dOutputShape';
  const inShape = checkShape(inputShape, `${where}: inputShape`);
  const wShape = checkShape(weightShape, `${where}: weightShape`);
  return transposeCall(geometryFromWeight(where, wShape, options), inShape, where).shape;
}
