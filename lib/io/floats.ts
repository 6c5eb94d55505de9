// Little-endian float formats -> float32. float16, bfloat16 and the float8
// formats convert exactly (every value, subnormals, infinities and NaNs
// included, is a float32); float64 rounds to nearest-even, as torch's .float().
import { aligned, littleEndianHost } from './source';

let f16Table: Uint32Array | null = null;

/** IEEE half bits -> float32 bits (exact). */
function halfToFloatBits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0; // inf / NaN (payload kept)
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
  if (mant === 0) return sign >>> 0; // +-0
  // Subnormal: value = mant * 2^-24; normalise the mantissa.
  let e = 113; // float32 biased exponent of 2^-14
  while ((mant & 0x400) === 0) {
    mant <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
}

function halfTable(): Uint32Array {
  if (!f16Table) {
    f16Table = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = halfToFloatBits(h);
  }
  return f16Table;
}

function u16(bytes: Uint8Array, n: number): Uint16Array {
  if (littleEndianHost) return new Uint16Array(aligned(bytes), 0, n);
  const out = new Uint16Array(n);
  for (let i = 0; i < n; i++) out[i] = bytes[2 * i] | (bytes[2 * i + 1] << 8);
  return out;
}

export function float16ToFloat32(bytes: Uint8Array, n: number): Float32Array {
  const src = u16(bytes, n), table = halfTable();
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = table[src[i]];
  return new Float32Array(out.buffer);
}

export function bfloat16ToFloat32(bytes: Uint8Array, n: number): Float32Array {
  const src = u16(bytes, n);
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = src[i] << 16;
  return new Float32Array(out.buffer);
}

export function float32LE(bytes: Uint8Array, n: number): Float32Array {
  if (littleEndianHost) return new Float32Array(aligned(bytes), 0, n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}

export function float32BE(bytes: Uint8Array, n: number): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, false);
  return out;
}

export function float64ToFloat32(bytes: Uint8Array, n: number): Float32Array {
  const out = new Float32Array(n);
  if (littleEndianHost) {
    out.set(new Float64Array(aligned(bytes), 0, n)); // rounds to nearest-even
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, true);
  }
  return out;
}

/** float8 e5m2: the top byte of a float16. */
export function float8e5m2ToFloat32(bytes: Uint8Array, n: number): Float32Array {
  const table = halfTable();
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = table[bytes[i] << 8];
  return new Float32Array(out.buffer);
}

/** float8 e4m3fn (bias 7, no infinities, S.1111.111 is NaN). */
export function float8e4m3ToFloat32(bytes: Uint8Array, n: number): Float32Array {
  const table = new Float32Array(256);
  for (let b = 0; b < 256; b++) {
    const sign = b & 0x80 ? -1 : 1, exp = (b >> 3) & 0xf, mant = b & 7;
    if (exp === 0xf && mant === 7) table[b] = NaN;
    else if (exp === 0) table[b] = sign * mant * 2 ** -9;
    else table[b] = sign * (1 + mant / 8) * 2 ** (exp - 7);
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = table[bytes[i]];
  return out;
}
