// An ESM consumer: `import ... from 'simdconv'` resolves to dist/index.d.mts ("import" condition).
import simdconv, { Conv2d, Tensor, loadSafetensors, loadNpy, saveNpy, setNumThreads, getNumThreads } from 'simdconv';
import type { Conv2dOptions, PaddingMode } from 'simdconv';

const mode: PaddingMode = 'circular';
const options: Conv2dOptions = { padding: 1, paddingMode: mode, bias: false };
const conv = new Conv2d(4, 4, 3, options);
const viaDefault: Conv2d = new simdconv.Conv2d(4, 4, 1);
const x = new Tensor(new Float32Array(4 * 8 * 8), [4, 8, 8]);
const y: Tensor = await conv.forwardAsync(x);
const weights: Record<string, Tensor> = loadSafetensors('weights.safetensors');
conv.loadStateDict(weights);
const back: Tensor = loadNpy(saveNpy(y));
setNumThreads(getNumThreads());
const b: Tensor | null = viaDefault.bias;

// @ts-expect-error Tensor needs a Float32Array
new Tensor([1, 2, 3], [3]);

// The conv family through the ESM entry.
import { Conv1d, conv1d, fuseConvBn } from 'simdconv';
const c1 = new Conv1d(4, 8, 3, { padding: 'same', device: 'cpu', dtype: 'float32' });
const y1: Tensor = await c1.forwardAsync(new Tensor(new Float32Array(4 * 16), [1, 4, 16]));
const f1: Tensor = conv1d(y1, new simdconv.Conv1d(8, 2, 1).weight);
const fused: Conv1d = fuseConvBn(c1, weights, { prefix: 'bn.' });
const fused2: Conv2d = simdconv.fuseConvBn(conv, weights);

// ConvTranspose2d through the ESM entry.
import { ConvTranspose2d, convTranspose2d } from 'simdconv';
const ct = new ConvTranspose2d(4, 2, 4, { stride: 2, padding: 1 });
const yt: Tensor = await ct.forwardAsync(new Tensor(new Float32Array(4 * 9), [1, 4, 3, 3]), { outputSize: [6, 6] });
const ft: Tensor = convTranspose2d(yt, new ConvTranspose2d(2, 3, 1).weight);

// Measured tuning (extension).
import type { TuneResult, TuneOptions } from 'simdconv';
const tuneOptions: TuneOptions = { repetitions: 3, algorithms: ['im2col-gemm'] };
const tuned: TuneResult = conv.tune([1, 4, 8, 8], tuneOptions);
const chosen: string = tuned.chosen;
const firstMs: number | undefined = c1.tune([1, 4, 16]).candidates[0]?.medianMs;
const isTuned: boolean = conv.plan([1, 4, 8, 8]).tuned;
// @ts-expect-error repetitions is a number
conv.tune([1, 4, 8, 8], { repetitions: '3' });

export { back, b, f1, fused, fused2, ft, chosen, firstMs, isTuned };
