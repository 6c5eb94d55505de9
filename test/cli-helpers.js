// Shared by the CLI suites: the built `simdconv` command run as users run it
// (node dist/cli.js in a child process), optionally reporting its peak memory,
// and hand-made PNG/JPEG bytes for hostile-input tests.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const { spawnSync } = require('node:child_process');

const ROOT = path.join(__dirname, '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');

/**
 * Runs `simdconv ...args`; `input` is its stdin; `timeout` (ms) kills it. With `peakMemory`, the child writes its peak
 * resident set (getrusage maxrss) at exit, returned as `peakMiB`.
 */
function runCli(args, { cwd, env, input, timeout, peakMemory = false } = {}) {
  let rssFile = null;
  const pre = [];
  if (peakMemory) {
    rssFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'simdconv-rss-')), 'rss');
    pre.push('--require', path.join(__dirname, 'report-peak-rss.js'));
  }
  const r = spawnSync(process.execPath, [...pre, CLI, ...args], {
    encoding: 'utf8', cwd, input, timeout, env: { ...process.env, ...env, ...(rssFile ? { SIMDCONV_TEST_RSS_FILE: rssFile } : {}) },
  });
  const result = { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, out: r.stdout + r.stderr };
  if (rssFile) {
    result.peakMiB = fs.existsSync(rssFile) ? Number(fs.readFileSync(rssFile, 'utf8')) / 1024 : NaN; // NaN: killed
    fs.rmSync(path.dirname(rssFile), { recursive: true, force: true });
  }
  return result;
}

// ---- PNG by hand: any IHDR, any IDAT payload, interlaced or not ----

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A PNG file: IHDR from `ihdr` (`ihdrBytes` long), optional PLTE, `zdata` (zlib stream) as one IDAT, IEND. */
function makePng({ width, height, bitDepth = 8, colorType = 0, interlace = 0, palette = null, ihdrBytes = 13 }, zdata) {
  const ihdr = Buffer.alloc(ihdrBytes);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([bitDepth, colorType, 0, 0, interlace], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    ...(palette ? [pngChunk('PLTE', Buffer.from(palette))] : []),
    pngChunk('IDAT', zdata),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * A zlib stream that inflates to `size` zero bytes, in about size / 1000 bytes, made without
 * compressing `size` bytes: one sync-flushed deflate block of 1 MiB of zeros, repeated (its
 * back-references read only zeros, so each copy decodes the same after any other), a final
 * empty block, and the Adler-32 of `size` zeros (a = 1, b = size mod 65521).
 */
function zerosZlib(size) {
  const MiB = 2 ** 20;
  if (size % MiB !== 0) throw new Error('zerosZlib: size must be a multiple of 1 MiB');
  const block = zlib.deflateRawSync(Buffer.alloc(MiB), { finishFlush: zlib.constants.Z_SYNC_FLUSH, level: 9 });
  const adler = Buffer.alloc(4);
  adler.writeUInt32BE((((size % 65521) << 16) | 1) >>> 0, 0);
  return Buffer.concat([Buffer.from([0x78, 0xda]), ...Array(size / MiB).fill(block), Buffer.from([0x03, 0x00]), adler]);
}

/** Adam7 passes [x0, y0, dx, dy], written out here independently of lib/cli/image-limits.ts. */
const PASSES = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];

/** The filtered scanlines (filter byte 0, every sample byte `value`) of an image, interlaced or not. */
function scanlines({ width, height, interlace }, bitsPerPixel, value) {
  const passes = interlace ? PASSES : [[0, 0, 1, 1]];
  const rows = [];
  for (const [x0, y0, dx, dy] of passes) {
    const pw = x0 < width ? Math.floor((width - x0 + dx - 1) / dx) : 0;
    const ph = y0 < height ? Math.floor((height - y0 + dy - 1) / dy) : 0;
    if (pw === 0) continue;
    for (let y = 0; y < ph; y++) rows.push(Buffer.from([0]), Buffer.alloc(Math.ceil((pw * bitsPerPixel) / 8), value));
  }
  return Buffer.concat(rows);
}

// ---- JPEG: a real small one with its frame header (SOF0) rewritten ----

/** A baseline JPEG of 16x16 pixels whose SOF0 says `width` x `height` with `components` (the scan data stays 16x16's). */
function jpegWithFrame(width, height, components) {
  const jpeg = require('jpeg-js');
  const bytes = Buffer.from(jpeg.encode({ data: Buffer.alloc(16 * 16 * 4, 128), width: 16, height: 16 }, 50).data);
  for (let p = 2; p < bytes.length; p += 2 + bytes.readUInt16BE(p + 2)) {
    if (bytes[p + 1] !== 0xc0) continue;
    bytes.writeUInt16BE(height, p + 5);
    bytes.writeUInt16BE(width, p + 7);
    if (components !== undefined) bytes[p + 9] = components;
    return bytes;
  }
  throw new Error('jpegWithFrame: no SOF0 in the encoded JPEG');
}

module.exports = { ROOT, CLI, runCli, makePng, zerosZlib, scanlines, jpegWithFrame };
