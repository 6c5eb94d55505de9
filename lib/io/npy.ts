// NumPy .npy files (format versions 1.0, 2.0 and 3.0): float32 arrays in C
// order, read and written exactly as numpy.save / numpy.load do.
import { Tensor } from '../tensor';
import { asTensor } from '../tensors';
import { readAll, littleEndianHost } from './source';
import { float32BE, float32LE } from './floats';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const MAX_HEADER_BYTES = 1 << 20;

type PyValue = string | number | boolean | null | PyValue[] | { [k: string]: PyValue };

/** Parses the Python literal subset numpy writes in .npy headers. */
function parsePyLiteral(text: string): PyValue {
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const err: (what: string) => never = (what) => {
    throw new Error(`${what} at character ${i} of ${JSON.stringify(text.trim().slice(0, 120))}`);
  };
  const value = (): PyValue => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: { [k: string]: PyValue } = {};
      for (;;) {
        ws();
        if (text[i] === '}') { i++; return obj; }
        const key = value();
        if (typeof key !== 'string') err('expected a string key');
        ws();
        if (text[i] !== ':') err("expected ':'");
        i++;
        Object.defineProperty(obj, key, { value: value(), enumerable: true, writable: true, configurable: true });
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== '}') err("expected ',' or '}'");
      }
    }
    if (c === '(' || c === '[') {
      const close = c === '(' ? ')' : ']';
      i++;
      const items: PyValue[] = [];
      for (;;) {
        ws();
        if (text[i] === close) { i++; return items; }
        items.push(value());
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== close) err(`expected ',' or '${close}'`);
      }
    }
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) err('unterminated string');
      const s = text.slice(i + 1, end);
      i = end + 1;
      return s;
    }
    const m = /^(True|False|None|-?\d+L?)/.exec(text.slice(i, i + 32));
    if (!m) err('unexpected token');
    const tok = m[0];
    i += tok.length;
    if (tok === 'True') return true;
    if (tok === 'False') return false;
    if (tok === 'None') return null;
    return Number(tok.replace('L', ''));
  };
  const v = value();
  ws();
  if (i !== text.length) err('unexpected text after the header dict');
  return v;
}

const KIND_NAMES: Record<string, string> = { f: 'float', i: 'int', u: 'uint', c: 'complex', b: 'bool' };

/** numpy's name for a descr such as '<f8' -> "float64". */
function dtypeName(descr: string): string {
  const m = /^[<>|=]?([a-zA-Z])(\d+)$/.exec(descr);
  if (!m) return JSON.stringify(descr);
  const [, kind, size] = m;
  if (kind === 'b' && size === '1') return 'bool';
  if (kind === 'f' && Number(size) > 8) return 'longdouble';
  if (KIND_NAMES[kind]) return `${KIND_NAMES[kind]}${Number(size) * 8}`;
  return descr;
}

/** Reads a .npy file (a path or its bytes) holding a float32 array in C order. */
export function loadNpy(source: string | Uint8Array): Tensor {
  const { bytes, name } = readAll(source, 'loadNpy');
  const fail: (msg: string) => never = (msg) => {
    throw new Error(`loadNpy: ${name === 'bytes' ? '' : `${name}: `}${msg}`);
  };
  if (bytes.length < 10 || !MAGIC.every((b, k) => bytes[k] === b))
    fail(`not a .npy file (it does not start with the "\\x93NUMPY" magic; ${bytes.length} bytes)`);
  const major = bytes[6], minor = bytes[7];
  if (![1, 2, 3].includes(major) || minor !== 0) fail(`unsupported .npy format version ${major}.${minor}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenSize = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenSize) fail('truncated: the file ends inside the header length');
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = 8 + lenSize + headerLen;
  if (headerLen > MAX_HEADER_BYTES) fail(`header length ${headerLen} is larger than the ${MAX_HEADER_BYTES}-byte limit`);
  if (dataStart > bytes.length)
    fail(`truncated: the header length is ${headerLen} bytes but only ${bytes.length - 8 - lenSize} bytes follow`);
  const headerBytes = bytes.subarray(8 + lenSize, dataStart);
  let text: string;
  try {
    text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1', { fatal: true }).decode(headerBytes);
  } catch {
    fail('the header is not valid UTF-8');
  }
  let header: PyValue;
  try {
    header = parsePyLiteral(text);
  } catch (err) {
    fail(`malformed header: ${(err as Error).message}`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header))
    fail('malformed header: expected a dict');
  const h = header as { [k: string]: PyValue };
  for (const key of ['descr', 'fortran_order', 'shape'])
    if (!Object.hasOwn(h, key)) fail(`malformed header: no '${key}' key`);
  const { descr, fortran_order: fortran, shape } = h;
  if (typeof descr !== 'string')
    fail(`structured dtype ${JSON.stringify(descr).slice(0, 80)} is not supported; only float32 ('<f4')`);
  if (!['<f4', '>f4', '=f4'].includes(descr as string))
    fail(`dtype ${dtypeName(descr as string)} ('${descr}') is not supported; only float32 ('<f4'). ` +
      'Convert with arr.astype(np.float32) before saving');
  if (typeof fortran !== 'boolean') fail(`malformed header: fortran_order must be True or False`);
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0))
    fail(`malformed header: shape must be a tuple of non-negative integers, got ${JSON.stringify(shape)}`);
  const dims = shape as number[];
  // Fortran order differs from C order only with two or more dimensions above 1.
  if (fortran && dims.filter((d) => d > 1).length > 1)
    fail(`the array is in Fortran order (fortran_order: True, shape (${dims.join(', ')})); ` +
      'save a C-ordered array: np.save(path, np.ascontiguousarray(arr))');
  let numel = 1;
  for (const d of dims) numel *= d;
  const want = numel * 4, have = bytes.length - dataStart;
  if (!Number.isSafeInteger(want) || want !== have)
    fail(`shape (${dims.join(', ')}) of float32 needs ${want} bytes of data but the file has ${have}` +
      (have < want ? ' (truncated?)' : ''));
  const body = bytes.subarray(dataStart);
  const big = descr === '>f4' || (descr === '=f4' && !littleEndianHost);
  const data = big ? float32BE(body, numel) : float32LE(body, numel);
  return new Tensor(data, dims);
}

/** The bytes of a .npy file (format 1.0, or 2.0 for a huge header) that numpy.load and torch read. */
export function saveNpy(tensor: Tensor): Uint8Array {
  const t = asTensor(tensor, 'saveNpy: tensor');
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  // numpy's own layout, byte for byte: sorted keys, room to grow the first axis, 64-byte alignment.
  let dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  if (t.shape.length > 0) dict += ' '.repeat(21 - String(t.shape[0]).length);
  const hlen = dict.length + 1;
  let major = 1, lenSize = 2;
  let pad = 64 - ((8 + lenSize + hlen) % 64);
  if (hlen + pad > 0xffff) {
    major = 2;
    lenSize = 4;
    pad = 64 - ((8 + lenSize + hlen) % 64);
  }
  const headerLen = hlen + pad;
  const out = new Uint8Array(8 + lenSize + headerLen + t.data.length * 4);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, headerLen, true);
  else view.setUint32(8, headerLen, true);
  let p = 8 + lenSize;
  for (let k = 0; k < dict.length; k++) out[p++] = dict.charCodeAt(k);
  out.fill(0x20, p, p + pad);
  p += pad;
  out[p++] = 0x0a;
  if (littleEndianHost) out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), p);
  else for (let k = 0; k < t.data.length; k++) view.setFloat32(p + 4 * k, t.data[k], true);
  return out;
}
