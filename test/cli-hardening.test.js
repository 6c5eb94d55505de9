// The `simdconv` command against hostile inputs and paths: decompression
// bombs and huge frame headers (PNG, interlaced or not, 16-bit, palette;
// JPEG), outputs that are their own inputs through links, planted links at
// the temporary name, and filter kernels that would write a black image.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const { PNG } = require('pngjs');
const jpeg = require('jpeg-js');
const { simdconv } = require('./helpers');
const { ROOT, runCli, makePng, zerosZlib, scanlines, jpegWithFrame } = require('./cli-helpers');

const { Tensor, saveNpy, loadNpy } = simdconv;
const FIX = path.join(__dirname, 'fixtures', 'io');
const SAMPLE = path.join(ROOT, 'data', 'sample.png');
const MODEL = path.join(FIX, 'model_f32.safetensors');
const MiB = 2 ** 20;
// A bomb inflates to >= 256 MiB; the CLI with the addon loaded stays far below this.
const PEAK_LIMIT_MIB = 200;

let tmp;
beforeAll(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'simdconv-cli-hard-')); });
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const cli = (args, opts = {}) => runCli(args, { cwd: tmp, ...opts });
let seq = 0;
/** A new empty directory under the test's temp dir. */
const freshDir = (name) => {
  const d = path.join(tmp, `${name}-${seq++}`);
  fs.mkdirSync(d, { recursive: true });
  return d;
};
const write = (dir, name, bytes) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, bytes);
  return f;
};
const readPng = (file) => PNG.sync.read(fs.readFileSync(file));

