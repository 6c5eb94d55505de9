// The release's binaries (scripts/check-prebuilds.js, run by `npm pack` as
// prepack): npm refuses to pack without all three prebuilds; the check reads
// the same glibc versions, libraries and DLL imports as binutils does; the
// linux-x64 prebuild that jest loads (scripts/test.sh: PREBUILDS_ONLY=1) needs
// glibc <= 2.28 and nothing but glibc and libgcc_s; wrong binaries are refused.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync, execFileSync } = require('node:child_process');
const { TARGETS, readElf, readPe, checkBinary, checkPrebuilds } = require('../scripts/check-prebuilds');

const ROOT = path.join(__dirname, '..');
const CHECK = path.join(ROOT, 'scripts', 'check-prebuilds.js');
const prebuild = (target) => path.join(ROOT, 'prebuilds', target, TARGETS[target].file);
const present = Object.keys(TARGETS).filter((t) => fs.existsSync(prebuild(t)));
const onLinuxX64 = process.platform === 'linux' && process.arch === 'x64' && !fs.existsSync('/etc/alpine-release');
const has = (tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

let work;
beforeAll(() => { work = fs.mkdtempSync(path.join(os.tmpdir(), 'simdconv-prebuilds-')); });
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('prepack refuses a release without binaries', () => {
  test('npm pack (which runs prepack) fails and names every missing prebuild', () => {
    // A copy of the package's manifest and check, with an empty prebuilds/: what npm runs is tested.
    const pkgDir = path.join(work, 'pkg');
    fs.mkdirSync(path.join(pkgDir, 'scripts'), { recursive: true });
    fs.mkdirSync(path.join(pkgDir, 'prebuilds'));
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    fs.writeFileSync(path.join(pkgDir, 'package.json'), JSON.stringify({ name: pkg.name, version: pkg.version,
      files: pkg.files, scripts: { prepack: pkg.scripts.prepack } }));
    fs.copyFileSync(CHECK, path.join(pkgDir, 'scripts', 'check-prebuilds.js'));
    const r = spawnSync('npm', ['pack', '--dry-run', '--json'], { cwd: pkgDir, encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    for (const target of ['linux-x64', 'linux-arm64', 'win32-x64'])
      expect(r.stderr).toContain(`${target} (${path.join(pkgDir, 'prebuilds', target, TARGETS[target].file)})`);
    expect(r.stderr).toContain('npm run prebuilds');
  }, 60000);

  test('one missing target is named, the others are not', () => {
    const dir = path.join(work, 'partial');
    for (const t of present.filter((x) => x !== 'linux-arm64')) {
      fs.mkdirSync(path.join(dir, t), { recursive: true });
      fs.copyFileSync(prebuild(t), path.join(dir, t, TARGETS[t].file));
    }
    const missing = Object.keys(TARGETS).filter((t) => t === 'linux-arm64' || !present.includes(t));
    const r = spawnSync(process.execPath, [CHECK, '--dir', dir], { encoding: 'utf8', maxBuffer: 256 * 2 ** 20 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/missing prebuild\(s\): /);
    for (const t of Object.keys(TARGETS)) expect(r.stderr.includes(`${t} (`)).toBe(missing.includes(t));
  });
});

describe('the check reads binaries as binutils does', () => {
  const linux = present.filter((t) => t.startsWith('linux-'));
  test.each(linux)('%s: glibc versions and DT_NEEDED equal readelf -V / -d', (target) => {
    const file = prebuild(target);
    const elf = readElf(fs.readFileSync(file));
    const versionR = execFileSync('readelf', ['-V', '-W', file], { encoding: 'utf8', maxBuffer: 256 * 2 ** 20 }).split(/\.gnu\.version_r/)[1];
    const fromReadelf = [...versionR.matchAll(/Name: (\S+)\s+Flags/g)].map((m) => m[1]).sort();
    expect(elf.versions.map((v) => v.name).sort()).toEqual(fromReadelf);
    const needed = [...execFileSync('readelf', ['-d', '-W', file], { encoding: 'utf8', maxBuffer: 256 * 2 ** 20 })
      .matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
    expect(elf.needed).toEqual(needed);
    expect(elf.machine).toBe(TARGETS[target].machine);
  });

  (present.includes('win32-x64') && has('x86_64-w64-mingw32-objdump') ? test : test.skip)(
    'win32-x64: DLL imports and exports equal x86_64-w64-mingw32-objdump -p', () => {
      const file = prebuild('win32-x64');
      const pe = readPe(fs.readFileSync(file));
      const dump = execFileSync('x86_64-w64-mingw32-objdump', ['-p', file], { encoding: 'utf8', maxBuffer: 256 * 2 ** 20 });
      expect(pe.imports).toEqual([...dump.matchAll(/DLL Name: (\S+)/g)].map((m) => m[1]));
      const table = (dump.split('[Ordinal/Name Pointer] Table')[1] || '').split(/\n\s*\n/)[0];
      expect(pe.exports.sort()).toEqual([...table.matchAll(/\[\s*\d+\]\s+(\w+)$/gm)].map((m) => m[1]).sort());
      expect(pe).toMatchObject({ machine: 'x64', dll: true });
    });
});

describe('the Linux prebuilds need glibc <= 2.28 and nothing but glibc and libgcc_s', () => {
  (onLinuxX64 ? test : test.skip)('the linux-x64 prebuild exists and is what jest loads under scripts/test.sh', () => {
    expect(present).toContain('linux-x64');
    if (process.env.PREBUILDS_ONLY) expect(require('node-gyp-build').resolve(ROOT)).toBe(prebuild('linux-x64'));
  });

  test.each(present.filter((t) => t.startsWith('linux-')))('%s passes; its glibc floor is stated', (target) => {
    const r = checkBinary(target, prebuild(target), { maxGlibc: '2.28' });
    expect(r.problems).toEqual([]);
    console.log(`${target}: ${r.summary}`);
    // Below its own floor the same check refuses it: the limit is really applied.
    const [maj, min] = r.requiredGlibc.split('.').map(Number);
    const below = checkBinary(target, prebuild(target), { maxGlibc: `${maj}.${min - 1}` });
    expect(below.problems.join('\n')).toContain(`needs glibc ${r.requiredGlibc} > ${maj}.${min - 1}`);
  });

  // The native build (npm run build:native) links against this system's glibc; from 2.34 on that
  // puts pthread_create & co. at GLIBC_2.34 (see cmake/glibc-sysroot.cmake): the check must see it.
  const hostGlibc = onLinuxX64 ? process.report.getReport().header.glibcVersionRuntime : null;
  const nativeBuild = path.join(ROOT, 'build', 'Release', 'simdconv.node');
  (hostGlibc && Number(hostGlibc.split('.')[1]) >= 34 && fs.existsSync(nativeBuild) ? test : test.skip)(
    'a native build against this system\'s glibc (>= 2.34) is refused, naming the symbols', () => {
      const dir = path.join(work, 'native');
      fs.mkdirSync(path.join(dir, 'linux-x64'), { recursive: true });
      fs.copyFileSync(nativeBuild, path.join(dir, 'linux-x64', TARGETS['linux-x64'].file));
      const { ok, lines } = checkPrebuilds(dir, ['linux-x64']);
      expect(ok).toBe(false);
      expect(lines.join('\n')).toMatch(/needs glibc 2\.3\d > 2\.28 \(.*pthread_create@GLIBC_2\.34/);
    });

  test('a binary in the wrong platform folder is refused', () => {
    const from = present.find((t) => t !== 'linux-arm64');
    expect(from).toBeDefined();
    const dir = path.join(work, 'swapped');
    fs.mkdirSync(path.join(dir, 'linux-arm64'), { recursive: true });
    fs.copyFileSync(prebuild(from), path.join(dir, 'linux-arm64', TARGETS['linux-arm64'].file));
    const { ok, lines } = checkPrebuilds(dir, ['linux-arm64']);
    expect(ok).toBe(false);
    expect(lines.join('\n')).toMatch(from === 'win32-x64' ? /not an ELF file/ : /is an ELF for x86-64, not aarch64/);
  });
});
