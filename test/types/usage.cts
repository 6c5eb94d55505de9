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

export { shape, data, bias, pending, repr, f, state2, bytes, isa, source, quota, fullWidth, n, notString };