describe('filter: decoded-size limits hold before any allocation', () => {
  // Sample bits per pixel for each PNG colour type at a bit depth.
  const bits = (colorType, bitDepth) => ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 })[colorType] * bitDepth;

  test.each([
    ['8-bit gray 1x1, 1 GiB of zeros', { width: 1, height: 1, bitDepth: 8, colorType: 0 }, 1024],
    ['16-bit RGBA 3x2, 256 MiB of zeros', { width: 3, height: 2, bitDepth: 16, colorType: 6 }, 256],
    ['1-bit palette 5x5, 256 MiB of zeros', { width: 5, height: 5, bitDepth: 1, colorType: 3, palette: [0, 0, 0, 255, 255, 255] }, 256],
  ])('an interlaced PNG bomb (%s in about 1 KB per MiB) is refused without inflating it',
    (_, ihdr, mib) => {
      const dir = freshDir('bomb');
      const header = { ...ihdr, interlace: 1 };
      const file = write(dir, 'bomb.png', makePng(header, zerosZlib(mib * MiB)));
      expect(fs.statSync(file).size).toBeLessThan(mib * 1100);
      const need = scanlines(header, bits(ihdr.colorType, ihdr.bitDepth), 0).length;
      const r = cli(['filter', '--kernel', 'box:1', file, '--out-dir', path.join(dir, 'out')], { peakMemory: true });
      expect(r.stderr).toMatch(new RegExp(`FAIL {2}.*bomb.png: PNG image data inflates to more than the ${need} bytes ` +
        `a ${ihdr.width} x ${ihdr.height} interlaced image needs`));
      expect(r.code).toBe(1);
      expect(r.peakMiB).toBeLessThan(PEAK_LIMIT_MIB);
    });

  test.each([
    ['8-bit gray 13x11', { width: 13, height: 11, bitDepth: 8, colorType: 0 }, (px) => px.every((v, i) => (i % 4 === 3 ? v === 255 : v === 77))],
    ['16-bit gray 9x7', { width: 9, height: 7, bitDepth: 16, colorType: 0 }, (px) => px.every((v, i) => (i % 4 === 3 ? v === 255 : v === 77))],
    ['16-bit RGBA 6x5', { width: 6, height: 5, bitDepth: 16, colorType: 6 }, (px) => px.every((v) => v === 77)],
    ['4-bit palette 10x3', { width: 10, height: 3, bitDepth: 4, colorType: 3, palette: [0, 0, 0, 10, 20, 30] },
      (px) => px.every((v, i) => v === [10, 20, 30, 255][i % 4])],
  ])('an interlaced PNG (%s) with exactly its Adam7 data decodes; one byte more is refused', (_, ihdr, pixelsOk) => {
    const dir = freshDir('adam7');
    const header = { ...ihdr, interlace: 1 };
    // Every sample byte 0x4d (77, or 0x4d4d = 77 * 257 in 16 bits); palette index 1 in every 4-bit nibble.
    const data = scanlines(header, bits(ihdr.colorType, ihdr.bitDepth), ihdr.colorType === 3 ? 0x11 : 0x4d);
    const good = write(dir, 'good.png', makePng(header, require('node:zlib').deflateSync(data)));
    const long = write(dir, 'long.png', makePng(header, require('node:zlib').deflateSync(Buffer.concat([data, Buffer.from([0x4d])]))));
    const out = path.join(dir, 'out');
    const r = cli(['filter', '--kernel', 'box:1', good, long, '--out-dir', out]);
    expect(r.stderr).toMatch(new RegExp(`FAIL {2}.*long.png: PNG image data inflates to more than the ${data.length} bytes`));
    expect(r.code).toBe(1);
    const png = readPng(path.join(out, 'good.png'));
    expect([png.width, png.height]).toEqual([ihdr.width, ihdr.height]);
    expect(pixelsOk(png.data)).toBe(true);
  });

  test('a PNG whose IHDR needs more data than its IDAT bytes can inflate to is refused before pngjs allocates the frame', () => {
    const dir = freshDir('short');
    const header = { width: 8000, height: 8000, bitDepth: 16, colorType: 6 }; // 512 MB of scanlines
    const file = write(dir, 'short.png', makePng(header, zerosZlib(MiB)));
    const r = cli(['filter', '--kernel', 'box:1', '--max-pixels', '100000000', file, '--out-dir', path.join(dir, 'out')]);
    expect(r.stderr).toMatch(/short.png: invalid or truncated PNG \(a 8000 x 8000 image needs 512008000 bytes of image data, but its \d+ compressed bytes inflate to at most \d+\)/);
    expect(r.code).toBe(1);
  });

  test.each([
    ['an IHDR of 14 bytes', { width: 9000, height: 9000, ihdrBytes: 14 }, /the IHDR chunk is 14 bytes long, not 13/],
    ['a bit depth PNG does not have', { width: 8, height: 8, bitDepth: 3 }, /colour type 0 with bit depth 3/],
    ['interlace method 2', { width: 8, height: 8, interlace: 2 }, /interlace method 2/],
  ])('a PNG with %s is refused from its header', (_, ihdr, message) => {
    const dir = freshDir('ihdr');
    const file = write(dir, 'x.png', makePng(ihdr, zerosZlib(MiB)));
    const r = cli(['filter', '--kernel', 'box:1', file, '--out-dir', path.join(dir, 'out')]);
    expect(r.stderr).toMatch(new RegExp(`x.png: invalid or truncated PNG \\(${message.source}\\)`));
    expect(r.code).toBe(1);
  });

  test('a PNG with huge IHDR dimensions (interlaced, a few bytes of data) is refused from its header', () => {
    const dir = freshDir('huge');
    const file = write(dir, 'huge.png', makePng({ width: 100000, height: 100000, interlace: 1 }, zerosZlib(MiB)));
    const r = cli(['filter', '--kernel', 'sobel', file, '--out-dir', path.join(dir, 'out')], { peakMemory: true });
    expect(r.stderr).toMatch(/huge.png: image is 100000 x 100000 = 10000000000 pixels, more than --max-pixels 50000000 \(raise --max-pixels to decode it\)/);
    expect(r.code).toBe(1);
    expect(r.peakMiB).toBeLessThan(PEAK_LIMIT_MIB);
  });

  test('a 600-byte JPEG whose SOF0 says 8000 x 6000 is refused before jpeg-js allocates the frame (1.4 GB)', () => {
    const dir = freshDir('jpeg');
    const file = write(dir, 'frame.jpg', jpegWithFrame(8000, 6000));
    expect(fs.statSync(file).size).toBeLessThan(2000);
    const r = cli(['filter', '--kernel', 'sobel', file, '--out-dir', path.join(dir, 'out')], { peakMemory: true });
    expect(r.stderr).toMatch(/frame.jpg: invalid or truncated JPEG \(a 8000 x 6000 image has 750000 blocks of 8x8 pixels, which need at least 93750 bytes; the file has \d+\)/);
    expect(r.code).toBe(1);
    expect(r.peakMiB).toBeLessThan(PEAK_LIMIT_MIB);
  });

  test.each([
    ['65535 x 65535', [65535, 65535], /image is 65535 x 65535 = 4294836225 pixels, more than --max-pixels 50000000/],
    ['a height given after the scan (DNL)', [16, 0], /JPEG with the height given after the first scan \(DNL marker\) is not supported/],
    ['5 components', [16, 16, 5], /JPEG with 5 components is not supported \(1 to 4\)/],
  ])('a JPEG frame header with %s is refused', (_, frame, message) => {
    const dir = freshDir('sof');
    const file = write(dir, 'x.jpg', jpegWithFrame(...frame));
    const r = cli(['filter', '--kernel', 'sobel', file, '--out-dir', path.join(dir, 'out')]);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(1);
  });

  test('--max-pixels: width x height up to the limit is decoded, one pixel more is refused (PNG and JPEG)', () => {
    const dir = freshDir('maxpx');
    const png = write(dir, 'a.png', fs.readFileSync(SAMPLE)); // 128 x 128
    const jpg = write(dir, 'b.jpg', jpeg.encode({ data: readPng(SAMPLE).data, width: 128, height: 128 }, 90).data);
    const at = cli(['filter', '--kernel', 'sobel', '--max-pixels', String(128 * 128), png, jpg, '--out-dir', path.join(dir, 'ok')]);
    expect(at.code).toBe(0);
    expect(fs.readdirSync(path.join(dir, 'ok')).sort()).toEqual(['a.png', 'b.jpg']);
    const below = cli(['filter', '--kernel', 'sobel', '--max-pixels', String(128 * 128 - 1), png, jpg, '--out-dir', path.join(dir, 'no')]);
    expect(below.stderr).toMatch(/a.png: image is 128 x 128 = 16384 pixels, more than --max-pixels 16383/);
    expect(below.stderr).toMatch(/b.jpg: image is 128 x 128 = 16384 pixels, more than --max-pixels 16383/);
    expect(below.code).toBe(1);
    expect(cli(['filter', '--kernel', 'sobel', '--max-pixels', '0', png, '--out-dir', path.join(dir, 'z')]).code).toBe(2);
  });
});

