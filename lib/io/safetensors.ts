// Reads .safetensors files (what safetensors.torch.save_file writes, and what
// Hugging Face checkpoints are): an 8-byte little-endian header length, a
// JSON header {name: {dtype, shape, data_offsets}, __metadata__?}, then the
// tensors' bytes. Every field is checked against the file before anything
// large is allocated: a malformed file is an Error that names the problem.
import { Tensor } from '../tensor';
import { ByteSource, openSource } from './source';
import {
  bfloat16ToFloat32, float16ToFloat32, float32LE, float64ToFloat32, float8e4m3ToFloat32, float8e5m2ToFloat32,
} from './floats';
import { recordSkipped } from './skipped';

/** The largest header accepted (the reference implementation's limit). */
export const MAX_HEADER_BYTES = 100_000_000;

interface DtypeInfo {
  bits: number;
  torch: string; // the torch dtype name, for messages
  toFloat32?: (bytes: Uint8Array, n: number) => Float32Array;
}

/** Every dtype of the safetensors format; the ones with toFloat32 are loaded. */
const DTYPES: Record<string, DtypeInfo> = {
  F32: { bits: 32, torch: 'float32', toFloat32: float32LE },
  F16: { bits: 16, torch: 'float16', toFloat32: float16ToFloat32 },
  BF16: { bits: 16, torch: 'bfloat16', toFloat32: bfloat16ToFloat32 },
  F64: { bits: 64, torch: 'float64', toFloat32: float64ToFloat32 },
  F8_E5M2: { bits: 8, torch: 'float8_e5m2', toFloat32: float8e5m2ToFloat32 },
  F8_E4M3: { bits: 8, torch: 'float8_e4m3fn', toFloat32: float8e4m3ToFloat32 },
  F8_E8M0: { bits: 8, torch: 'float8_e8m0fnu' },
  F6_E2M3: { bits: 6, torch: 'float6_e2m3' },
  F6_E3M2: { bits: 6, torch: 'float6_e3m2' },
  F4: { bits: 4, torch: 'float4_e2m1' },
  BOOL: { bits: 8, torch: 'bool' },
  U8: { bits: 8, torch: 'uint8' },
  I8: { bits: 8, torch: 'int8' },
  I16: { bits: 16, torch: 'int16' },
  U16: { bits: 16, torch: 'uint16' },
  I32: { bits: 32, torch: 'int32' },
  U32: { bits: 32, torch: 'uint32' },
  I64: { bits: 64, torch: 'int64' },
  U64: { bits: 64, torch: 'uint64' },
  C64: { bits: 64, torch: 'complex64' },
};

interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

function isIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function parseHeader(src: ByteSource, fail: (msg: string) => never): { entries: Entry[]; dataStart: number } {
  if (src.size < 8)
    fail(`truncated: the file has ${src.size} bytes, but a safetensors file starts with an 8-byte header length`);
  const lenBytes = src.read(0, 8);
  const headerLen = new DataView(lenBytes.buffer, lenBytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLen > BigInt(MAX_HEADER_BYTES))
    fail(`header length ${headerLen} is larger than the ${MAX_HEADER_BYTES}-byte limit (not a safetensors file?)`);
  const n = Number(headerLen);
  if (8 + n > src.size)
    fail(`truncated: the header length is ${n} bytes but the file has only ${src.size - 8} bytes after it`);
  if (n < 2) fail(`header length ${n} is too small for a JSON header`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(src.read(8, n));
  } catch {
    fail('the header is not valid UTF-8 (not a safetensors file?)');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    fail(`the header is not valid JSON (${(err as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header))
    fail('the header must be a JSON object {name: {dtype, shape, data_offsets}}');

  const dataStart = 8 + n, dataSize = src.size - dataStart;
  const entries: Entry[] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (info === null || typeof info !== 'object' || Array.isArray(info))
        fail('__metadata__ must be an object of strings');
      continue;
    }
    const what = `tensor '${name}'`;
    if (info === null || typeof info !== 'object' || Array.isArray(info))
      fail(`${what}: expected {dtype, shape, data_offsets}, got ${JSON.stringify(info)?.slice(0, 80)}`);
    const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
    if (typeof dtype !== 'string') fail(`${what}: dtype must be a string, got ${JSON.stringify(dtype)}`);
    const dt = Object.hasOwn(DTYPES, dtype) ? DTYPES[dtype] : undefined;
    if (!dt) fail(`${what}: unknown dtype ${JSON.stringify(dtype)} (known: ${Object.keys(DTYPES).join(', ')})`);
    if (!Array.isArray(shape) || !shape.every(isIndex))
      fail(`${what}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)?.slice(0, 80)}`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex) || offsets[0] > offsets[1])
      fail(`${what}: data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(offsets)?.slice(0, 80)}`);
    const [begin, end] = offsets as [number, number];
    if (end > dataSize)
      fail(`${what}: data_offsets [${begin}, ${end}] are out of range: the data section has ${dataSize} bytes ` +
        '(truncated file?)');
    let numel = 1;
    for (const d of shape as number[]) numel *= d;
    const bits = numel * dt.bits;
    if (!Number.isSafeInteger(bits) || bits % 8 !== 0 || bits / 8 !== end - begin)
      fail(`${what}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes, but shape [${shape.join(', ')}] ` +
        `of ${dtype} needs ${Number.isSafeInteger(bits) ? bits / 8 : 'too many'} bytes`);
    entries.push({ name, dtype, shape: shape as number[], begin, end });
  }

  // The data section must be covered exactly, without overlaps or holes (the format's rule,
  // which also rules out files that are something else at the same time).
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0, prev: Entry | undefined;
  for (const e of sorted) {
    if (e.begin < pos)
      fail(`tensors '${prev!.name}' [${prev!.begin}, ${prev!.end}] and '${e.name}' [${e.begin}, ${e.end}] overlap`);
    if (e.begin > pos) fail(`bytes [${pos}, ${e.begin}) of the data section belong to no tensor`);
    pos = e.end;
    prev = e;
  }
  if (pos !== dataSize)
    fail(`the data section has ${dataSize} bytes but the tensors end at byte ${pos}` +
      (pos < dataSize ? ' (trailing bytes)' : ''));
  return { entries, dataStart };
}

/**
 * Loads the floating-point tensors of a .safetensors file (a path or the file's bytes) as
 * float32 Tensors keyed by name. F32, F16, BF16 and F8 convert exactly; F64 rounds to the
 * nearest float32 (as `tensor.float()`). Tensors of other dtypes (int64 `num_batches_tracked`,
 * bool masks, ...) are left out of the result; `Conv2d.loadStateDict` names them if asked for.
 */
export function loadSafetensors(source: string | Uint8Array): Record<string, Tensor> {
  const src = openSource(source, 'loadSafetensors');
  const fail: (msg: string) => never = (msg) => {
    throw new Error(`loadSafetensors: ${src.name === 'bytes' ? '' : `${src.name}: `}${msg}`);
  };
  try {
    const { entries, dataStart } = parseHeader(src, fail);
    const out: Record<string, Tensor> = {};
    const skipped = new Map<string, string>();
    for (const e of entries) {
      const dt = DTYPES[e.dtype];
      if (!dt.toFloat32) {
        skipped.set(e.name, dt.torch);
        continue;
      }
      const numel = (e.end - e.begin) * 8 / dt.bits;
      const data = dt.toFloat32(src.read(dataStart + e.begin, e.end - e.begin), numel);
      let t: Tensor;
      try {
        t = new Tensor(data, e.shape);
      } catch (err) {
        fail(`tensor '${e.name}': ${(err as Error).message}`);
      }
      // defineProperty: a tensor named "__proto__" stays a plain key.
      Object.defineProperty(out, e.name, { value: t, enumerable: true, writable: true, configurable: true });
    }
    recordSkipped(out, skipped);
    return out;
  } finally {
    src.close();
  }
}
