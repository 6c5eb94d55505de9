// torch.nn.ConvTranspose2d on the native transposed algorithms (GEMM + col2im,
// or a gather where the GEMM would not pay; the plan picks per input shape; no
// zero-stuffed input). The output padding is part of the native layer's
// geometry and a call's outputSize may imply another one (torch's
// _output_padding), so the layer keeps one native layer per output padding
// it has run with (at most stride_h x stride_w of them), built from the
// current weights when first needed.
import { Tensor } from './tensor';
import { Pair, checkOptions, checkShape, describeValue } from './args';
import { TransposeGeometry, makeTransposeGeometry, nativeTransposeParams, transposeCall,
  transposeWeightShape } from './geometryTranspose';
import { inputDims } from './geometry';
import { uniformInit } from './init';
import { convRepr } from './repr';
import { runSync, runAsync } from './run';
import { native, NativeLayer, ConvPlan } from './native';
import { Device, Dtype, checkDeviceDtype } from './device';
import { asTensor } from './tensors';
import { checkBiasShape, checkWeightShape } from './params';
import { StateDict, requiredEntry, stateEntry, statePrefix } from './statedict';
import { Activation, checkActivation, nativeActivation, withActivationRepr } from './activation';

export interface ConvTranspose2dOptions {
  stride?: Pair;
  padding?: Pair;
  outputPadding?: Pair;
  groups?: number;
  bias?: boolean;
  dilation?: Pair;
  paddingMode?: 'zeros';
  device?: Device;
  dtype?: Dtype;
  /** Fused into the convolution: y = activation(convTranspose(x) + bias + residual). */
  activation?: Activation | null;
}
const OPTIONS = ['stride', 'padding', 'outputPadding', 'groups', 'bias', 'dilation', 'paddingMode', 'device', 'dtype',
  'activation'];

/** `residual`: a Tensor of the output's shape, added before the activation. */
export interface ConvTranspose2dForwardOptions { out?: Tensor; outputSize?: readonly number[]; residual?: Tensor }
export interface ConvTranspose2dForwardAsyncOptions extends ConvTranspose2dForwardOptions { signal?: AbortSignal }

export class ConvTranspose2d {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly outputPadding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;
  readonly paddingMode: 'zeros' = 'zeros';
  /** The fused activation (null: none), in the form a constructor accepts back. */
  readonly activation: Activation | null;

  #g: TransposeGeometry;
  #weight: Tensor;
  #bias: Tensor | null;
  #natives = new Map<string, NativeLayer>();

  constructor(inChannels: number, outChannels: number, kernelSize: Pair, options?: ConvTranspose2dOptions) {
    const o = checkOptions<ConvTranspose2dOptions>(options, OPTIONS, 'ConvTranspose2d');
    if (o.bias !== undefined && typeof o.bias !== 'boolean')
      throw new TypeError(`ConvTranspose2d: bias must be a boolean, got ${describeValue(o.bias)}`);
    checkDeviceDtype(o, 'ConvTranspose2d');
    const g = makeTransposeGeometry('ConvTranspose2d', inChannels, outChannels, kernelSize, o);
    this.activation = checkActivation(o.activation, 'ConvTranspose2d');
    this.#g = g;
    this.inChannels = g.inChannels;
    this.outChannels = g.outChannels;
    this.kernelSize = [...g.kernel];
    this.stride = [...g.stride];
    this.padding = [...g.padding];
    this.outputPadding = [...g.outputPadding];
    this.dilation = [...g.dilation];
    this.groups = g.groups;
    // PyTorch's fan_in comes from weight dimension 1: outChannels/groups x kH x kW.
    const fanIn = (g.outChannels / g.groups) * g.kernel[0] * g.kernel[1];
    const bias = o.bias === false ? null : new Tensor(uniformInit(g.outChannels, fanIn), [g.outChannels]);
    this.#weight = new Tensor(new Float32Array(0), [0]); // set just below
    this.#bias = null;
    this.setParameters(new Tensor(uniformInit(g.inChannels * fanIn, fanIn), transposeWeightShape(g)), bias);
  }

