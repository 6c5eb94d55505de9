// The package as users get it: scripts/prebuild.sh, `npm pack`, an install of
// the tarball into an empty folder (offline, from the npm cache), then the
// package used with a PATH that holds nothing but node (no compiler, cmake or
// make): require (CommonJS), import (ESM), the CLI, the types, and the
// loader's error when no binary fits. Prints the tarball and installed sizes.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');

const ROOT = path.join(__dirname, '..');
const pkg = require(path.join(ROOT, 'package.json'));
const PLATFORM = `${process.platform}-${process.arch}`;
const LIBC = process.platform === 'linux' ? (fs.existsSync('/etc/alpine-release') ? 'musl' : 'glibc') : '';
const PREBUILD = path.join('prebuilds', PLATFORM, LIBC ? `node.napi.${LIBC}.node` : 'node.napi.node');
const MB = 1024 * 1024;

let work, tarball, app, binDir;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'simdconv-pack-'));
  app = path.join(work, 'app');
  binDir = path.join(work, 'bin');
  fs.mkdirSync(app);
  fs.mkdirSync(binDir);
  fs.symlinkSync(process.execPath, path.join(binDir, 'node')); // the only program on PATH below
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function sizeOf(p) {
  const st = fs.lstatSync(p);
  if (!st.isDirectory()) return st.size;
  return fs.readdirSync(p).reduce((sum, name) => sum + sizeOf(path.join(p, name)), 0);
}
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;

/** Runs node from the bare PATH (just `node`), in the app folder. */
function bare(args, opts = {}) {
  const env = { PATH: binDir, HOME: work, LANG: 'C' };
  const r = spawnSync(opts.file ?? 'node', args, { cwd: app, env, encoding: 'utf8', timeout: 60000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, error: r.error };
}

test('scripts/prebuild.sh builds the addon into prebuilds/ under the name node-gyp-build loads', () => {
  // linux-x64: the release build (glibc 2.17 sysroot; incremental after scripts/test.sh made it);
  // elsewhere this machine's own toolchain.
  const target = PLATFORM === 'linux-x64' && LIBC === 'glibc' ? 'linux-x64' : 'host';
  const out = execFileSync('bash', [path.join(ROOT, 'scripts', 'prebuild.sh'), target], {
    cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  });
  expect(out).toContain(PREBUILD);
  expect(fs.existsSync(path.join(ROOT, PREBUILD))).toBe(true);
  const resolved = execFileSync(process.execPath, ['-e', 'console.log(require("node-gyp-build").resolve("."))'],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, PREBUILDS_ONLY: '1' } }).trim();
  expect(resolved).toBe(path.join(ROOT, PREBUILD));
}, 300000);

