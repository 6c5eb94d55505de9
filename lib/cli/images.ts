// PNG (pngjs) and JPEG (jpeg-js) to planar float channels and back, in the
// image's own format. Pixel values stay in 0..255.
import { PNG } from 'pngjs';
import * as jpeg from 'jpeg-js';
import { DEFAULT_MAX_PIXELS, checkJpeg, checkPng, jpegDecodeLimits } from './image-limits';

export type ImageFormat = 'png' | 'jpeg';

export interface Image {
  format: ImageFormat;
  width: number;
  height: number;
  /** Channels filtered: 1 (grayscale PNG) or 3 (RGB), planar [C, H, W] in 0..255. */
  channels: number;
  planes: Float32Array;
  /** The alpha channel (kept as it is), or null. */
  alpha: Uint8Array | null;
  /** PNG colour type to write back (0 gray, 2 RGB, 4 gray+alpha, 6 RGBA). */
  pngColorType: 0 | 2 | 4 | 6;
}

export function detectFormat(bytes: Uint8Array): ImageFormat | null {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return null;
}

/** Decodes a PNG or JPEG; one whose headers declare more than `maxPixels` is refused before decoding (see image-limits). */
export function decodeImage(bytes: Buffer, maxPixels = DEFAULT_MAX_PIXELS): Image {
  const format = detectFormat(bytes);
  if (!format) throw new Error('not a PNG or JPEG file');
  let width: number, height: number, rgba: Uint8Array;
  let pngColorType: Image['pngColorType'] = 6;
  if (format === 'png') {
    checkPng(bytes, maxPixels);
    let png: ReturnType<typeof PNG.sync.read>;
    try {
      png = PNG.sync.read(bytes);
    } catch (err) {
      throw new Error(`invalid or truncated PNG (${(err as Error).message})`);
    }
    ({ width, height } = png);
    rgba = png.data;
    const gray = png.colorType === 0 || png.colorType === 4;
    pngColorType = gray ? (png.alpha ? 4 : 0) : png.alpha ? 6 : 2;
  } else {
    checkJpeg(bytes, maxPixels);
    let img: { width: number; height: number; data: Uint8Array };
    try {
      img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, ...jpegDecodeLimits(maxPixels) });
    } catch (err) {
      throw new Error(`invalid or truncated JPEG (${(err as Error).message})`);
    }
    ({ width, height } = img);
    rgba = img.data;
    pngColorType = 2;
  }
  const channels = pngColorType === 0 || pngColorType === 4 ? 1 : 3;
  const n = width * height;
  const planes = new Float32Array(channels * n);
  for (let c = 0; c < channels; c++) for (let i = 0; i < n; i++) planes[c * n + i] = rgba[4 * i + c];
  let alpha: Uint8Array | null = null;
  if (pngColorType === 4 || pngColorType === 6) {
    alpha = new Uint8Array(n);
    for (let i = 0; i < n; i++) alpha[i] = rgba[4 * i + 3];
  }
  return { format, width, height, channels, planes, alpha, pngColorType };
}

/** Rounds and clamps the planes to 0..255 and encodes in the image's format. */
export function encodeImage(img: Image, planes: Float32Array, jpegQuality: number): Buffer {
  const n = img.width * img.height;
  const rgba = Buffer.alloc(4 * n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      const v = planes[(img.channels === 1 ? 0 : c) * n + i];
      rgba[4 * i + c] = v > 255 ? 255 : v > 0 ? Math.round(v) : 0; // NaN -> 0
    }
    rgba[4 * i + 3] = img.alpha ? img.alpha[i] : 255;
  }
  if (img.format === 'jpeg') return jpeg.encode({ data: rgba, width: img.width, height: img.height }, jpegQuality).data;
  const png = new PNG({ width: img.width, height: img.height });
  png.data = rgba;
  return PNG.sync.write(png, { colorType: img.pngColorType, inputColorType: 6, inputHasAlpha: true, bitDepth: 8 });
}
