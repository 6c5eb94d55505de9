// torch.nn.Conv1d, by composition: a private Conv2d with kernel [1, k] runs on
// a [N, C, 1, L] view of the caller's own Float32Array, and its [N, O, 1, L']
// output is handed back as [N, O, L'] over the same memory, so a call makes no
// reshaping copies and shares Conv2d's native and async paths. Every user
// mistake is caught here first, with conv1d's own messages, so the inner
// layer's 2-D wording is never what a Conv1d user reads.
import { Tensor } from './tensor';
import { checkOptions, checkShape, describeValue } from './args';
import { PaddingMode } from './geometry';
import { Geometry1d, Padding1d, makeGeometry1d, options2d, outputShape1d, view4d, weightShape1d } from './geometry1d';
import { asTensor, outputTensor, residualTensor } from './tensors';
import { checkBiasShape, checkWeightShape } from './params';
import { convRepr } from './repr';
import { Activation, checkActivation, withActivationRepr } from './activation';
import { Conv2d } from './conv2d';
import type { ConvPlan } from './native';
import { TuneOptions, TuneResult, checkTuneOptions } from './tune';
import { Device, Dtype, checkDeviceDtype } from './device';
import { StateDict, requiredEntry, stateEntry, statePrefix } from './statedict';
import { checkSignal } from './run';

export interface Conv1dOptions {
  stride?: number;
  padding?: Padding1d;
  dilation?: number;
  groups?: number;
  bias?: boolean;
  paddingMode?: PaddingMode;
  device?: Device;
  dtype?: Dtype;
  /** Fused into the convolution: y = activation(conv(x) + bias + residual). */
  activation?: Activation | null;
}
const CONV1D_OPTIONS = ['stride', 'padding', 'dilation', 'groups', 'bias', 'paddingMode', 'device', 'dtype', 'activation'];

/** `residual`: a Tensor of the output's shape ([N, O, L'] or [O, L']), added before the activation. */
export interface Conv1dForwardOptions { out?: Tensor; residual?: Tensor }
export interface Conv1dForwardAsyncOptions { out?: Tensor; residual?: Tensor; signal?: AbortSignal }