  /**
   * The weights, [inChannels, outChannels / groups, kH, kW]. They are copied
   * for the kernels when set: after editing `weight.data` in place, assign it
   * again (`conv.weight = conv.weight`).
   */
  get weight(): Tensor {
    return this.#weight;
  }
  set weight(t: Tensor) {
    this.setParameters(checkWeightShape(t, transposeWeightShape(this.#g), 'ConvTranspose2d.weight'), this.#bias);
  }

  get bias(): Tensor | null {
    return this.#bias;
  }
  set bias(t: Tensor | null) {
    this.setParameters(this.#weight, checkBiasShape(t, this.#g.outChannels, 'ConvTranspose2d.bias'));
  }

  /** PyTorch's load_state_dict for this layer: `${prefix}weight` and, with bias, `${prefix}bias`. */
  loadStateDict(state: StateDict, options?: { prefix?: string }): void {
    const where = 'ConvTranspose2d.loadStateDict';
    const prefix = statePrefix(state, options, where);
    const wKey = `${prefix}weight`, bKey = `${prefix}bias`;
    const weight = checkWeightShape(requiredEntry(state, wKey, where), transposeWeightShape(this.#g),
      `${where}: '${wKey}'`);
    let bias: Tensor | null = null;
    if (this.#bias === null) {
      if (stateEntry(state, bKey, where) !== undefined)
        throw new Error(`${where}: unexpected key '${bKey}': this layer was built with bias: false`);
    } else {
      bias = checkBiasShape(requiredEntry(state, bKey, where, ' (this layer has a bias)'), this.#g.outChannels,
        `${where}: '${bKey}'`);
    }
    this.setParameters(weight, bias);
  }

  forward(input: Tensor, options?: ConvTranspose2dForwardOptions): Tensor {
    const where = 'ConvTranspose2d.forward';
    const o = checkOptions<ConvTranspose2dForwardOptions>(options, ['out', 'outputSize', 'residual'], where);
    const call = this.prepare(asTensor(input, `${where}: input`).shape, o.outputSize, where);
    return runSync(call.layer, () => call.shape, input, o.out, where, o.residual);
  }

  forwardAsync(input: Tensor, options?: ConvTranspose2dForwardAsyncOptions): Promise<Tensor> {
    const where = 'ConvTranspose2d.forwardAsync';
    try {
      const o = checkOptions<ConvTranspose2dForwardAsyncOptions>(options, ['out', 'outputSize', 'residual', 'signal'],
        where);
      const call = this.prepare(asTensor(input, `${where}: input`).shape, o.outputSize, where);
      return runAsync(call.layer, () => call.shape, input, o.out, o.signal, where, o.residual);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  toString(): string {
    const g = this.#g;
    return withActivationRepr(convRepr('ConvTranspose2d', { ...g, paddingMode: 'zeros' }, this.#bias !== null),
      this.activation);
  }

  /** Which native algorithm and ISA this layer runs (for diagnostics). */
  get backend(): { algorithm: string; isa: string } {
    const n = this.nativeFor([0, 0]);
    return { algorithm: n.algorithm, isa: n.isa };
  }

  /** How a call on an input of this shape ([N, C, H, W] or [C, H, W]) runs (as Conv2d.plan). */
  plan(inputShape: readonly number[], options?: { outputSize?: readonly number[] }): ConvPlan {
    const where = 'ConvTranspose2d.plan';
    const shape = checkShape(inputShape, `${where}: inputShape`);
    const o = checkOptions<{ outputSize: readonly number[] }>(options, ['outputSize'], where);
    const call = this.prepare(shape, o.outputSize, where);
    const d = inputDims(shape, where);
    if (d.n < 1) throw new RangeError(`${where}: the batch must be at least 1, got input of shape [${shape.join(', ')}]`);
    return call.layer.plan(d.n, d.h, d.w);
  }

  /** The call's output shape and the native layer for its output padding. */
  private prepare(shape: readonly number[], outputSize: unknown, where: string) {
    const c = transposeCall(this.#g, shape, where, outputSize);
    return { shape: c.shape, layer: this.nativeFor(c.outputPadding) };
  }

  private nativeFor(op: readonly number[]): NativeLayer {
    const key = `${op[0]},${op[1]}`;
    let n = this.#natives.get(key);
    if (n === undefined) {
      n = new native.Layer(this.params(op), this.#weight.data, this.#bias?.data ?? null);
      this.#natives.set(key, n);
    }
    return n;
  }

  private params(outputPadding: readonly number[]) {
    return { ...nativeTransposeParams(this.#g, outputPadding), ...nativeActivation(this.activation) };
  }

  // The native layers copy the weights when built; a call in flight keeps the
  // layer it started with. Building one first means a failure changes nothing.
  private setParameters(weight: Tensor, bias: Tensor | null): void {
    const first = new native.Layer(this.params([0, 0]), weight.data, bias?.data ?? null);
    this.#natives = new Map([['0,0', first]]);
    this.#weight = weight;
    this.#bias = bias;
  }
}
