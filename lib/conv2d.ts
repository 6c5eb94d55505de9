// torch.nn.Conv2d: validation and 'same' padding resolved once in the
// constructor; the native layer (algorithm chosen, weights packed) is rebuilt
// only when the weights change.
import { Tensor } from './tensor';
import { Pair, checkOptions, checkShape, describeValue } from './args';
import { Geometry, Padding, PaddingMode, inputDims, makeGeometry, nativeParams, outputShape } from './geometry';
import { asTensor, sameShape } from './tensors';
import { conv2dRepr } from './repr';
import { uniformInit } from './init';
import { runSync, runAsync } from './run';
import { native, NativeLayer, ConvPlan } from './native';
import { skippedDtype } from './io/skipped';
import { Device, Dtype, checkDeviceDtype } from './device';
import { TuneOptions, TuneResult, checkTuneOptions } from './tune';
import { Activation, checkActivation, nativeActivation, withActivationRepr } from './activation';

/** A key that loadSafetensors left out because its tensor is not floating point. */
function notFloat(state: object, key: string): void {
  const dtype = skippedDtype(state, key);
  if (dtype !== undefined)
    throw new TypeError(`Conv2d.loadStateDict: '${key}' is ${/^[aeiu]/.test(dtype) ? 'an' : 'a'} ${dtype} tensor, not float ` +
      '(loadSafetensors leaves non-float tensors out)');
}

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Padding;
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
  paddingMode?: PaddingMode;
  device?: Device;
  dtype?: Dtype;
  /** Fused into the convolution: y = activation(conv(x) + bias + residual). */
  activation?: Activation | null;
}
const CONV2D_OPTIONS = ['stride', 'padding', 'dilation', 'groups', 'bias', 'paddingMode', 'device', 'dtype',
  'activation'] as const;

/** `residual`: a Tensor of the output's shape, added before the activation. */
export interface ForwardOptions { out?: Tensor; residual?: Tensor }
export interface ForwardAsyncOptions { out?: Tensor; residual?: Tensor; signal?: AbortSignal }

