// torch.nn.utils.fusion.fuse_conv_bn_eval: fold an eval-mode BatchNorm into
// the conv before it. PyTorch computes in the conv's dtype, elementwise:
//   r = rsqrt(running_var + eps)            (eps rounded to float32 first)
//   w' = w * (bn_w * r)                      per output channel
//   b' = ((b - running_mean) * r) * bn_w + bn_b
// Each step here is one float32 rounding of the exact result (Math.fround of a
// double op on float32 values rounds as float32 arithmetic would, for + - * /
// and sqrt), and rsqrt is 1 / sqrt as torch's CPU kernel computes it, so the
// fused weights are PyTorch's bit for bit.
import { Tensor } from './tensor';
import { checkOptions, describeValue } from './args';
import { Conv2d } from './conv2d';
import { Conv1d } from './conv1d';
import { ConvTranspose2d } from './convTranspose2d';
import { StateDict, requiredEntry, stateEntry } from './statedict';

const f32 = Math.fround;

type FusableLayer = Conv2d | Conv1d | ConvTranspose2d;

/** How to rebuild each layer class with the same options, and its weight's output-channel axis. */
interface LayerKind<L> {
  rebuild(conv: L): L; // a new layer of the same class, options and activation, with a bias
  channelAxis: 0 | 1; // 0 for conv weights [out, in/g, ...]; a transposed conv's is 1
}
const CONV2D: LayerKind<Conv2d> = {
  rebuild: (c) => new Conv2d(c.inChannels, c.outChannels, c.kernelSize, {
    stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups, paddingMode: c.paddingMode,
    activation: c.activation,
  }),
  channelAxis: 0,
};
const CONV1D: LayerKind<Conv1d> = {
  rebuild: (c) => new Conv1d(c.inChannels, c.outChannels, c.kernelSize, {
    stride: c.stride[0], padding: typeof c.padding === 'string' ? c.padding : c.padding[0],
    dilation: c.dilation[0], groups: c.groups, paddingMode: c.paddingMode, activation: c.activation,
  }),
  channelAxis: 0,
};

const CONVT2D: LayerKind<ConvTranspose2d> = {
  rebuild: (c) => new ConvTranspose2d(c.inChannels, c.outChannels, c.kernelSize, {
    stride: c.stride, padding: c.padding, outputPadding: c.outputPadding, dilation: c.dilation, groups: c.groups,
    activation: c.activation,
  }),
  channelAxis: 1,
};

function kindOf(conv: unknown): LayerKind<FusableLayer> {
  if (conv instanceof Conv2d) return CONV2D as LayerKind<FusableLayer>;
  if (conv instanceof Conv1d) return CONV1D as LayerKind<FusableLayer>;
  if (conv instanceof ConvTranspose2d) return CONVT2D as LayerKind<FusableLayer>;
  throw new TypeError(`fuseConvBn: conv must be a Conv2d, a Conv1d or a ConvTranspose2d, got ${describeValue(conv)}`);
}

/** The BatchNorm's per-channel tensors; a missing weight/bias means 1/0 (affine=False). */
function batchNormStats(bn: StateDict, prefix: string, channels: number) {
  const where = 'fuseConvBn';
  const stat = (name: string, required: boolean) => {
    const key = `${prefix}${name}`;
    const t = required ? requiredEntry(bn, key, where, ' (BatchNorm running statistics)') : stateEntry(bn, key, where);
    if (t !== undefined && (t.shape.length !== 1 || t.shape[0] !== channels))
      throw new RangeError(`${where}: '${key}' has shape [${t.shape.join(', ')}], expected [${channels}] ` +
        "(the conv's outChannels)");
    return t?.data;
  };
  return {
    mean: stat('running_mean', true) as Float32Array,
    variance: stat('running_var', true) as Float32Array,
    weight: stat('weight', false),
    bias: stat('bias', false),
  };
}

export function fuseConvBn<L extends FusableLayer>(conv: L, bn: StateDict,
  options?: { prefix?: string; eps?: number }): L {
  const kind = kindOf(conv);
  const o = checkOptions<{ prefix: string; eps: number }>(options, ['prefix', 'eps'], 'fuseConvBn');
  const prefix = o.prefix ?? '';
  if (typeof prefix !== 'string')
    throw new TypeError(`fuseConvBn: prefix must be a string, got ${describeValue(prefix)}`);
  const eps = o.eps ?? 1e-5;
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0)
    throw new RangeError(`fuseConvBn: eps must be a finite number >= 0, got ${describeValue(eps)}`);
  if (bn === null || typeof bn !== 'object')
    throw new TypeError(`fuseConvBn: bn must be an object of Tensors (a BatchNorm state_dict), got ${describeValue(bn)}`);
  const channels = conv.outChannels;
  const s = batchNormStats(bn, prefix, channels);

  const rsqrt = new Float32Array(channels), scale = new Float32Array(channels), bias = new Float32Array(channels);
  const epsF = f32(eps);
  for (let c = 0; c < channels; c++) {
    rsqrt[c] = f32(1 / f32(Math.sqrt(f32(s.variance[c] + epsF))));
    const gamma = s.weight ? s.weight[c] : 1, beta = s.bias ? s.bias[c] : 0;
    const b = conv.bias ? conv.bias.data[c] : 0;
    scale[c] = f32(gamma * rsqrt[c]);
    bias[c] = f32(f32(f32(f32(b - s.mean[c]) * rsqrt[c]) * gamma) + beta);
  }
  const w = conv.weight;
  const weight = new Float32Array(w.data.length);
  // weight [d0, d1, ...rest]: the output channel is d0 (conv); a transposed
  // conv's is d1 within the group of input channel d0 ([in, out/groups, ...]).
  // PyTorch 1.13's fuse_conv_bn_eval(transpose=True) scales by d1 alone and
  // so fails on groups > 1 (a shape mismatch); this folds those correctly.
  const inner = w.data.length / (w.shape[0] * w.shape[1]);
  const inPerGroup = w.shape[0] / conv.groups;
  for (let i = 0; i < weight.length; i++) {
    const c = kind.channelAxis === 0 ? Math.floor(i / (w.shape[1] * inner))
      : Math.floor(Math.floor(i / (w.shape[1] * inner)) / inPerGroup) * w.shape[1] + Math.floor(i / inner) % w.shape[1];
    weight[i] = f32(w.data[i] * scale[c]);
  }
  const fused = kind.rebuild(conv) as L;
  fused.loadStateDict({ weight: new Tensor(weight, w.shape), bias: new Tensor(bias, [channels]) });
  return fused;
}
