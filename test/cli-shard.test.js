// Batch jobs beyond one process: `simdconv run` / `filter` take their inputs
// from a list file or stdin (--inputs-from) and do one shard of them
// (--shard INDEX/COUNT), the same split in every worker without coordination.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { simdconv } = require('./helpers');
const { ROOT, CLI, runCli } = require('./cli-helpers');

const { Conv2d, Tensor, saveNpy, loadNpy, loadSafetensors } = simdconv;
const MODEL = path.join(__dirname, 'fixtures', 'io', 'model_f32.safetensors');
const SAMPLE = path.join(ROOT, 'data', 'sample.png');
const LAYER = ['--weights', MODEL, '--prefix', 'stem.', '--padding', '1'];

let tmp, inputs, names;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'simdconv-cli-shard-'));
  inputs = path.join(tmp, 'in');
  fs.mkdirSync(inputs);
  // Names whose sorted order differs from the order written and from numeric order.
  names = ['k.npy', 'b10.npy', 'b9.npy', 'Z.npy', 'a b.npy', 'm.npy', 'c.npy'];
  names.forEach((n, i) => fs.writeFileSync(path.join(inputs, n), saveNpy(new Tensor(new Float32Array(3 * 4 * 4).fill(i + 1), [1, 3, 4, 4]))));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const cli = (args, opts = {}) => runCli(args, { cwd: tmp, ...opts });
let seq = 0;
const outDir = () => path.join(tmp, `out-${seq++}`);
const listFile = (lines, sep = '\n') => {
  const f = path.join(tmp, `list-${seq++}.txt`);
  fs.writeFileSync(f, lines.join(sep));
  return f;
};
const inPaths = () => names.map((n) => path.join(inputs, n));
/** The files written, as `ok` lines report them: [input basename, ...]. */
const written = (stdout) => [...stdout.matchAll(/^ok {4}(.+?) -> /gm)].map((m) => path.basename(m[1]));