describe('an output that is a file the command reads is refused (exit 2), whatever path leads to it', () => {
  const npy = (dir, name) => write(dir, name, saveNpy(new Tensor(new Float32Array(3 * 5 * 5).fill(1), [1, 3, 5, 5])));
  const run = (args) => cli(['run', '--weights', MODEL, '--prefix', 'stem.', '--padding', '1', ...args]);

  test('run: --out-dir is a symbolic link to the inputs\' directory', () => {
    const dir = freshDir('symdir');
    const input = npy(dir, 'x.npy');
    const before = fs.readFileSync(input);
    const link = path.join(tmp, `link-${seq++}`);
    fs.symlinkSync(dir, link);
    const r = run([input, '--out-dir', link]);
    expect(r.stderr).toMatch(/input '.*x.npy' would be overwritten by the output '.*link-\d+\/x.npy': they are the same file/);
    expect(r.code).toBe(2);
    expect(fs.readFileSync(input)).toEqual(before);
  });

  test('run: an input given through a symlinked directory, --out-dir its real directory', () => {
    const dir = freshDir('symdir2');
    const input = npy(dir, 'x.npy');
    const link = path.join(tmp, `link-${seq++}`);
    fs.symlinkSync(dir, link);
    const r = run([path.join(link, 'x.npy'), '--out-dir', dir]);
    expect(r.stderr).toMatch(/would be overwritten by the output/);
    expect(r.code).toBe(2);
    expect(loadNpy(input).shape).toEqual([1, 3, 5, 5]);
  });

  test('run: the output name is a hard link to an input', () => {
    const dir = freshDir('hard');
    const input = npy(dir, 'x.npy');
    const out = freshDir('hard-out');
    fs.linkSync(input, path.join(out, 'x.npy'));
    const r = run([input, '--out-dir', out]);
    expect(r.stderr).toMatch(/input '.*x.npy' would be overwritten by the output '.*x.npy'/);
    expect(r.code).toBe(2);
    expect(fs.statSync(path.join(out, 'x.npy')).ino).toBe(fs.statSync(input).ino); // left alone
  });

  test('run: an output over another input (hard link) or over the weights file', () => {
    const dir = freshDir('other');
    const a = npy(dir, 'a.npy'), b = npy(dir, 'b.npy');
    const out = freshDir('other-out');
    fs.linkSync(b, path.join(out, 'a.npy'));
    const r = run([a, b, '--out-dir', out]);
    expect(r.stderr).toMatch(/input '.*b.npy' would be overwritten by the output '.*a.npy'/);
    expect(r.code).toBe(2);
    const wdir = freshDir('weights');
    const weights = write(wdir, 'm.safetensors', fs.readFileSync(MODEL));
    const input = npy(dir, 'm.safetensors'); // an input that happens to share the weights' name
    const w = cli(['run', '--weights', weights, '--prefix', 'stem.', input, '--out-dir', wdir]);
    expect(w.stderr).toMatch(/--weights '.*m.safetensors' would be overwritten by the output/);
    expect(w.code).toBe(2);
    expect(fs.readFileSync(weights)).toEqual(fs.readFileSync(MODEL));
  });

  test('filter: --out-dir is a symbolic link to the images\' directory', () => {
    const dir = freshDir('fsym');
    const image = write(dir, 'sample.png', fs.readFileSync(SAMPLE));
    const link = path.join(tmp, `link-${seq++}`);
    fs.symlinkSync(dir, link);
    const r = cli(['filter', '--kernel', 'sobel', image, '--out-dir', link]);
    expect(r.stderr).toMatch(/would be overwritten by the output/);
    expect(r.code).toBe(2);
    expect(fs.readFileSync(image)).toEqual(fs.readFileSync(SAMPLE));
  });

  test('a fresh --out-dir, or one whose files are other files, is fine', () => {
    const dir = freshDir('fine');
    const input = npy(dir, 'x.npy');
    const out = freshDir('fine-out');
    fs.writeFileSync(path.join(out, 'x.npy'), 'an old output');
    const r = run([input, '--out-dir', out]);
    expect(r.code).toBe(0);
    expect(loadNpy(path.join(out, 'x.npy')).shape).toEqual([1, 8, 5, 5]);
  });
});