export class Conv2d {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number] | 'valid' | 'same';
  readonly dilation: [number, number];
  readonly groups: number;
  readonly paddingMode: PaddingMode;
  /** The fused activation (null: none), in the form a constructor accepts back. */
  readonly activation: Activation | null;

  #g: Geometry;
  #weight: Tensor;
  #bias: Tensor | null;
  #native: NativeLayer;

  constructor(inChannels: number, outChannels: number, kernelSize: Pair, options?: Conv2dOptions) {
    const o = checkOptions<Conv2dOptions>(options, CONV2D_OPTIONS, 'Conv2d');
    if (o.bias !== undefined && typeof o.bias !== 'boolean')
      throw new TypeError(`Conv2d: bias must be a boolean, got ${describeValue(o.bias)}`);
    checkDeviceDtype(o, 'Conv2d');
    const g = makeGeometry('Conv2d', inChannels, outChannels, kernelSize, o);
    this.activation = checkActivation(o.activation, 'Conv2d');
    this.#g = g;
    this.inChannels = g.inChannels;
    this.outChannels = g.outChannels;
    this.kernelSize = [...g.kernel];
    this.stride = [...g.stride];
    this.padding = typeof g.padding === 'string' ? g.padding : [...g.padding];
    this.dilation = [...g.dilation];
    this.groups = g.groups;
    this.paddingMode = g.paddingMode;
    const fanIn = (g.inChannels / g.groups) * g.kernel[0] * g.kernel[1];
    this.#weight = new Tensor(uniformInit(g.outChannels * fanIn, fanIn), this.weightShape());
    this.#bias = o.bias === false ? null : new Tensor(uniformInit(g.outChannels, fanIn), [g.outChannels]);
    this.#native = new native.Layer({ ...nativeParams(g), ...nativeActivation(this.activation) }, this.#weight.data,
      this.#bias?.data ?? null);
  }

  /** [outChannels, inChannels / groups, kH, kW] */
  private weightShape(): number[] {
    const g = this.#g;
    return [g.outChannels, g.inChannels / g.groups, g.kernel[0], g.kernel[1]];
  }

  /**
   * The weights. They are packed for the kernels when set: after editing
   * `weight.data` in place, assign it again (`conv.weight = conv.weight`).
   */
  get weight(): Tensor {
    return this.#weight;
  }
  set weight(t: Tensor) {
    this.setParameters(this.checkWeight(t, 'Conv2d.weight'), this.#bias);
  }

  get bias(): Tensor | null {
    return this.#bias;
  }
  set bias(t: Tensor | null) {
    this.setParameters(this.#weight, this.checkBias(t, 'Conv2d.bias'));
  }

  /** PyTorch's load_state_dict for this layer: `${prefix}weight` and, with bias, `${prefix}bias`. */
  loadStateDict(state: Record<string, Tensor | null | undefined>, options?: { prefix?: string }): void {
    const o = checkOptions<{ prefix: string }>(options, ['prefix'], 'Conv2d.loadStateDict');
    const prefix = o.prefix ?? '';
    if (typeof prefix !== 'string')
      throw new TypeError(`Conv2d.loadStateDict: prefix must be a string, got ${describeValue(prefix)}`);
    if (state === null || typeof state !== 'object')
      throw new TypeError(`Conv2d.loadStateDict: state must be an object of Tensors, got ${describeValue(state)}`);
    const wKey = `${prefix}weight`, bKey = `${prefix}bias`;
    const w = state[wKey];
    if (w === undefined || w === null) {
      notFloat(state, wKey);
      const near = Object.keys(state).filter((k) => k.endsWith('weight')).slice(0, 5);
      throw new Error(`Conv2d.loadStateDict: missing key '${wKey}'` +
        (near.length ? `; keys ending in 'weight': ${near.join(', ')}` : ''));
    }
    const weight = this.checkWeight(w, `Conv2d.loadStateDict: '${wKey}'`);
    const b = state[bKey];
    let bias: Tensor | null;
    if (this.#bias === null) {
      if (b !== undefined && b !== null)
        throw new Error(`Conv2d.loadStateDict: unexpected key '${bKey}': this layer was built with bias: false`);
      bias = null;
    } else {
      if (b === undefined || b === null) {
        notFloat(state, bKey);
        throw new Error(`Conv2d.loadStateDict: missing key '${bKey}' (this layer has a bias)`);
      }
      bias = this.checkBias(b, `Conv2d.loadStateDict: '${bKey}'`);
    }
    this.setParameters(weight, bias);
  }

  forward(input: Tensor, options?: ForwardOptions): Tensor {
    const o = checkOptions<ForwardOptions>(options, ['out', 'residual'], 'Conv2d.forward');
    return runSync(this.#native, this.#g, input, o.out, 'Conv2d.forward', o.residual);
  }

  forwardAsync(input: Tensor, options?: ForwardAsyncOptions): Promise<Tensor> {
    try {
      const o = checkOptions<ForwardAsyncOptions>(options, ['out', 'residual', 'signal'], 'Conv2d.forwardAsync');
      return runAsync(this.#native, this.#g, input, o.out, o.signal, 'Conv2d.forwardAsync', o.residual);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  toString(): string {
    return withActivationRepr(conv2dRepr(this.#g, this.#bias !== null), this.activation);
  }

  /** Which native algorithm and ISA this layer runs (for diagnostics). */
  get backend(): { algorithm: string; isa: string } {
    return { algorithm: this.#native.algorithm, isa: this.#native.isa };
  }

  private checkWeight(t: unknown, name: string): Tensor {
    const w = asTensor(t, name);
    const want = this.weightShape();
    if (!sameShape(w.shape, want))
      throw new RangeError(`${name}: expected weight of shape [${want.join(', ')}], got [${w.shape.join(', ')}]`);
    return w;
  }

  private checkBias(t: unknown, name: string): Tensor | null {
    if (t === null) return null; // as in PyTorch, `conv.bias = null` removes the bias
    const b = asTensor(t, name);
    if (!sameShape(b.shape, [this.#g.outChannels]))
      throw new RangeError(`${name}: expected bias of shape [${this.#g.outChannels}], got [${b.shape.join(', ')}]`);
    return b;
  }

  // Packs both before swapping, so a failure leaves the layer unchanged and a
  // call in flight keeps the weights it started with.
  private setParameters(weight: Tensor, bias: Tensor | null): void {
    this.#native.setWeights(weight.data, bias?.data ?? null);
    this.#weight = weight;
    this.#bias = bias;
  }

  /**
   * How a call on an input of this shape ([N, C, H, W] or [C, H, W]) runs at
   * the current thread count: algorithm, microkernel, thread split, workspace
   * (an extension: PyTorch has no equivalent). Checks the shape as forward() does.
   */
  plan(inputShape: readonly number[]): ConvPlan {
    const shape = checkShape(inputShape, 'Conv2d.plan: inputShape');
    outputShape(this.#g, shape, 'Conv2d.plan');
    const d = inputDims(shape, 'Conv2d.plan');
    if (d.n < 1) throw new RangeError(`Conv2d.plan: the batch must be at least 1, got input of shape [${shape.join(', ')}]`);
    return this.#native.plan(d.n, d.h, d.w);
  }

  /**
   * Opt-in measured tuning (an extension, like torch.backends.cudnn.benchmark):
   * times each algorithm that can run this layer for this input shape at the
   * current thread count and keeps the fastest for later calls of that shape
   * and thread count. Blocks while it measures; may change which algorithm runs.
   */
  tune(inputShape: readonly number[], options?: TuneOptions): TuneResult {
    const o = checkTuneOptions(options, 'Conv2d.tune');
    const shape = checkShape(inputShape, 'Conv2d.tune: inputShape');
    outputShape(this.#g, shape, 'Conv2d.tune');
    const d = inputDims(shape, 'Conv2d.tune');
    if (d.n < 1) throw new RangeError(`Conv2d.tune: the batch must be at least 1, got input of shape [${shape.join(', ')}]`);
    return this.#native.tune(d.n, d.h, d.w, o.repetitions, o.algorithms, this.#weight.data, this.#bias?.data ?? null);
  }
}
