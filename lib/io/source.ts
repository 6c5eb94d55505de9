// A file given as a path or as its bytes, read by ranges: a path is read
// through a file descriptor, so only the parts asked for are read (a
// multi-GB checkpoint is never loaded whole just to read its header).
import * as fs from 'node:fs';
import { describeValue } from '../args';

export interface ByteSource {
  readonly size: number;
  /** A name for error messages: the path, or "bytes". */
  readonly name: string;
  /** Exactly `length` bytes at `offset`, which the caller has checked to lie within the file. */
  read(offset: number, length: number): Uint8Array;
  close(): void;
}

const CHUNK = 1 << 30; // fs.readSync reads at most 2 GB at a time

class FileSource implements ByteSource {
  readonly size: number;
  constructor(readonly name: string, private fd: number) {
    this.size = fs.fstatSync(fd).size;
  }
  read(offset: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = fs.readSync(this.fd, out, done, Math.min(CHUNK, length - done), offset + done);
      if (n === 0) throw new Error(`${this.name}: unexpected end of file at byte ${offset + done} (was it truncated while being read?)`);
      done += n;
    }
    return out;
  }
  close(): void {
    fs.closeSync(this.fd);
  }
}

class BytesSource implements ByteSource {
  readonly name = 'bytes';
  readonly size: number;
  constructor(private bytes: Uint8Array) {
    this.size = bytes.length;
  }
  read(offset: number, length: number): Uint8Array {
    return this.bytes.subarray(offset, offset + length);
  }
  close(): void {}
}

/** Opens a path or wraps bytes; `where` prefixes the TypeError for anything else. */
export function openSource(source: unknown, where: string): ByteSource {
  if (typeof source === 'string') {
    let fd: number;
    try {
      fd = fs.openSync(source, 'r');
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new Error(`${where}: cannot open '${source}': ${e.code ?? ''} ${e.message}`.replace(/\s+/g, ' '), { cause: err });
    }
    try {
      if (!fs.fstatSync(fd).isFile()) throw new Error(`${where}: '${source}' is not a regular file`);
      return new FileSource(source, fd);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
  }
  if (source instanceof Uint8Array) return new BytesSource(source);
  throw new TypeError(`${where}: source must be a file path (string) or the file's bytes (Uint8Array), ` +
    `got ${describeValue(source)}`);
}

/** Reads the whole source (for small formats such as .npy). */
export function readAll(source: unknown, where: string): { bytes: Uint8Array; name: string } {
  const src = openSource(source, where);
  try {
    if (src.size > 2 ** 32) throw new RangeError(`${where}: ${src.name} is too large (${src.size} bytes)`);
    return { bytes: src.read(0, src.size), name: src.name };
  } finally {
    src.close();
  }
}

/** Copies bytes into a fresh, aligned buffer (typed-array views need aligned offsets). */
export function aligned(bytes: Uint8Array): ArrayBuffer {
  const buf = new ArrayBuffer(bytes.length);
  new Uint8Array(buf).set(bytes);
  return buf;
}

export const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
