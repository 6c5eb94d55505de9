// A CommonJS consumer: `require('simdconv')` resolves to dist/index.d.ts ("require" condition).
import simdconv = require('simdconv');
import { Conv2d, Tensor, conv2d, conv2dOutputShape, loadSafetensors, loadNpy, saveNpy, backendInfo } from 'simdconv';
import type { Conv2dOptions, PaddingMode, Pair, Padding, ForwardAsyncOptions } from 'simdconv';

const mode: PaddingMode = 'reflect';
const k: Pair = [3, 5];
const pad: Padding = 'same';
const options: Conv2dOptions = { stride: 1, padding: pad, dilation: [1, 2], groups: 1, bias: true, paddingMode: mode };
const conv: Conv2d = new simdconv.Conv2d(3, 8, k, options);
const x: Tensor = new Tensor(new Float32Array(3 * 16 * 16), [1, 3, 16, 16]);
const y: Tensor = conv.forward(x, { out: Tensor.zeros(conv2dOutputShape(x.shape, conv.weight.shape, { padding: 'same', dilation: [1, 2] })) });
const shape: number[] = y.shape;
const data: Float32Array = y.data;
const bias: Tensor | null = conv.bias;
const ac = new AbortController();
const asyncOptions: ForwardAsyncOptions = { signal: ac.signal };
const pending: Promise<Tensor> = conv.forwardAsync(x, asyncOptions);
const repr: string = conv.toString();
const f: Tensor = conv2d(x, conv.weight, null, { stride: [2, 2], padding: 1 });

const state: Record<string, Tensor> = loadSafetensors(new Uint8Array(0));
const state2: Record<string, Tensor> = loadSafetensors('model.safetensors');
conv.loadStateDict(state, { prefix: 'layer1.0.conv1.' });
const arr: Tensor = loadNpy('x.npy');
const bytes: Uint8Array = saveNpy(loadNpy(new Uint8Array(0)));
const isa: string = backendInfo().isa;
const source: 'affinity' | 'cgroup' | 'cores' | 'env' | 'setNumThreads' = backendInfo().threadsSource;
const quota: number | null = backendInfo().threadLimits.cgroupCpus;
const fullWidth: 'yes' | 'no' | 'unknown' = backendInfo().cpu.fma512.fullWidth;
simdconv.setNumThreads(2);
const n: number = simdconv.getNumThreads();

// @ts-expect-error snake_case option names are not Conv2d options
new Conv2d(3, 8, 3, { padding_mode: 'reflect' });
// @ts-expect-error no such padding mode
new Conv2d(3, 8, 3, { paddingMode: 'mirror' });
// @ts-expect-error loadNpy takes a path or bytes
loadNpy(42);
// @ts-expect-error saveNpy returns bytes, not a string
const notString: string = saveNpy(arr);

// The conv family: Conv1d, conv1d, fuseConvBn; device/dtype as PyTorch's constructor takes them.
import { Conv1d, conv1d, fuseConvBn } from 'simdconv';
import type { Conv1dOptions, Conv1dFunctionalOptions, Padding1d, Device, Dtype } from 'simdconv';
const p1: Padding1d = 'same';
const o1: Conv1dOptions = { stride: 1, padding: p1, dilation: 2, groups: 1, bias: false, paddingMode: 'reflect',
  device: 'cpu', dtype: 'float32' };
const c1: Conv1d = new Conv1d(80, 384, 3, o1);
const c1b = new simdconv.Conv1d(4, 4, [3], { device: null, dtype: null });
const k1: [number] = c1.kernelSize;
const pad1: [number] | 'valid' | 'same' = c1.padding;
const y1: Tensor = c1.forward(new Tensor(new Float32Array(80 * 10), [80, 10]), { out: Tensor.zeros([384, 10]) });
const pending1: Promise<Tensor> = c1b.forwardAsync(y1, { signal: ac.signal });
c1.loadStateDict(state, { prefix: 'encoder.conv1.' });
c1.weight = c1.weight;
c1.bias = null;
const fo: Conv1dFunctionalOptions = { stride: 2, padding: 'valid', dilation: 1, groups: 1 };
const f1: Tensor = conv1d(y1, c1.weight, null, fo);
const fused2d: Conv2d = fuseConvBn(conv, state, { prefix: 'bn1.', eps: 1e-3 });
const fused1d: Conv1d = fuseConvBn(c1, state);
const dev: Device = 'cpu';
const dt: Dtype = null;
new Conv2d(3, 8, 3, { device: dev, dtype: dt });

