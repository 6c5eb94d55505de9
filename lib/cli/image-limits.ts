// Decoded-size limits, checked on the file's own headers before a decoder
// allocates anything. A few hundred bytes of PNG or JPEG can declare an image
// of gigabytes (zlib inflates up to 1032:1, a JPEG frame header is 20 bytes),
// and the decoders allocate from the header: pngjs inflates an interlaced PNG
// with no output limit at all, jpeg-js allocates every DCT block of the frame
// before it reads the first scan. So each file is checked here, in this order:
//  1. the frame size in the header (PNG IHDR, JPEG SOFn) against --max-pixels;
//  2. the file holds enough compressed data for that size (a bomb that claims
//     a large frame over a few bytes is refused without inflating it);
//  3. an interlaced PNG's data inflates to exactly the size that IHDR implies
//     (inflated here with that size as the limit; pngjs would not stop).
import * as zlib from 'node:zlib';

/**
 * --max-pixels default. A file in flight peaks at 40 to 80 bytes per pixel (decoded RGBA,
 * float planes in and out, the encoder; measured with box:1 on a PNG and sobel on a JPEG),
 * so this default bounds one file at about 4 GB; README says so.
 */
export const DEFAULT_MAX_PIXELS = 50_000_000;

/** Deflate's largest compression ratio: a 258-byte match coded in 2 bits. */
const DEFLATE_MAX_RATIO = 1032;

/** jpeg-js's own accounting of what it allocates per pixel (DCT blocks, component lines, RGBA out), with room for MCU rounding. */
const JPEG_BYTES_PER_PIXEL = 32;

function refuseFrame(kind: string, width: number, height: number, maxPixels: number): void {
  if (width < 1 || height < 1) throw new Error(`${kind} header says the image is ${width} x ${height} pixels`);
  if (width * height > maxPixels)
    throw new Error(`image is ${width} x ${height} = ${width * height} pixels, more than --max-pixels ${maxPixels} ` +
      '(raise --max-pixels to decode it)');
}

// ---- PNG ----

export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlaced: boolean;
}

/** Samples per pixel by PNG colour type (gray, RGB, palette, gray+alpha, RGBA). */
const PNG_SAMPLES: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const PNG_DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

/** Adam7's seven passes: [x0, y0, dx, dy]. */
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];

/**
 * IHDR, which PNG requires to be the first chunk, 13 bytes long. Anything else is refused
 * here: pngjs would read a longer IHDR's dimensions all the same, past this check.
 */
