// A float32 NCHW tensor: a Float32Array plus its shape, as PyTorch lays it out.
import { describeValue, checkShape } from './args';

export class Tensor {
  readonly data: Float32Array;
  readonly shape: number[];

  constructor(data: Float32Array, shape: readonly number[]) {
    if (!(data instanceof Float32Array))
      throw new TypeError(`Tensor: data must be a Float32Array, got ${describeValue(data)}`);
    const dims = checkShape(shape, 'Tensor: shape');
    const size = dims.reduce((a, b) => a * b, 1);
    if (size !== data.length)
      throw new RangeError(
        `Tensor: data has ${data.length} elements but shape [${dims.join(', ')}] needs ${size}`);
    this.data = data;
    this.shape = dims;
  }

  static zeros(shape: readonly number[]): Tensor {
    const dims = checkShape(shape, 'Tensor.zeros: shape');
    return new Tensor(new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);
  }

  /** Number of elements. */
  get size(): number {
    return this.data.length;
  }

  toString(): string {
    return `Tensor(shape=[${this.shape.join(', ')}])`;
  }
}