test('npm pack: dist, prebuilds, data and README; no tests, build dirs or node_modules; < 2 MB; no install scripts', () => {
  for (const f of ['dist/index.js', 'dist/index.mjs', 'dist/index.d.ts', 'dist/index.d.mts', 'dist/cli.js'])
    expect(fs.existsSync(path.join(ROOT, f))).toBe(true); // built by `npm run build` (scripts/test.sh does it first)
  // --ignore-scripts: the tarball is made from what is built; `prepare` would rebuild it.
  const json = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work],
    { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const info = JSON.parse(json.slice(json.indexOf('[')))[0];
  tarball = path.join(work, info.filename);
  const files = info.files.map((f) => f.path);
  console.log(`npm pack: ${info.filename}: ${kb(info.size)} packed, ${kb(info.unpackedSize)} unpacked, ${info.entryCount} files`);
  for (const f of ['package.json', 'README.md', 'dist/index.js', 'dist/index.mjs', 'dist/index.d.ts', 'dist/index.d.mts',
    'dist/cli.js', 'dist/io/safetensors.js', 'dist/io/npy.js', 'data/sample.png', PREBUILD.split(path.sep).join('/')])
    expect(files).toContain(f);
  for (const f of files) expect(f).not.toMatch(/^(node_modules|build|build-[^/]*|test|cpp\/tests|cpp\/bench|\.ci|\.git)\//);
  expect(files).not.toContain('binding.gyp'); // would make npm add an implicit `node-gyp rebuild` install script
  expect(info.size).toBeLessThan(2 * MB);
  const scripts = pkg.scripts ?? {};
  for (const hook of ['preinstall', 'install', 'postinstall']) expect(scripts[hook]).toBeUndefined();
  expect(pkg.engines).toEqual({ node: '>=20' });
  expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(20);
}, 120000);

test('installs into an empty folder from the tarball (offline, from the npm cache)', () => {
  expect(tarball).toBeDefined();
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  const args = ['install', '--no-audit', '--no-fund', tarball];
  let r = spawnSync('npm', [...args.slice(0, 1), '--offline', ...args.slice(1)], { cwd: app, encoding: 'utf8' });
  if (r.status !== 0) {
    console.log(`offline install failed (${r.stderr.trim().split('\n').pop()}); installing from the registry`);
    r = spawnSync('npm', args, { cwd: app, encoding: 'utf8' });
  }
  expect(r.stderr).not.toMatch(/npm (error|ERR)/);
  expect(r.status).toBe(0);
  const installed = path.join(app, 'node_modules', 'simdconv');
  expect(fs.existsSync(path.join(installed, PREBUILD))).toBe(true);
  expect(fs.existsSync(path.join(installed, 'build'))).toBe(false); // the prebuild is what loads
  const deps = Object.keys(require(path.join(installed, 'package.json')).dependencies).sort();
  expect(deps).toEqual(['cli-progress', 'commander', 'jpeg-js', 'node-gyp-build', 'pngjs']);
  console.log(`installed: node_modules/simdconv ${kb(sizeOf(installed))}, all of node_modules ${kb(sizeOf(path.join(app, 'node_modules')))} ` +
    `(${fs.readdirSync(path.join(app, 'node_modules')).filter((n) => !n.startsWith('.')).length} packages)`);
}, 180000);

describe('used with only node on PATH (no compiler, cmake or make)', () => {
  test('the bare PATH has nothing but node', () => {
    expect(fs.readdirSync(binDir)).toEqual(['node']);
    expect(bare(['-e', 'process.stdout.write(process.env.PATH)']).stdout).toBe(binDir);
  });

  test('require (CommonJS): a forward pass on the prebuilt binary', () => {
    const r = bare(['-e', `
      const s = require('simdconv');
      const conv = new s.Conv2d(3, 4, 3, { padding: 1 });
      const y = conv.forward(new s.Tensor(new Float32Array(2 * 3 * 8 * 8).fill(1), [2, 3, 8, 8]));
      const npy = s.loadNpy(s.saveNpy(y));
      const binary = require('node-gyp-build').resolve(require('path').dirname(require.resolve('simdconv/package.json')));
      console.log(JSON.stringify({ shape: y.shape, same: npy.data.every((v, i) => v === y.data[i]), isa: s.backendInfo().isa, binary }));
    `]);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ shape: [2, 4, 8, 8], same: true });
    expect(out.binary).toBe(path.join(app, 'node_modules', 'simdconv', PREBUILD));
  });

  test('import (ESM): named and default exports, the same classes as require', () => {
    const r = bare(['--input-type=module', '-e', `
      import { Conv2d, Tensor, loadSafetensors } from 'simdconv';
      import simdconv from 'simdconv';
      import { createRequire } from 'node:module';
      const cjs = createRequire(process.cwd() + '/')('simdconv');
      const conv = new Conv2d(2, 2, 1, { bias: false });
      const y = await conv.forwardAsync(new Tensor(new Float32Array(2 * 4 * 4), [1, 2, 4, 4]));
      console.log(JSON.stringify({ shape: y.shape, sameClass: Tensor === cjs.Tensor && simdconv.Conv2d === Conv2d,
        fn: typeof loadSafetensors }));
    `]);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ shape: [1, 2, 4, 4], sameClass: true, fn: 'function' });
  });

  test('the simdconv bin: info and demo (the #!/usr/bin/env node shebang finds node on PATH)', () => {
    const bin = path.join(app, 'node_modules', '.bin', 'simdconv');
    const info = bare(['info'], { file: bin });
    expect(info.error).toBeUndefined();
    expect(info.code).toBe(0);
    expect(info.stdout).toContain(`simdconv ${pkg.version}`);
    expect(info.stdout).toContain(path.join('node_modules', 'simdconv', PREBUILD));
    const demo = bare(['demo', '--batch', '1', '--out-dir', path.join(work, 'demo')], { file: bin });
    expect(demo.code).toBe(0);
    expect(demo.stdout).toMatch(/GFLOP\/s/);
    expect(fs.existsSync(path.join(work, 'demo', 'sample-sobel.png'))).toBe(true);
  });

  test('without a usable binary, the error names the platform, arch, libc, where it looked and the fixes', () => {
    const broken = path.join(app, 'broken');
    fs.cpSync(path.join(app, 'node_modules', 'simdconv'), broken, { recursive: true });
    fs.rmSync(path.join(broken, 'prebuilds'), { recursive: true });
    const r = bare(['-e', "require('./broken')"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`simdconv: could not load the native addon for ${PLATFORM}${LIBC === 'glibc' ? ' (glibc' : ''}`);
    expect(r.stderr).toContain(`Node.js ${process.versions.node}`);
    expect(r.stderr).toContain('Prebuilt binaries in this package: none.');
    expect(r.stderr).toMatch(/Possible fixes:[\s\S]*npm run build:native/);
  });
});

test("the installed package's types compile for CommonJS and ESM consumers", () => {
  expect(fs.existsSync(path.join(app, 'node_modules', 'simdconv', 'dist', 'index.d.mts'))).toBe(true);
  const dir = path.join(app, 'types');
  fs.mkdirSync(dir);
  for (const f of ['usage.cts', 'usage.mts']) fs.copyFileSync(path.join(__dirname, 'types', f), path.join(dir, f));
  const config = JSON.parse(fs.readFileSync(path.join(__dirname, 'types', 'tsconfig.json'), 'utf8').replace(/^\s*\/\/.*$/gm, ''));
  config.compilerOptions.typeRoots = [path.join(ROOT, 'node_modules', '@types')];
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(config));
  const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir, '--traceResolution'],
    { cwd: dir, encoding: 'utf8' });
  const resolved = [...new Set(r.stdout.match(/Module name 'simdconv' was successfully resolved to '[^']+'/g))].sort();
  expect(r.stdout.split('\n').filter((l) => /error TS/.test(l))).toEqual([]);
  expect(r.status).toBe(0);
  expect(resolved).toEqual([
    `Module name 'simdconv' was successfully resolved to '${path.join(app, 'node_modules', 'simdconv', 'dist', 'index.d.mts')}'`,
    `Module name 'simdconv' was successfully resolved to '${path.join(app, 'node_modules', 'simdconv', 'dist', 'index.d.ts')}'`,
  ].sort());
}, 120000);