export class Conv1d {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number];
  readonly stride: [number];
  readonly padding: [number] | 'valid' | 'same';
  readonly dilation: [number];
  readonly groups: number;
  readonly paddingMode: PaddingMode;
  /** The fused activation (null: none), in the form a constructor accepts back. */
  readonly activation: Activation | null;

  #g: Geometry1d;
  #inner: Conv2d;
  #weight: Tensor; // the 3-D face of #inner.weight: the same Float32Array

  constructor(inChannels: number, outChannels: number, kernelSize: number | [number], options?: Conv1dOptions) {
    const o = checkOptions<Conv1dOptions>(options, CONV1D_OPTIONS, 'Conv1d');
    if (o.bias !== undefined && typeof o.bias !== 'boolean')
      throw new TypeError(`Conv1d: bias must be a boolean, got ${describeValue(o.bias)}`);
    checkDeviceDtype(o, 'Conv1d');
    const g = makeGeometry1d('Conv1d', inChannels, outChannels, kernelSize, o);
    this.activation = checkActivation(o.activation, 'Conv1d');
    this.#g = g;
    this.inChannels = g.inChannels;
    this.outChannels = g.outChannels;
    this.kernelSize = [g.kernel[0]];
    this.stride = [g.stride[0]];
    this.padding = typeof g.padding === 'string' ? g.padding : [g.padding[0]];
    this.dilation = [g.dilation[0]];
    this.groups = g.groups;
    this.paddingMode = g.paddingMode;
    // Conv2d's default init with kernel [1, k] has fan_in = in/groups * k, Conv1d's.
    this.#inner = new Conv2d(g.inChannels, g.outChannels, [1, g.kernel[0]], { ...options2d(g), bias: o.bias,
      activation: this.activation });
    this.#weight = new Tensor(this.#inner.weight.data, weightShape1d(g));
  }

  /**
   * The weights, [outChannels, inChannels / groups, k]. They are packed for
   * the kernels when set: after editing `weight.data` in place, assign it
   * again (`conv.weight = conv.weight`).
   */
  get weight(): Tensor {
    return this.#weight;
  }
  set weight(t: Tensor) {
    const w = this.checkWeight(t, 'Conv1d.weight');
    this.#inner.weight = this.weight4d(w);
    this.#weight = w; // only once the inner layer has packed it
  }

  get bias(): Tensor | null {
    return this.#inner.bias;
  }
  set bias(t: Tensor | null) {
    this.#inner.bias = this.checkBias(t, 'Conv1d.bias');
  }

  /** PyTorch's load_state_dict for this layer: `${prefix}weight` and, with bias, `${prefix}bias`. */
  loadStateDict(state: StateDict, options?: { prefix?: string }): void {
    const where = 'Conv1d.loadStateDict';
    const prefix = statePrefix(state, options, where);
    const wKey = `${prefix}weight`, bKey = `${prefix}bias`;
    const weight = this.checkWeight(requiredEntry(state, wKey, where), `${where}: '${wKey}'`);
    let bias: Tensor | null = null;
    if (this.bias === null) {
      if (stateEntry(state, bKey, where) !== undefined)
        throw new Error(`${where}: unexpected key '${bKey}': this layer was built with bias: false`);
    } else {
      bias = this.checkBias(requiredEntry(state, bKey, where, ' (this layer has a bias)'), `${where}: '${bKey}'`);
    }
    // The inner layer packs both before swapping either: a failure changes nothing.
    this.#inner.loadStateDict({ weight: this.weight4d(weight), bias });
    this.#weight = weight;
  }

  forward(input: Tensor, options?: Conv1dForwardOptions): Tensor {
    const where = 'Conv1d.forward';
    const o = checkOptions<Conv1dForwardOptions>(options, ['out', 'residual'], where);
    const call = this.prepare(input, o.out, o.residual, where);
    const y = this.#inner.forward(call.x4, { out: call.out4, residual: call.residual4 });
    return call.out ?? new Tensor(y.data, call.shape);
  }

  forwardAsync(input: Tensor, options?: Conv1dForwardAsyncOptions): Promise<Tensor> {
    const where = 'Conv1d.forwardAsync';
    try {
      const o = checkOptions<Conv1dForwardAsyncOptions>(options, ['out', 'residual', 'signal'], where);
      checkSignal(o.signal, where);
      const call = this.prepare(input, o.out, o.residual, where);
      return this.#inner.forwardAsync(call.x4, { out: call.out4, residual: call.residual4, signal: o.signal })
        .then((y) => call.out ?? new Tensor(y.data, call.shape));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  toString(): string {
    return withActivationRepr(convRepr('Conv1d', this.#g, this.bias !== null), this.activation);
  }

  /** Which native algorithm and ISA this layer runs (for diagnostics). */
  get backend(): { algorithm: string; isa: string } {
    return this.#inner.backend;
  }

  /** Checks the call and builds the 4-D views the inner Conv2d runs on (no copies). */
  private prepare(input: unknown, out: unknown, residual: unknown, where: string) {
    const x = asTensor(input, `${where}: input`);
    const shape = outputShape1d(this.#g, x.shape, where);
    const r = residualTensor(residual, shape, where);
    const o = out === undefined ? undefined : outputTensor(out, shape, x, where);
    return {
      x4: new Tensor(x.data, view4d(x.shape)),
      out: o,
      out4: o && new Tensor(o.data, view4d(shape)),
      residual4: r && new Tensor(r.data, view4d(shape)),
      shape,
    };
  }

  private checkWeight(t: unknown, name: string): Tensor {
    return checkWeightShape(t, weightShape1d(this.#g), name);
  }

  private checkBias(t: unknown, name: string): Tensor | null {
    return checkBiasShape(t, this.#g.outChannels, name);
  }

  private weight4d(weight: Tensor): Tensor {
    const g = this.#g;
    return new Tensor(weight.data, [g.outChannels, g.inChannels / g.groups, 1, g.kernel[0]]);
  }

  /** How a call on an input of this shape ([N, C, L] or [C, L]) runs: the inner Conv2d's plan for [N, C, 1, L]. */
  plan(inputShape: readonly number[]): ConvPlan {
    const shape = checkShape(inputShape, 'Conv1d.plan: inputShape');
    outputShape1d(this.#g, shape, 'Conv1d.plan');
    if (shape.length === 3 && shape[0] < 1)
      throw new RangeError(`Conv1d.plan: the batch must be at least 1, got input of shape [${shape.join(', ')}]`);
    return this.#inner.plan(view4d(shape));
  }

  /** Measured tuning for inputs of this shape ([N, C, L] or [C, L]): the inner Conv2d's, for [N, C, 1, L]. */
  tune(inputShape: readonly number[], options?: TuneOptions): TuneResult {
    checkTuneOptions(options, 'Conv1d.tune');
    const shape = checkShape(inputShape, 'Conv1d.tune: inputShape');
    outputShape1d(this.#g, shape, 'Conv1d.tune');
    if (shape.length === 3 && shape[0] < 1)
      throw new RangeError(`Conv1d.tune: the batch must be at least 1, got input of shape [${shape.join(', ')}]`);
    return this.#inner.tune(view4d(shape), options);
  }
}