describe('the atomic write: an unpredictable temporary name, created exclusively, never through a link', () => {
  const { writeFileAtomic, temporaryPath } = require('../dist/cli/common');

  test('a symbolic link planted at the old predictable name (<out>.<pid>.tmp) is not followed', async () => {
    const dir = freshDir('plant');
    const victim = write(dir, 'victim.txt', 'precious');
    const out = path.join(dir, 'out.npy');
    fs.symlinkSync(victim, `${out}.${process.pid}.tmp`);
    await writeFileAtomic(out, Buffer.from('new output'));
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious');
    expect(fs.lstatSync(out).isFile()).toBe(true);
    expect(fs.readFileSync(out, 'utf8')).toBe('new output');
  });

  test('the temporary name is random: 96 bits from the OS, different on every call, hidden, in the output directory', () => {
    const names = Array.from({ length: 200 }, () => temporaryPath('/some/dir/out.npy'));
    expect(new Set(names).size).toBe(200);
    expect(names).not.toContain(`/some/dir/out.npy.${process.pid}.tmp`); // the old, predictable name
    for (const n of names) {
      expect(path.dirname(n)).toBe('/some/dir');
      expect(path.basename(n)).toMatch(/^\.out\.npy\.[0-9a-f]{24}\.tmp$/);
    }
    expect(path.basename(temporaryPath(`/d/${'n'.repeat(255)}`)).length).toBeLessThan(256); // under NAME_MAX
  });

  test('a link planted at the drawn name itself is never opened: a new name is drawn; the planted link stays', async () => {
    const dir = freshDir('collide');
    const victim = write(dir, 'victim.txt', 'precious');
    const out = path.join(dir, 'out.npy');
    const fixed = Buffer.alloc(12, 0xab);
    const spy = jest.spyOn(crypto, 'randomBytes');
    try {
      spy.mockReturnValueOnce(fixed);
      const planted = temporaryPath(out); // the name the next draw of `fixed` gives
      fs.symlinkSync(victim, planted);
      spy.mockReturnValueOnce(fixed); // the write's first draw collides with the link
      await writeFileAtomic(out, Buffer.from('new output'));
      expect(fs.readFileSync(out, 'utf8')).toBe('new output');
      expect(fs.readFileSync(victim, 'utf8')).toBe('precious');
      expect(fs.readlinkSync(planted)).toBe(victim);
      // Every draw colliding: the write gives up with EEXIST and still touches nothing.
      spy.mockReturnValue(fixed);
      await expect(writeFileAtomic(out, Buffer.from('other'))).rejects.toThrow(/EEXIST/);
      expect(fs.readFileSync(out, 'utf8')).toBe('new output');
      expect(fs.readFileSync(victim, 'utf8')).toBe('precious');
      expect(fs.readlinkSync(planted)).toBe(victim);
    } finally {
      spy.mockRestore();
    }
  });

  test('a failed write removes its temporary file and leaves the old output', async () => {
    const dir = freshDir('fail');
    const out = path.join(dir, 'out.npy');
    fs.mkdirSync(out); // rename onto a directory fails
    await expect(writeFileAtomic(out, Buffer.from('x'))).rejects.toThrow();
    expect(fs.readdirSync(dir)).toEqual(['out.npy']);
  });
});

