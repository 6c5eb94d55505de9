// `simdconv bench` from an installed package: only the files `npm pack` puts
// in the tarball (plus a native binary where a prebuild would be), with no
// onnxruntime-node to import and no compiler needed. The output must have
// the GFLOP/s and % of roof columns with numbers in them; speed is never
// asserted.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');

const ROOT = path.join(__dirname, '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let pkgDir;

beforeAll(() => {
  const packed = JSON.parse(execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'],
    { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  pkgDir = fs.mkdtempSync(path.join(os.tmpdir(), 'simdconv-installed-'));
  for (const { path: file } of packed[0].files) {
    fs.mkdirSync(path.dirname(path.join(pkgDir, file)), { recursive: true });
    fs.copyFileSync(path.join(ROOT, file), path.join(pkgDir, file));
  }
  // the binary this checkout loads (a prebuild, or build/Release when none is packed), at the
  // same place, and the dependencies npm would install
  const binary = path.relative(ROOT, require('node-gyp-build').resolve(ROOT));
  fs.mkdirSync(path.dirname(path.join(pkgDir, binary)), { recursive: true });
  fs.copyFileSync(path.join(ROOT, binary), path.join(pkgDir, binary));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(pkgDir, 'node_modules'), 'dir');
});

afterAll(() => {
  if (pkgDir) fs.rmSync(pkgDir, { recursive: true, force: true });
});

test('the tarball holds the benchmark and its suite, not the repository-only peer setup', () => {
  for (const f of ['bench/run.js', 'bench/suite.json', 'bench/onnx.js', 'bench/torch_bench.py', 'scripts/random.js',
    'bench/networks.js', 'bench/networks.json', 'bench/grid.js'])
    expect(fs.existsSync(path.join(pkgDir, f))).toBe(true);
  for (const f of ['bench/package.json', 'bench/package-lock.json', 'bench/setup.js', 'bench/fma_roof.c'])
    expect(fs.existsSync(path.join(pkgDir, f))).toBe(false);
});

test('simdconv bench --quick on one case: GFLOP/s and % of the FMA roof, ORT column skipped with a reason', () => {
  const r = spawnSync(process.execPath, [path.join(pkgDir, 'dist', 'cli.js'), 'bench', '--quick',
    '--cases', 'asym_1x7', '--threads', '1', '--rounds', '2', '--no-wait-idle', '--no-torch', '--no-event-loop', '--no-rss'],
  { cwd: os.tmpdir(), encoding: 'utf8', timeout: 120000, env: { ...process.env, PATH: '/usr/bin:/bin', CC: 'no-such-compiler' } });
  expect(r.stderr).not.toMatch(/no roof/);
  expect(r.status).toBe(0);
  const lines = r.stdout.split('\n');
  const head = lines.find((l) => l.startsWith('case'));
  expect(head).toMatch(/simdconv GFLOP\/s/);
  expect(head).toMatch(/% roof/);
  const cols = head.split(/\s{2,}/);
  const row = lines.find((l) => l.startsWith('asym_1x7')).split(/\s{2,}/);
  const gflops = Number(row[cols.indexOf('simdconv GFLOP/s')]);
  const roofPct = Number(row[cols.indexOf('% roof')]);
  expect(gflops).toBeGreaterThan(0);
  expect(roofPct).toBeGreaterThan(0);
  expect(Number(row[cols.indexOf('simdconv out= GFLOP/s')])).toBeGreaterThan(0); // forward(x, { out })
  expect(r.stdout).toMatch(/FMA roof\s+1 thr \d+ GFLOP\/s/);
  expect(r.stdout).toMatch(/onnxruntime-node is not installed/);
});

test('simdconv bench --network from the installed package: a total per network, its ConvTranspose2d layers timed too', () => {
  const r = spawnSync(process.execPath, [path.join(pkgDir, 'dist', 'cli.js'), 'bench', '--quick', '--network', 'unet',
    '--threads', '1', '--rounds', '1', '--no-wait-idle', '--no-torch', '--no-event-loop', '--no-rss'],
  { cwd: os.tmpdir(), encoding: 'utf8', timeout: 300000, env: { ...process.env, PATH: '/usr/bin:/bin', CC: 'no-such-compiler' } });
  expect(r.status).toBe(0);
  const lines = r.stdout.split('\n');
  const cols = lines.find((l) => l.startsWith('network')).split(/\s{2,}/);
  const row = lines.find((l) => l.startsWith('unet ')).split(/\s{2,}/);
  expect(row[cols.indexOf('convs (shapes)')]).toBe('23 (19)'); // 19 Conv2d + 4 ConvTranspose2d layers
  expect(Number(row[cols.indexOf('simdconv ms')])).toBeGreaterThan(0);
  expect(Number(row[cols.indexOf('simdconv out= ms')])).toBeGreaterThan(0);
  expect(row[cols.indexOf('ORT ms')]).toBe('—');
  expect(r.stderr).toMatch(/network unet: 23 convs in 19 shapes, 48\.\d+ GMAC \(4 of them ConvTranspose2d\)/);
  // the per-layer table times each up-conv on a transposed path
  const up = lines.find((l) => l.startsWith('up1.up ')).split(/\s{2,}/);
  expect(Number(up[3])).toBeGreaterThan(0);
  expect(up[up.length - 1]).toMatch(/^transposed-(gemm|direct)\//);
}, 300000);
