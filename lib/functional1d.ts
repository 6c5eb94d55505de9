// torch.nn.functional.conv1d: zero padding only; checked with conv1d's own
// messages, then computed by conv2d on [N, C, 1, L] views (no copies).
import { Tensor } from './tensor';
import { checkInt, checkOptions } from './args';
import { Geometry1d, Padding1d, makeGeometry1d, options2d, outputShape1d, view4d } from './geometry1d';
import { asTensor } from './tensors';
import { conv2d } from './functional';

export interface Conv1dFunctionalOptions {
  stride?: number;
  padding?: Padding1d;
  dilation?: number;
  groups?: number;
}
const OPTIONS = ['stride', 'padding', 'dilation', 'groups'] as const;

function geometryFromWeight(where: string, weightShape: readonly number[], options: unknown): Geometry1d {
  const o = checkOptions<Conv1dFunctionalOptions>(options, OPTIONS, where);
  if (weightShape.length !== 3)
    throw new RangeError(`${where}: weight must be 3-D [outChannels, inChannels/groups, k], ` +
      `got shape [${weightShape.join(', ')}]`);
  const [outC, inPerGroup, k] = weightShape;
  const groups = checkInt(o.groups ?? 1, `${where}: groups`, 1);
  if (outC % groups !== 0)
    throw new RangeError(`${where}: Given groups=${groups}, expected weight to be divisible by ${groups} ` +
      `at dimension 0, but got weight of size [${weightShape.join(', ')}] instead`);
  if (inPerGroup < 1 || outC < 1 || k < 1)
    throw new RangeError(`${where}: weight shape [${weightShape.join(', ')}] has a zero dimension`);
  // The input's channel count is checked against inPerGroup*groups in outputShape1d().
  return makeGeometry1d(where, inPerGroup * groups, outC, k, { ...o, groups });
}

export function conv1d(input: Tensor, weight: Tensor, bias?: Tensor | null,
  options?: Conv1dFunctionalOptions): Tensor {
  const where = 'conv1d';
  const x = asTensor(input, `${where}: input`);
  const w = asTensor(weight, `${where}: weight`);
  const g = geometryFromWeight(where, w.shape, options);
  const shape = outputShape1d(g, x.shape, where);
  let b: Tensor | null = null;
  if (bias !== undefined && bias !== null) {
    b = asTensor(bias, `${where}: bias`);
    if (b.shape.length !== 1 || b.shape[0] !== g.outChannels)
      throw new RangeError(`${where}: Given weight of size [${w.shape.join(', ')}], expected bias to be ` +
        `1-dimensional with ${g.outChannels} elements, but got bias of size [${b.shape.join(', ')}] instead`);
  }
  const { stride, padding, dilation, groups } = options2d(g);
  const y = conv2d(new Tensor(x.data, view4d(x.shape)), new Tensor(w.data, view4d(w.shape)), b,
    { stride, padding, dilation, groups });
  return new Tensor(y.data, shape);
}
