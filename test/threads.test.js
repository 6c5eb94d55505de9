// The default thread count follows the CPU affinity mask (taskset) and the
// cgroup CPU quota (containers), and backendInfo() says which set it. Each
// case runs in a child process, because the default is worked out once per
// process.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { simdconv } = require('./helpers');

const PKG = path.join(__dirname, '..');
const PRINT = `const s = require(${JSON.stringify(PKG)}); const b = s.backendInfo();
  console.log(JSON.stringify({ n: s.getNumThreads(), source: b.threadsSource, limits: b.threadLimits }));`;
const cores = simdconv.backendInfo().threadLimits.cores;
const hasTaskset = spawnSync('taskset', ['--version']).status === 0;

function child(argv, env = {}) {
  const e = { ...process.env, ...env };
  if (!('SIMDCONV_NUM_THREADS' in env)) delete e.SIMDCONV_NUM_THREADS;
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env: e, timeout: 60000 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

describe('default thread count', () => {
  test('backendInfo: the default is the smallest limit, and says which', () => {
    const r = child([process.execPath, '-e', PRINT]);
    const { affinity, cgroupCpus, cores: c } = r.limits;
    const want = Math.max(1, Math.min(c, affinity || Infinity, cgroupCpus ? Math.ceil(cgroupCpus) : Infinity));
    expect(r.n).toBe(want);
    expect(['cores', 'affinity', 'cgroup']).toContain(r.source);
    expect(c).toBe(os.cpus().length);
  });

  (hasTaskset ? test : test.skip)('taskset -c 0: one thread, from the affinity mask', () => {
    const r = child(['taskset', '-c', '0', process.execPath, '-e', PRINT]);
    expect(r.n).toBe(1);
    expect(r.limits.affinity).toBe(1);
    expect(r.source).toBe(cores > 1 ? 'affinity' : 'cores');
  });

  (hasTaskset && cores >= 2 ? test : test.skip)('taskset -c 0,1: two threads', () => {
    const r = child(['taskset', '-c', '0,1', process.execPath, '-e', PRINT]);
    expect(r.n).toBe(2);
    expect(r.limits.affinity).toBe(2);
    expect(r.source).toBe(cores > 2 ? 'affinity' : 'cores');
  });

  (hasTaskset ? test : test.skip)('SIMDCONV_NUM_THREADS overrides the mask; setNumThreads overrides both', () => {
    const r = child(['taskset', '-c', '0', process.execPath, '-e', PRINT], { SIMDCONV_NUM_THREADS: '3' });
    expect(r).toMatchObject({ n: 3, source: 'env' });
    const s = child(['taskset', '-c', '0', process.execPath, '-e', `require(${JSON.stringify(PKG)}).setNumThreads(5);${PRINT}`]);
    expect(s).toMatchObject({ n: 5, source: 'setNumThreads' });
  });
});

// A writable cpu controller: cgroup v1's "cpu" hierarchy, or a cgroup v2
// mount that offers the cpu controller to its children. Needs root.
function cpuController() {
  if (process.getuid?.() !== 0) return { skip: 'not root' };
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => {
    const f = l.split(' ');
    const dash = f.indexOf('-', 6);
    return dash < 0 ? null : { point: f[4], type: f[dash + 1], opts: (f[dash + 3] || '').split(',') };
  }).filter(Boolean);
  const v1 = mounts.find((m) => m.type === 'cgroup' && m.opts.includes('cpu'));
  if (v1 && fs.existsSync(path.join(v1.point, 'cpu.cfs_quota_us'))) return { version: 1, root: v1.point };
  const v2 = mounts.find((m) => m.type === 'cgroup2');
  if (v2) {
    try {
      if (fs.readFileSync(path.join(v2.point, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('cpu')) {
        fs.writeFileSync(path.join(v2.point, 'cgroup.subtree_control'), '+cpu');
        return { version: 2, root: v2.point };
      }
    } catch (err) {
      return { skip: `cgroup v2 at ${v2.point} does not give its children the cpu controller (${err.code || err.message})` };
    }
  }
  return { skip: 'no cgroup cpu controller mounted' };
}

describe('cgroup CPU quota', () => {
  const ctl = cpuController();
  let dir = null;
  let made = null;
  if (!ctl.skip) {
    // create the child cgroup up front: a read-only or delegated hierarchy means skip, not fail
    dir = path.join(ctl.root, `simdconv-test-${process.pid}`);
    try {
      fs.mkdirSync(dir);
      if (ctl.version === 1) {
        fs.writeFileSync(path.join(dir, 'cpu.cfs_period_us'), '100000');
        fs.writeFileSync(path.join(dir, 'cpu.cfs_quota_us'), '100000');
      } else {
        fs.writeFileSync(path.join(dir, 'cpu.max'), '100000 100000');
      }
      made = dir;
    } catch (err) {
      ctl.skip = `cannot set up a cgroup under ${ctl.root}: ${err.code || err.message}`;
      try { fs.rmdirSync(dir); } catch { /* not made */ }
    }
  }
  if (ctl.skip) console.log(`skipping the cgroup quota test: ${ctl.skip}`);
  afterAll(() => {
    // the child has exited, so the cgroup is empty and can go
    if (made) fs.rmdirSync(made);
  });
  const usable = !ctl.skip && cores >= 2;
  if (!ctl.skip && cores < 2) console.log('skipping the cgroup quota test: one core, so a 1-CPU quota limits nothing');

  (usable ? test : test.skip)('a quota of 1 CPU: one thread, from the cgroup', () => {
    // Every core in the child's affinity mask (the suite may itself run under
    // taskset -c 0), so that the quota, not the mask, is the tightest limit.
    const widen = hasTaskset ? `taskset -c 0-${cores - 1} ` : '';
    const script = `echo $$ > '${path.join(made, 'cgroup.procs')}' && exec ${widen}'${process.execPath}' -e "$0"`;
    const r = child(['sh', '-c', script, PRINT]);
    if (!hasTaskset) expect(r.limits.affinity).toBeGreaterThan(1);
    expect(r.limits.cgroupCpus).toBe(1);
    expect(r.limits.cgroupVersion).toBe(ctl.version);
    expect(r).toMatchObject({ n: 1, source: 'cgroup' });
  });
});
