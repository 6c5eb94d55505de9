// PyTorch's device= and dtype= constructor arguments. simdconv computes in
// float32 on the CPU, so only what means exactly that is accepted; anything
// else is an error rather than a silent float32 CPU layer.
import { describeValue } from './args';

export type Device = 'cpu' | null;
export type Dtype = 'float32' | null;

/** Throws unless device is undefined/null/'cpu' and dtype undefined/null/'float32'. */
export function checkDeviceDtype(o: { device?: unknown; dtype?: unknown }, where: string): void {
  const { device, dtype } = o;
  if (device !== undefined && device !== null && device !== 'cpu')
    throw new TypeError(`${where}: device ${typeof device === 'string' ? `'${device}'` : describeValue(device)} ` +
      "is not supported; simdconv runs on the CPU ('cpu' or null)");
  if (dtype !== undefined && dtype !== null && dtype !== 'float32')
    throw new TypeError(`${where}: dtype ${typeof dtype === 'string' ? `'${dtype}'` : describeValue(dtype)} ` +
      "is not supported; simdconv computes in float32 ('float32' or null)");
}