describe('inputs that are not regular files fail at once instead of blocking or reading forever', () => {
  test.each(['run', 'filter'])('%s: a FIFO with no writer, /dev/zero and a directory, among good files', (command) => {
    const dir = freshDir('special');
    const fifo = path.join(dir, command === 'run' ? 'fifo.npy' : 'fifo.png');
    require('node:child_process').execFileSync('mkfifo', [fifo]);
    const folder = path.join(dir, command === 'run' ? 'folder.npy' : 'folder.png');
    fs.mkdirSync(folder);
    const good = command === 'run' ? write(dir, 'good.npy', saveNpy(Tensor.zeros([1, 3, 4, 4]))) : write(dir, 'good.png', fs.readFileSync(SAMPLE));
    const args = command === 'run' ? ['run', '--weights', MODEL, '--prefix', 'stem.'] : ['filter', '--kernel', 'sobel'];
    const r = runCli([...args, fifo, '/dev/zero', folder, good, '--out-dir', path.join(dir, 'out')], { cwd: tmp, timeout: 30000 });
    expect(r.signal).toBeNull(); // not killed by the timeout
    expect(r.stderr).toMatch(/FAIL {2}.*fifo.(npy|png): '.*' is not a regular file/);
    expect(r.stderr).toMatch(/FAIL {2}\/dev\/zero: '\/dev\/zero' is not a regular file/);
    expect(r.stderr).toMatch(/FAIL {2}.*folder.(npy|png): '.*' is not a regular file/);
    expect(r.code).toBe(1);
    expect(fs.readdirSync(path.join(dir, 'out'))).toEqual([path.basename(good)]);
  });
});