export function readPngHeader(bytes: Uint8Array): PngHeader {
  const fail = (why: string): never => {
    throw new Error(`invalid or truncated PNG (${why})`);
  };
  if (bytes.length < 33) fail(`${bytes.length} bytes, too short for a PNG header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = String.fromCharCode(...bytes.subarray(12, 16));
  if (type !== 'IHDR') fail(`the first chunk is '${type}', not IHDR`);
  if (view.getUint32(8) !== 13) fail(`the IHDR chunk is ${view.getUint32(8)} bytes long, not 13`);
  const h: PngHeader = {
    width: view.getUint32(16), height: view.getUint32(20), bitDepth: bytes[24], colorType: bytes[25], interlaced: bytes[28] === 1,
  };
  if (!PNG_DEPTHS[h.colorType]?.includes(h.bitDepth)) fail(`colour type ${h.colorType} with bit depth ${h.bitDepth}`);
  if (bytes[28] > 1) fail(`interlace method ${bytes[28]}`);
  return h;
}

/** Bytes of filtered scanlines (one filter byte per row) the image data must inflate to; Adam7-aware. */
export function pngImageDataBytes(h: PngHeader): number {
  const bitsPerPixel = PNG_SAMPLES[h.colorType] * h.bitDepth;
  const rows = (w: number, rowCount: number) => (w > 0 && rowCount > 0 ? rowCount * (1 + Math.ceil((w * bitsPerPixel) / 8)) : 0);
  if (!h.interlaced) return rows(h.width, h.height);
  let total = 0;
  for (const [x0, y0, dx, dy] of ADAM7) total += rows(Math.ceil((h.width - x0) / dx), Math.ceil((h.height - y0) / dy));
  return total;
}

/** The IDAT payloads, in order (chunk walk stops at IEND or where the structure breaks: pngjs reports that). */
function pngIdatChunks(bytes: Uint8Array): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: Uint8Array[] = [];
  for (let p = 8; p + 12 <= bytes.length;) {
    const length = view.getUint32(p);
    const type = String.fromCharCode(...bytes.subarray(p + 4, p + 8));
    if (p + 12 + length > bytes.length) break;
    if (type === 'IDAT') chunks.push(bytes.subarray(p + 8, p + 8 + length));
    if (type === 'IEND') break;
    p += 12 + length;
  }
  return chunks;
}

export function checkPng(bytes: Uint8Array, maxPixels: number): void {
  const h = readPngHeader(bytes);
  refuseFrame('PNG', h.width, h.height, maxPixels);
  const need = pngImageDataBytes(h);
  const idat = pngIdatChunks(bytes);
  const compressed = idat.reduce((n, c) => n + c.length, 0);
  if (compressed * DEFLATE_MAX_RATIO < need)
    throw new Error(`invalid or truncated PNG (a ${h.width} x ${h.height} image needs ${need} bytes of image data, ` +
      `but its ${compressed} compressed bytes inflate to at most ${compressed * DEFLATE_MAX_RATIO})`);
  if (!h.interlaced) return; // pngjs inflates these with the same limit
  try {
    zlib.inflateSync(Buffer.concat(idat), { maxOutputLength: need });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE')
      throw new Error(`PNG image data inflates to more than the ${need} bytes a ${h.width} x ${h.height} ` +
        `interlaced image needs (a decompression bomb?)`);
    throw new Error(`invalid or truncated PNG (${e.message})`);
  }
}

// ---- JPEG ----

export interface JpegFrame { width: number; height: number; components: number; marker: number }

/** SOFn markers: C0-CF except DHT (C4), JPG (C8) and DAC (CC). */
const isSof = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

/**
 * The frame header: the SOFn segment before the first scan (where the JPEG standard puts
 * it), or null when there is none. Bytes between segments are skipped, as jpeg-js
 * tolerates some; jpeg-js also enforces the limit on any frame its own parser finds.
 */
export function readJpegFrame(bytes: Uint8Array): JpegFrame | null {
  for (let p = 2; p + 4 <= bytes.length;) {
    if (bytes[p] !== 0xff) { p++; continue; }
    const marker = bytes[p + 1];
    if (marker === 0xff) { p++; continue; } // fill byte
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) { p += 2; continue; } // no length
    if (marker === 0xd9 || marker === 0xda) return null; // EOI or SOS before any frame header
    const length = (bytes[p + 2] << 8) | bytes[p + 3];
    if (isSof(marker)) {
      if (length < 8 || p + 10 > bytes.length) return null;
      return { height: (bytes[p + 5] << 8) | bytes[p + 6], width: (bytes[p + 7] << 8) | bytes[p + 8], components: bytes[p + 9], marker };
    }
    p += 2 + length;
  }
  return null;
}

/** Options for jpeg-js that enforce the same limit on anything its own parser finds. */
export function jpegDecodeLimits(maxPixels: number): { maxResolutionInMP: number; maxMemoryUsageInMB: number } {
  return { maxResolutionInMP: maxPixels / 1e6, maxMemoryUsageInMB: Math.ceil((maxPixels * JPEG_BYTES_PER_PIXEL) / 2 ** 20) + 16 };
}

export function checkJpeg(bytes: Uint8Array, maxPixels: number): void {
  const f = readJpegFrame(bytes);
  if (!f) throw new Error('invalid or truncated JPEG (no frame header (SOFn) before the first scan)');
  if (f.height === 0) throw new Error('JPEG with the height given after the first scan (DNL marker) is not supported');
  refuseFrame('JPEG', f.width, f.height, maxPixels);
  if (f.components < 1 || f.components > 4) throw new Error(`JPEG with ${f.components} components is not supported (1 to 4)`);
  // Huffman-coded DCT frames (SOF0-2, the ones jpeg-js decodes; it refuses the others at their
  // marker): every 8x8 block of the largest component codes its DC difference (>= 1 bit) in some scan.
  if (f.marker > 0xc2) return;
  const blocks = Math.ceil(f.width / 8) * Math.ceil(f.height / 8);
  if (bytes.length * 8 < blocks)
    throw new Error(`invalid or truncated JPEG (a ${f.width} x ${f.height} image has ${blocks} blocks of 8x8 pixels, ` +
      `which need at least ${Math.ceil(blocks / 8)} bytes; the file has ${bytes.length})`);
}
