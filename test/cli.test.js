// The `simdconv` command, run as users run it (node dist/cli.js in a child
// process): exit status 0 / 1 / 2, files written, a bad file among good ones
// (exit 1, the good ones still written), --help, info, demo, bench.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { PNG } = require('pngjs');
const jpeg = require('jpeg-js');
const { simdconv, compare, magnitudeBound } = require('./helpers');
const { Conv2d, Tensor, loadNpy, loadSafetensors, saveNpy, backendInfo } = simdconv;

const { ROOT, CLI, runCli } = require('./cli-helpers');
const FIX = path.join(__dirname, 'fixtures', 'io');
const fix = (name) => path.join(FIX, name);
const SAMPLE = path.join(ROOT, 'data', 'sample.png');

const cli = (args, opts = {}) => runCli(args, { cwd: tmp, ...opts });

let tmp;
beforeAll(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'simdconv-cli-')); });
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const dir = (name) => path.join(tmp, name);

test('the built CLI has a shebang; the sample image is bundled and small', () => {
  expect(fs.readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  expect(require(path.join(ROOT, 'package.json')).bin).toEqual({ simdconv: 'dist/cli.js' });
  expect(fs.statSync(SAMPLE).size).toBeLessThan(50 * 1024);
  const png = PNG.sync.read(fs.readFileSync(SAMPLE));
  expect([png.width, png.height]).toEqual([128, 128]);
});

describe('help, version and usage errors (exit 2)', () => {
  test('--help lists the commands; each command has --help', () => {
    const r = cli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['demo', 'info', 'bench', 'run', 'filter']) expect(r.stdout).toContain(`  ${c} `);
    for (const c of ['run', 'filter', 'demo', 'info', 'bench']) {
      const h = cli([c, '--help']);
      expect(h.code).toBe(0);
      expect(h.stdout).toMatch(new RegExp(`^Usage: simdconv ${c}`));
    }
    expect(cli(['help', 'run']).stdout).toContain('--weights <file>');
  });

  test('--version', () => {
    const r = cli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(require(path.join(ROOT, 'package.json')).version);
  });

  const w = fix('model_f32.safetensors');
  test.each([
    ['no command', [], /Usage: simdconv/],
    ['unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
    ['unknown flag', ['run', '--weights', w, '--out-dir', 'o', '--frob', 'x.npy'], /unknown option '--frob'/],
    ['unknown flag on info', ['info', '--verbose'], /unknown option '--verbose'/],
    ['unknown flag on demo', ['demo', '--fast'], /unknown option '--fast'/],
    ['run without --weights', ['run', '--out-dir', 'o', 'x.npy'], /required option '--weights <file>' not specified/],
    ['run without --out-dir', ['run', '--weights', w, 'x.npy'], /required option '--out-dir <dir>' not specified/],
    ['run without inputs', ['run', '--weights', w, '--out-dir', 'o'], /missing required argument 'inputs'/],
    ['filter without --kernel', ['filter', '--out-dir', 'o', SAMPLE], /required option '--kernel <spec>' not specified/],
    ['filter without images', ['filter', '--kernel', 'sobel', '--out-dir', 'o'], /missing required argument 'images'/],
    ['a bad integer', ['run', '--weights', w, '--groups', 'two', '--out-dir', 'o', 'x.npy'], /--groups <g>' argument 'two' is invalid/],
    ['a bad padding', ['run', '--weights', w, '--padding', '1,2,3', '--out-dir', 'o', 'x.npy'], /--padding <p>' argument '1,2,3' is invalid/],
    ['a bad padding mode', ['filter', '--kernel', 'sobel', '--padding-mode', 'mirror', '--out-dir', 'o', SAMPLE], /Allowed choices are zeros, reflect, replicate, circular/],
    ['an unknown kernel', ['filter', '--kernel', 'emboss', '--out-dir', 'o', SAMPLE], /--kernel must be sobel, gaussian:SIGMA, box:N, sharpen or a FILE.npy, got 'emboss'/],
    ['a bad sigma', ['filter', '--kernel', 'gaussian:-1', '--out-dir', 'o', SAMPLE], /gaussian:SIGMA needs 0 < SIGMA <= 50/],
    ['a bad box size', ['filter', '--kernel', 'box:2.5', '--out-dir', 'o', SAMPLE], /box:N needs an integer/],
    ['a kernel file of the wrong dtype', ['filter', '--kernel', fix('npy_f64.npy'), '--out-dir', 'o', SAMPLE], /--kernel loadNpy: .*dtype float64/],
    ['--config and conv flags together', ['run', '--weights', w, '--config', fix('layer_stem.json'), '--padding', '1', '--out-dir', 'o', 'x.npy'], /--config and conv flags \(--padding\) cannot be combined/],
    ['a config with an unknown key', ['run', '--weights', w, '--config', '@cfg', '--out-dir', 'o', 'x.npy'], /unknown key 'paddingMode'; known keys: in_channels/],
    ['a config that is not JSON', ['run', '--weights', w, '--config', fix('input_stem.npy'), '--out-dir', 'o', 'x.npy'], /--config .*input_stem.npy: /],
    ['an invalid layer', ['run', '--weights', w, '--prefix', 'stem.', '--padding', 'same', '--stride', '2', '--out-dir', 'o', 'x.npy'], /invalid layer: .*padding='same' is not supported for strided convolutions/],
    ['two inputs with one name', ['run', '--weights', w, '--prefix', 'stem.', '--out-dir', 'o', fix('input_stem.npy'), path.join(FIX, '..', 'io', 'input_stem.npy')], /two inputs have the same file name/],
    ['an output over its input', ['run', '--weights', w, '--prefix', 'stem.', '--out-dir', FIX, fix('input_stem.npy')], /would be overwritten by its own output/],
  ])('%s', (_, args, message) => {
    const cfg = path.join(tmp, 'bad-config.json');
    fs.writeFileSync(cfg, JSON.stringify({ in_channels: 3, paddingMode: 'reflect' }));
    const r = cli(args.map((a) => (a === '@cfg' ? cfg : a)));
    expect(r.out).toMatch(message);
    expect(r.code).toBe(2);
    expect(fs.existsSync(path.join(tmp, 'o'))).toBe(false); // nothing written on a usage error
  });
});

describe('info and bench', () => {
  test('info: version, binary, ISA in use, threads', () => {
    const r = cli(['info']);
    expect(r.code).toBe(0);
    const b = backendInfo();
    expect(r.stdout).toContain(`simdconv ${require(path.join(ROOT, 'package.json')).version}`);
    expect(r.stdout).toMatch(new RegExp(`ISA: +${b.isa} \\(supported on this CPU: ${b.supportedIsas.join(', ')}`));
    expect(r.stdout).toMatch(/binary: +\S+\.node/);
    // the child's default (this process may have called setNumThreads): the smallest limit
    const l = b.threadLimits;
    const want = Math.max(1, Math.min(l.cores, l.affinity || Infinity, l.cgroupCpus ? Math.ceil(l.cgroupCpus) : Infinity));
    expect(r.stdout).toMatch(new RegExp(`threads: +${want} \\(the default, set by the ` +
      `(core count|affinity mask|cgroup CPU quota): ${l.cores} cores`));
    expect(r.stdout).toMatch(new RegExp(`CPU: +.*\\(${b.cpu.vendor || 'unknown vendor'}`));
    expect(r.stdout).toMatch(/caches: +L1d \S+ \S+, L2 /);
    expect(r.stdout).toMatch(new RegExp(`512-bit FMAs at full width: ${b.cpu.fma512.fullWidth} \\(`));
  });

  test('info --json, and the environment variables it reports', () => {
    const r = cli(['info', '--json'], { env: { SIMDCONV_NUM_THREADS: '1', SIMDCONV_MAX_ISA: 'scalar' } });
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info).toMatchObject({ isa: 'scalar', threads: 1, threadsSource: 'env', SIMDCONV_NUM_THREADS: '1', SIMDCONV_MAX_ISA: 'scalar' });
    expect(info.cpu).toEqual(backendInfo().cpu);
    expect(fs.existsSync(info.binary)).toBe(true);
  });

  test('bench: runs bench/run.js (a short run from a packed copy: bench-installed.test.js)', () => {
    const r = cli(['bench', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/more arguments for bench\/run.js/);
  });
});

describe('demo', () => {
  test('with no arguments: filters the bundled image, times a ResNet layer, writes to a temp dir', () => {
    const r = cli(['demo']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/sobel: Conv2d\(3, 6, kernel_size=\(3, 3\), stride=\(1, 1\), padding=same, groups=3, bias=False, padding_mode=reflect\)/);
    expect(r.stdout).toMatch(/Conv2d\(64, 64, kernel_size=\(3, 3\), stride=\(1, 1\), padding=\(1, 1\), bias=False\)/);
    expect(r.stdout).toMatch(/\[4, 64, 56, 56\] -> output \[4, 64, 56, 56\]/);
    expect(r.stdout).toMatch(/[\d.]+ GFLOP\/s/);
    expect(r.stdout).toContain('bitwise identical to forward');
    expect(r.stdout).toMatch(/3\. A fused layer: .*\n {3}Conv2d\(64, 64, kernel_size=\(3, 3\), stride=\(1, 1\), padding=\(1, 1\), activation=ReLU\(\)\)/);
    expect(r.stdout).toContain('the same numbers to float32 rounding');
    const outDir = /Outputs in (.+)/.exec(r.stdout)[1].trim();
    try {
      expect(outDir.startsWith(os.tmpdir())).toBe(true);
      expect(fs.readdirSync(outDir).sort()).toEqual(['resnet-output.npy', 'sample-gaussian.png', 'sample-sharpen.png', 'sample-sobel.png']);
      expect(loadNpy(path.join(outDir, 'resnet-output.npy')).shape).toEqual([1, 64, 56, 56]);
    } finally {
      fs.rmSync(outDir, { recursive: true, force: true });
    }
  });

  test('--out-dir and --batch', () => {
    const r = cli(['demo', '--out-dir', dir('demo'), '--batch', '1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\[1, 64, 56, 56\] -> output \[1, 64, 56, 56\]/);
    const sobel = PNG.sync.read(fs.readFileSync(path.join(dir('demo'), 'sample-sobel.png')));
    expect([sobel.width, sobel.height]).toEqual([128, 128]);
  });
});

describe('run', () => {
  const check = (file, expectedFile, conv, input) => {
    const got = loadNpy(file), want = loadNpy(expectedFile);
    expect(got.shape).toEqual(want.shape);
    const { k, magnitude } = magnitudeBound(conv, input);
    expect(compare(got.data, want.data, k, magnitude)).toBeNull();
  };

  test.each(['f32', 'f16', 'bf16'])("%s weights with --prefix and conv flags reproduce PyTorch's outputs", (tag) => {
    const out = dir(`run-${tag}`);
    const r = cli(['run', '--weights', fix(`model_${tag}.safetensors`), '--prefix', 'stem.', '--padding', '1',
      fix('input_stem.npy'), fix('input_stem_unbatched.npy'), '--out-dir', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/run: Conv2d\(3, 8, kernel_size=\(3, 3\), stride=\(1, 1\), padding=\(1, 1\)\) from .*model_.*\.safetensors \(prefix 'stem\.'\), 2 files/);
    expect(r.stdout).toMatch(/run: 2 files in [\d.]+ m?s \([\d.]+ files\/s, [\d.e+-]+ GFLOP\/s\): 2 written to /);
    const conv = new Conv2d(3, 8, 3, { padding: 1 });
    conv.loadStateDict(loadSafetensors(fix(`model_${tag}.safetensors`)), { prefix: 'stem.' });
    check(path.join(out, 'input_stem.npy'), fix(`expected_${tag}_stem.npy`), conv, loadNpy(fix('input_stem.npy')));
    check(path.join(out, 'input_stem_unbatched.npy'), fix(`expected_${tag}_stem_unbatched.npy`), conv, loadNpy(fix('input_stem_unbatched.npy')));
  });

  test.each(['conv1', 'conv2'])('--config LAYER.json for %s (stride, no bias; groups, reflect padding)', (name) => {
    const out = dir(`run-config-${name}`);
    const r = cli(['run', '--weights', fix('model_bf16.safetensors'), '--prefix', `layer1.0.${name}.`,
      '--config', fix(`layer_${name}.json`), fix(`input_${name}.npy`), '--out-dir', out, '--jobs', '1', '--threads', '1']);
    expect(r.code).toBe(0);
    const cfg = JSON.parse(fs.readFileSync(fix(`layer_${name}.json`), 'utf8'));
    const conv = new Conv2d(cfg.in_channels, cfg.out_channels, cfg.kernel_size, {
      stride: cfg.stride, padding: cfg.padding, dilation: cfg.dilation, groups: cfg.groups, bias: cfg.bias, paddingMode: cfg.padding_mode,
    });
    conv.loadStateDict(loadSafetensors(fix('model_bf16.safetensors')), { prefix: `layer1.0.${name}.` });
    check(path.join(out, `input_${name}.npy`), fix(`expected_bf16_${name}.npy`), conv, loadNpy(fix(`input_${name}.npy`)));
  });

  test('a prefix without the trailing dot is accepted; kernel-size and channel flags are checked against the weights', () => {
    const ok = cli(['run', '--weights', fix('model_f32.safetensors'), '--prefix', 'stem', '--in-channels', '3', '--out-channels', '8',
      '--kernel-size', '3,3', '--padding', '1,1', '--bias', fix('input_stem.npy'), '--out-dir', dir('run-flags')]);
    expect(ok.code).toBe(0);
    expect(fs.existsSync(path.join(dir('run-flags'), 'input_stem.npy'))).toBe(true);
    const bad = cli(['run', '--weights', fix('model_f32.safetensors'), '--prefix', 'stem.', '--kernel-size', '5',
      fix('input_stem.npy'), '--out-dir', dir('run-flags2')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/'stem.weight': expected weight of shape \[8, 3, 5, 5\], got \[8, 3, 3, 3\]/);
    const noBias = cli(['run', '--weights', fix('model_f32.safetensors'), '--prefix', 'stem.', '--no-bias',
      fix('input_stem.npy'), '--out-dir', dir('run-flags3')]);
    expect(noBias.code).toBe(1);
    expect(noBias.stderr).toMatch(/unexpected key 'stem.bias'/);
  });

  test('a bad file among good ones: exit 1, a message naming it, the good ones still written', () => {
    const inputs = dir('inputs');
    fs.mkdirSync(inputs, { recursive: true });
    const good = [];
    for (let i = 0; i < 6; i++) {
      const f = path.join(inputs, `good${i}.npy`);
      fs.writeFileSync(f, saveNpy(new Tensor(new Float32Array(3 * 10 * 10).fill(i), [1, 3, 10, 10])));
      good.push(f);
    }
    fs.writeFileSync(path.join(inputs, 'garbage.npy'), 'not an npy file at all');
    fs.writeFileSync(path.join(inputs, 'channels.npy'), saveNpy(Tensor.zeros([1, 5, 10, 10])));
    const truncated = fs.readFileSync(good[0]).subarray(0, 200);
    fs.writeFileSync(path.join(inputs, 'truncated.npy'), truncated);
    const args = [good[0], good[1], path.join(inputs, 'garbage.npy'), good[2], path.join(inputs, 'channels.npy'),
      path.join(inputs, 'missing.npy'), good[3], path.join(inputs, 'truncated.npy'), good[4], good[5]];
    const out = dir('run-mixed');
    const r = cli(['run', '--weights', fix('model_f16.safetensors'), '--prefix', 'stem.', '--padding', 'same', ...args, '--out-dir', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/FAIL {2}.*garbage.npy: loadNpy: not a .npy file/);
    expect(r.stderr).toMatch(/FAIL {2}.*channels.npy: Conv2d.forwardAsync: .*expected input \[1, 5, 10, 10\] to have 3 channels, but got 5/);
    expect(r.stderr).toMatch(/FAIL {2}.*missing.npy: ENOENT/);
    expect(r.stderr).toMatch(/FAIL {2}.*truncated.npy: loadNpy: shape \(1, 3, 10, 10\) of float32 needs 1200 bytes of data but the file has \d+ \(truncated\?\)/);
    expect(r.stdout).toMatch(/run: 10 files in .*: 6 written to .*, 4 failed/);
    expect(fs.readdirSync(out).sort()).toEqual(good.map((f) => path.basename(f)).sort());
    const conv = new Conv2d(3, 8, 3, { padding: 'same' });
    conv.loadStateDict(loadSafetensors(fix('model_f16.safetensors')), { prefix: 'stem.' });
    for (let i = 0; i < 6; i++) {
      const x = loadNpy(good[i]);
      expect(loadNpy(path.join(out, `good${i}.npy`)).data).toEqual(conv.forward(x).data);
    }
  });

  test('weights that cannot be used: exit 1 with the reason', () => {
    const missing = cli(['run', '--weights', dir('none.safetensors'), fix('input_stem.npy'), '--out-dir', dir('w1')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/simdconv: error: loadSafetensors: cannot open .*none.safetensors.*ENOENT/);
    const noKey = cli(['run', '--weights', fix('model_f32.safetensors'), '--prefix', 'layer9.', fix('input_stem.npy'), '--out-dir', dir('w2')]);
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toMatch(/has no float tensor 'layer9.weight'; weights in the file: bn.weight, .*stem.weight/);
    const bn = cli(['run', '--weights', fix('model_f32.safetensors'), '--prefix', 'bn.', fix('input_stem.npy'), '--out-dir', dir('w3')]);
    expect(bn.code).toBe(1);
    expect(bn.stderr).toMatch(/'bn.weight' in .* has shape \[8\]: a Conv2d weight is 4-D/);
    const notSt = cli(['run', '--weights', fix('input_stem.npy'), fix('input_stem.npy'), '--out-dir', dir('w4')]);
    expect(notSt.code).toBe(1);
    expect(notSt.stderr).toMatch(/loadSafetensors: .*header length \d+ is larger than the 100000000-byte limit/);
  });
});

describe('filter', () => {
  let images;
  beforeAll(() => {
    images = dir('images');
    fs.mkdirSync(images, { recursive: true });
    const png = PNG.sync.read(fs.readFileSync(SAMPLE));
    fs.copyFileSync(SAMPLE, path.join(images, 'sample.png'));
    fs.writeFileSync(path.join(images, 'photo.jpg'), jpeg.encode({ data: png.data, width: 128, height: 128 }, 90).data);
    fs.writeFileSync(path.join(images, 'gray.png'), PNG.sync.write(png, { colorType: 0 }));
    const small = new PNG({ width: 7, height: 5 });
    for (let i = 0; i < 35; i++) small.data.set([(i * 37) % 256, (i * 91) % 256, (i * 13) % 256, 100 + i], 4 * i);
    fs.writeFileSync(path.join(images, 'alpha.png'), PNG.sync.write(small, { colorType: 6 }));
    fs.writeFileSync(path.join(images, 'broken.png'), fs.readFileSync(SAMPLE).subarray(0, 200));
    fs.writeFileSync(path.join(images, 'text.jpg'), 'hello');
  });
  const img = (name) => path.join(images, name);
  const readPng = (file) => PNG.sync.read(fs.readFileSync(file));

  test('sobel over PNG, JPEG, grayscale and RGBA images, with a broken one and a non-image among them', () => {
    const out = dir('sobel');
    const r = cli(['filter', '--kernel', 'sobel', img('sample.png'), img('broken.png'), img('photo.jpg'), img('gray.png'),
      img('text.jpg'), img('alpha.png'), '--out-dir', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/FAIL {2}.*broken.png: invalid or truncated PNG/);
    expect(r.stderr).toMatch(/FAIL {2}.*text.jpg: not a PNG or JPEG file/);
    expect(r.stdout).toMatch(/filter: 6 files in .*: 4 written to .*, 2 failed/);
    expect(fs.readdirSync(out).sort()).toEqual(['alpha.png', 'gray.png', 'photo.jpg', 'sample.png']);
    const jpg = fs.readFileSync(path.join(out, 'photo.jpg'));
    expect([...jpg.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]); // written as JPEG
    expect(jpeg.decode(jpg).width).toBe(128);
    const gray = readPng(path.join(out, 'gray.png'));
    expect(gray.colorType).toBe(0); // grayscale stays grayscale
    const alpha = readPng(path.join(out, 'alpha.png'));
    expect([alpha.width, alpha.height, alpha.colorType]).toEqual([7, 5, 6]);
    for (let i = 0; i < 35; i++) expect(alpha.data[4 * i + 3]).toBe(100 + i); // alpha kept as it was
    // Sobel magnitude: zero inside the flat red square, strong on its edge.
    const s = readPng(path.join(out, 'sample.png'));
    const at = (x, y) => s.data[4 * (y * 128 + x)];
    expect(at(30, 40)).toBe(0);
    expect(at(14, 40)).toBe(255);
  });

  test('box:1 and an identity kernel file give back the image exactly (PNG is lossless)', () => {
    const ident = dir('identity.npy');
    const k = new Float32Array(9);
    k[4] = 1;
    fs.writeFileSync(ident, saveNpy(new Tensor(k, [3, 3])));
    for (const kernel of ['box:1', ident]) {
      const out = dir(`ident-${path.basename(kernel).replace(/\W/g, '')}`);
      const r = cli(['filter', '--kernel', kernel, img('sample.png'), img('gray.png'), '--out-dir', out]);
      expect(r.code).toBe(0);
      expect(readPng(path.join(out, 'sample.png')).data).toEqual(readPng(SAMPLE).data);
      expect(readPng(path.join(out, 'gray.png')).data).toEqual(readPng(img('gray.png')).data);
    }
  });

  test('gaussian blur equals a depthwise Conv2d with padding "same" in the chosen padding mode', () => {
    for (const mode of ['reflect', 'replicate', 'zeros', 'circular']) {
      const out = dir(`gauss-${mode}`);
      const r = cli(['filter', '--kernel', 'gaussian:1', '--padding-mode', mode, img('alpha.png'), '--out-dir', out]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`padding 'same' (${mode})`);
      // The same computation here: planes 0..255, 7x7 gaussian, round and clamp.
      const src = readPng(img('alpha.png'));
      const planes = new Float32Array(3 * 35);
      for (let c = 0; c < 3; c++) for (let i = 0; i < 35; i++) planes[c * 35 + i] = src.data[4 * i + c];
      const g = Array.from({ length: 7 }, (_, i) => Math.exp(-((i - 3) ** 2) / 2));
      const sum = g.reduce((a, b) => a + b, 0);
      const w = new Float32Array(3 * 49);
      for (let c = 0; c < 3; c++) for (let y = 0; y < 7; y++) for (let x = 0; x < 7; x++) w[c * 49 + y * 7 + x] = (g[y] * g[x]) / (sum * sum);
      const conv = new Conv2d(3, 3, 7, { groups: 3, padding: 'same', paddingMode: mode, bias: false });
      conv.weight = new Tensor(w, [3, 1, 7, 7]);
      const y = conv.forward(new Tensor(planes, [1, 3, 5, 7])).data;
      const got = readPng(path.join(out, 'alpha.png'));
      for (let c = 0; c < 3; c++) for (let i = 0; i < 35; i++)
        expect(got.data[4 * i + c]).toBe(Math.min(255, Math.max(0, Math.round(y[c * 35 + i]))));
    }
  });
});