// @ts-expect-error only the CPU
new Conv2d(3, 8, 3, { device: 'cuda' });
// @ts-expect-error only float32
new Conv1d(3, 8, 3, { dtype: 'float64' });
// @ts-expect-error a Conv1d kernel is one number
new Conv1d(3, 8, [3, 3]);
// @ts-expect-error a Conv1d stride is one number
new Conv1d(3, 8, 3, { stride: [1, 2] });
// @ts-expect-error fuseConvBn returns the class it was given
const wrongClass: Conv1d = fuseConvBn(conv, state);
// @ts-expect-error conv1d's padding has no pair form
conv1d(y1, c1.weight, null, { padding: [1, 1] });

// ConvTranspose2d, convTranspose2d, convTranspose2dOutputShape.
import { ConvTranspose2d, convTranspose2d, convTranspose2dOutputShape } from 'simdconv';
import type { ConvTranspose2dOptions, ConvTranspose2dFunctionalOptions } from 'simdconv';
const ot: ConvTranspose2dOptions = { stride: 2, padding: [1, 0], outputPadding: 1, groups: 1, bias: true,
  dilation: [1, 2], paddingMode: 'zeros', device: 'cpu', dtype: null };
const ct: ConvTranspose2d = new ConvTranspose2d(8, 4, [4, 4], ot);
const opT: [number, number] = ct.outputPadding;
const padT: [number, number] = ct.padding;
const yt: Tensor = ct.forward(new Tensor(new Float32Array(8 * 16), [8, 4, 4]), { outputSize: [9, 8] });
const pendingT: Promise<Tensor> = ct.forwardAsync(yt, { out: undefined, outputSize: [1, 4, 9, 8], signal: ac.signal });
ct.loadStateDict(state, { prefix: 'decoder.up1.' });
ct.weight = ct.weight;
ct.bias = null;
const fot: ConvTranspose2dFunctionalOptions = { stride: 2, padding: 1, outputPadding: [1, 0], groups: 2, dilation: 1 };
const ft: Tensor = convTranspose2d(yt, ct.weight, null, fot);
const shapeT: number[] = convTranspose2dOutputShape([1, 8, 4, 4], [8, 2, 3, 3], fot);
const fusedT: ConvTranspose2d = fuseConvBn(ct, state, { eps: 1e-3 });
// @ts-expect-error zero padding only
new ConvTranspose2d(3, 8, 3, { paddingMode: 'reflect' });
// @ts-expect-error no 'same' padding for a transposed conv
new ConvTranspose2d(3, 8, 3, { padding: 'same' });

export { opT, padT, pendingT, ft, shapeT, fusedT };
export { shape, data, bias, pending, repr, f, state2, bytes, isa, source, quota, fullWidth, n, notString };
export { k1, pad1, pending1, f1, fused2d, fused1d, wrongClass };

// The fused epilogue: activation (names and parameter objects), residual, the readonly field.
import type { Activation } from 'simdconv';
const acts: Activation[] = ['relu', 'gelu', { name: 'leakyRelu', negativeSlope: 0.1 }, { name: 'hardtanh', minVal: 0, maxVal: 6 },
  { name: 'elu' }, { name: 'gelu', approximate: 'tanh' }];
const fusedConv = new Conv2d(64, 64, 3, { padding: 1, activation: acts[2] });
const act: Activation | null = fusedConv.activation;
const res: Tensor = fusedConv.forward(Tensor.zeros([1, 64, 8, 8]), { residual: Tensor.zeros([1, 64, 8, 8]) });
const resAsync: Promise<Tensor> = new Conv1d(4, 4, 3, { activation: 'silu' }).forwardAsync(Tensor.zeros([4, 8]),
  { residual: Tensor.zeros([4, 6]) });
new ConvTranspose2d(8, 4, 2, { stride: 2, activation: null }).forward(Tensor.zeros([1, 8, 3, 3]), { residual: Tensor.zeros([1, 4, 6, 6]) });
// @ts-expect-error gelu's approximate is 'none' or 'tanh'
new Conv2d(3, 8, 3, { activation: { name: 'gelu', approximate: 'fast' } });
// @ts-expect-error the activation field is readonly
fusedConv.activation = 'relu';
void [act, res, resAsync];