describe('filter kernels that would write a black image are usage errors (exit 2)', () => {
  const kernelFile = (name, shape, values) => write(freshDir('k'), name, saveNpy(new Tensor(new Float32Array(values), shape)));
  const nine = (v) => Array(9).fill(v);

  test.each([
    ['gaussian:1e-200 (sigma squared underflows: NaN kernel)', () => 'gaussian:1e-200',
      /--kernel gaussian:1e-200: the kernel has a non-finite value \(NaN at element 0 of 9\): SIGMA is too small/],
    ['gaussian:1e-170', () => 'gaussian:1e-170', /the kernel has a non-finite value \(NaN/],
    ['gaussian:NaN', () => 'gaussian:NaN', /gaussian:SIGMA needs 0 < SIGMA <= 50, got 'nan'/],
    ['gaussian:1e400 (Infinity)', () => 'gaussian:1e400', /gaussian:SIGMA needs 0 < SIGMA <= 50, got '1e400'/],
    ['gaussian:51', () => 'gaussian:51', /gaussian:SIGMA needs 0 < SIGMA <= 50/],
    ['box:0', () => 'box:0', /box:N needs an integer 1 <= N <= 101, got '0'/],
    ['a kernel file with a NaN', () => kernelFile('nan.npy', [3, 3], [1, 1, 1, 1, NaN, 1, 1, 1, 1]),
      /nan.npy: the kernel has a non-finite value \(NaN at element 4 of 9\); every weight must be a finite float32/],
    ['a kernel file with an infinity', () => kernelFile('inf.npy', [3, 3], [0, 0, 0, 0, -Infinity, 0, 0, 0, 0]),
      /inf.npy: the kernel has a non-finite value \(-Infinity at element 4 of 9\)/],
    ['a kernel file of zeros', () => kernelFile('zeros.npy', [3, 3], nine(0)),
      /zeros.npy: the kernel is all zeros \(9 weights\), so every output pixel would be 0/],
    ['a per-channel kernel file of zeros', () => kernelFile('zeros3.npy', [3, 1, 3, 3], Array(27).fill(-0)),
      /zeros3.npy: the kernel is all zeros \(27 weights\)/],
  ])('%s', (_, spec, message) => {
    const out = path.join(tmp, `k-out-${seq++}`);
    const r = cli(['filter', '--kernel', spec(), SAMPLE, '--out-dir', out]);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
    expect(fs.existsSync(out)).toBe(false);
  });

  test('a tiny sigma that still gives a finite kernel (1e-100) is the identity filter', () => {
    const out = path.join(tmp, `k-ident-${seq++}`);
    const r = cli(['filter', '--kernel', 'gaussian:1e-100', SAMPLE, '--out-dir', out]);
    expect(r.code).toBe(0);
    expect(readPng(path.join(out, 'sample.png')).data).toEqual(readPng(SAMPLE).data);
  });
});

describe('run: hostile .npy inputs fail before any allocation of their declared size', () => {
  // A .npy header with any shape over `dataBytes` bytes of data.
  const npyWithShape = (shape, dataBytes) => {
    const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}), }`;
    const pad = 64 - ((10 + dict.length + 1) % 64);
    const header = Buffer.from(`${dict}${' '.repeat(pad)}\n`, 'latin1');
    const pre = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
    return Buffer.concat([pre, header, Buffer.alloc(dataBytes)]);
  };

  test('a shape of 2^40 elements over 48 bytes, a shape whose product passes 2^53, and a valid file among them', () => {
    const dir = freshDir('npy');
    const huge = write(dir, 'huge.npy', npyWithShape([1, 3, 2 ** 20, 2 ** 20], 48));
    const wrap = write(dir, 'wrap.npy', npyWithShape([2 ** 31, 2 ** 31, 2 ** 31, 3], 48));
    const ok = write(dir, 'ok.npy', saveNpy(Tensor.zeros([1, 3, 4, 4])));
    const r = cli(['run', '--weights', MODEL, '--prefix', 'stem.', huge, wrap, ok, '--out-dir', path.join(dir, 'out')],
      { peakMemory: true });
    expect(r.stderr).toMatch(/huge.npy: loadNpy: shape \(1, 3, 1048576, 1048576\) of float32 needs 13194139533312 bytes of data but the file has 48/);
    expect(r.stderr).toMatch(/wrap.npy: loadNpy: shape \(2147483648, 2147483648, 2147483648, 3\) of float32 needs \S+ bytes of data but the file has 48/);
    expect(r.code).toBe(1);
    expect(fs.readdirSync(path.join(dir, 'out'))).toEqual(['ok.npy']);
    expect(r.peakMiB).toBeLessThan(PEAK_LIMIT_MIB);
  });
});