describe('--inputs-from', () => {
  test('a list file: one path per line (CRLF, empty lines and a name with a space), with command-line inputs too', () => {
    const [first, ...rest] = inPaths();
    const list = listFile(['', ...rest.slice(0, 3).map((p) => `${p}\r`), '', ...rest.slice(3), ''], '\n');
    const out = outDir();
    const r = cli(['run', ...LAYER, first, '--inputs-from', list, '--out-dir', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/, 7 files, \d+ threads/);
    expect(fs.readdirSync(out).sort()).toEqual([...names].sort());
    const conv = new Conv2d(3, 8, 3, { padding: 1 });
    conv.loadStateDict(loadSafetensors(MODEL), { prefix: 'stem.' });
    for (const n of names) expect(loadNpy(path.join(out, n)).data).toEqual(conv.forward(loadNpy(path.join(inputs, n))).data);
  });

  test('stdin (-), with relative paths from the current directory; NUL-separated lists (find -print0)', () => {
    const out = outDir();
    const r = cli(['run', ...LAYER, '--inputs-from', '-', '--out-dir', out], { input: names.map((n) => `in/${n}`).join('\n') });
    expect(r.code).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual([...names].sort());
    const out2 = outDir();
    const nul = cli(['run', ...LAYER, '--inputs-from', '-', '--out-dir', out2], { input: `${inPaths().join('\0')}\0` });
    expect(nul.code).toBe(0);
    expect(fs.readdirSync(out2).sort()).toEqual([...names].sort());
  });

  test('an empty list is an empty batch (exit 0); no inputs at all, or a list that cannot be read, is a usage error', () => {
    const empty = cli(['run', ...LAYER, '--inputs-from', '-', '--out-dir', outDir()], { input: '\n\n' });
    expect(empty.code).toBe(0);
    expect(empty.stdout).toMatch(/run: 0 files in /);
    const none = cli(['run', ...LAYER, '--out-dir', outDir()]);
    expect(none.stderr).toMatch(/missing required argument 'inputs': give the files, or --inputs-from LIST \(- for stdin\)/);
    expect(none.code).toBe(2);
    const missing = cli(['run', ...LAYER, '--inputs-from', path.join(tmp, 'no-such-list'), '--out-dir', outDir()]);
    expect(missing.stderr).toMatch(/--inputs-from .*no-such-list: ENOENT/);
    expect(missing.code).toBe(2);
  });
});

describe('--shard INDEX/COUNT', () => {
  // The split the option promises: sorted by file name (UTF-16 code units), every COUNT-th from INDEX.
  const expectedShard = (index, count) => [...names].sort().filter((_, rank) => rank % count === index);

  test('COUNT workers over one list write every file exactly once, each worker its sorted-name share', () => {
    const out = outDir();
    const list = listFile(inPaths());
    const seen = [];
    for (let index = 0; index < 3; index++) {
      const r = cli(['run', ...LAYER, '--inputs-from', list, '--shard', `${index}/3`, '--out-dir', out]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`shard ${index}/3: ${expectedShard(index, 3).length} of 7 files`);
      expect(written(r.stdout).sort()).toEqual(expectedShard(index, 3)); // files finish in any order (--jobs)
      seen.push(...written(r.stdout));
    }
    expect(seen.sort()).toEqual([...names].sort());
    expect(fs.readdirSync(out).sort()).toEqual([...names].sort());
  });

  test('the split does not depend on the order of the list or on how the paths are spelled', () => {
    const reversed = listFile(names.map((n) => `./in/${n}`).reverse());
    const absolute = listFile(inPaths());
    for (let index = 0; index < 4; index++) {
      const a = cli(['run', ...LAYER, '--inputs-from', reversed, '--shard', `${index}/4`, '--out-dir', outDir()]);
      const b = cli(['run', ...LAYER, ...inPaths(), '--shard', `${index}/4`, '--out-dir', outDir()]);
      const c = cli(['run', ...LAYER, '--inputs-from', absolute, '--shard', `${index}/4`, '--out-dir', outDir()]);
      expect(written(a.stdout).sort()).toEqual(expectedShard(index, 4));
      expect(written(b.stdout).sort()).toEqual(expectedShard(index, 4));
      expect(written(c.stdout).sort()).toEqual(expectedShard(index, 4));
    }
  });

  test('more shards than files: the extra workers succeed with nothing to do', () => {
    const r = cli(['run', ...LAYER, ...inPaths(), '--shard', '9/10', '--out-dir', outDir()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('shard 9/10: 0 of 7 files');
  });

  test('the Kubernetes form: the completion index from the environment', () => {
    const out = outDir();
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${CLI}" run --weights "${MODEL}" --prefix stem. --padding 1 ` +
      `--inputs-from - --shard "$JOB_COMPLETION_INDEX/2" --out-dir "${out}"`], {
      cwd: tmp, encoding: 'utf8', input: inPaths().join('\n'), env: { ...process.env, JOB_COMPLETION_INDEX: '1' },
    });
    expect(r.status).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(expectedShard(1, 2).sort());
  });

  test('filter takes the same options', () => {
    const dir = path.join(tmp, 'images');
    fs.mkdirSync(dir);
    const images = ['p.png', 'q.png', 'r.png'].map((n) => {
      fs.copyFileSync(SAMPLE, path.join(dir, n));
      return path.join(dir, n);
    });
    const out = outDir();
    const r = cli(['filter', '--kernel', 'sobel', '--inputs-from', '-', '--shard', '1/2', '--out-dir', out], { input: images.join('\n') });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('shard 1/2: 1 of 3 images');
    expect(fs.readdirSync(out)).toEqual(['q.png']);
  });

  test.each([
    ['INDEX = COUNT', '3/3'], ['COUNT 0', '0/0'], ['a negative index', '-1/2'], ['not numbers', 'a/b'],
    ['a fraction', '1.5/3'], ['no COUNT', '2'], ['three parts', '1/2/3'],
  ])('a bad --shard (%s) is a usage error', (_, value) => {
    const out = outDir();
    const r = cli(['run', ...LAYER, ...inPaths(), `--shard=${value}`, '--out-dir', out]);
    expect(r.stderr).toMatch(/option '--shard <index\/count>' argument .* is invalid. expected INDEX\/COUNT with COUNT >= 1 and 0 <= INDEX < COUNT/);
    expect(r.code).toBe(2);
    expect(fs.existsSync(out)).toBe(false);
  });

  test('two inputs with one file name are refused by every worker, also when they fall in different shards', () => {
    const other = path.join(tmp, 'other');
    fs.mkdirSync(other);
    fs.copyFileSync(path.join(inputs, 'k.npy'), path.join(other, 'k.npy'));
    const list = listFile([...inPaths(), path.join(other, 'k.npy')]);
    for (let index = 0; index < 4; index++) {
      const r = cli(['run', ...LAYER, '--inputs-from', list, '--shard', `${index}/4`, '--out-dir', outDir()]);
      expect(r.stderr).toMatch(/two inputs have the same file name, '.*in\/k.npy' and '.*other\/k.npy'/);
      expect(r.code).toBe(2);
    }
  });
});
