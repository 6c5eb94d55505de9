// `simdconv info` and `simdconv bench`.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { lib, packageRoot, packageVersion } from './common';
import type { BackendInfo, CpuInfo } from '../threads';

export function infoCommand(o: { json?: boolean }): number {
  const simdconv = lib(); // throws the loader's explanation when no binary fits
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nodeGypBuild = require('node-gyp-build') as { resolve(dir: string): string };
  const b = simdconv.backendInfo();
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  const glibc = report?.header?.glibcVersionRuntime;
  const info = {
    version: packageVersion(),
    package: packageRoot,
    binary: nodeGypBuild.resolve(packageRoot),
    isa: b.isa,
    supportedIsas: b.supportedIsas,
    threads: b.numThreads,
    threadsSource: b.threadsSource,
    threadLimits: b.threadLimits,
    cpu: b.cpu,
    cpus: os.cpus().length,
    SIMDCONV_NUM_THREADS: process.env.SIMDCONV_NUM_THREADS ?? null,
    SIMDCONV_MAX_ISA: process.env.SIMDCONV_MAX_ISA ?? null,
    node: process.version,
    napi: process.versions.napi,
    platform: `${process.platform}-${process.arch}${glibc ? ` (glibc ${glibc})` : process.platform === 'linux' ? ' (musl)' : ''}`,
  };
  if (o.json) {
    console.log(JSON.stringify(info, null, 2));
    return 0;
  }
  console.log(`simdconv ${info.version}`);
  console.log(`  package:   ${info.package}`);
  console.log(`  binary:    ${info.binary}`);
  console.log(`  ISA:       ${info.isa} (supported on this CPU: ${info.supportedIsas.join(', ')}` +
    `${info.SIMDCONV_MAX_ISA ? `; capped by SIMDCONV_MAX_ISA=${info.SIMDCONV_MAX_ISA}` : ''})`);
  console.log(`  threads:   ${info.threads} (${threadsLine(b)})`);
  console.log(`  CPU:       ${cpuLine(b.cpu)}`);
  console.log(`  caches:    ${cacheLine(b.cpu)}`);
  console.log(`  512-bit FMAs at full width: ${b.cpu.fma512.fullWidth} (${b.cpu.fma512.rule})`);
  console.log(`  Node.js:   ${info.node} (Node-API ${info.napi}), ${info.platform}`);
  return 0;
}

function threadsLine(b: BackendInfo): string {
  const l = b.threadLimits;
  const limits = [`${l.cores} cores`, `affinity mask ${l.affinity ?? 'unknown'}`,
    l.cgroupCpus ? `cgroup v${l.cgroupVersion} quota ${+l.cgroupCpus.toFixed(2)} CPUs` : 'no cgroup CPU quota'].join(', ');
  switch (b.threadsSource) {
    case 'env': return `from SIMDCONV_NUM_THREADS=${process.env.SIMDCONV_NUM_THREADS}; ${limits}`;
    case 'setNumThreads': return `set by setNumThreads; ${limits}`;
    default: return `the default, set by the ${b.threadsSource === 'cores' ? 'core count' :
      b.threadsSource === 'affinity' ? 'affinity mask' : 'cgroup CPU quota'}: ${limits}`;
  }
}

function cpuLine(c: CpuInfo): string {
  const id = [c.family !== null ? `family ${hex(c.family)}` : '', c.model !== null ? `model ${hex(c.model)}` : '',
    c.stepping !== null ? `stepping ${c.stepping}` : ''].filter(Boolean).join(' ');
  return `${c.brand || 'unknown model'} (${[c.vendor || 'unknown vendor', id, c.arch].filter(Boolean).join(', ')}), ` +
    `${c.logicalCores} logical cores`;
}

function cacheLine(c: CpuInfo): string {
  const size = (n: number | null) => (n === null ? 'unknown' : n >= 1 << 20 ? `${n / (1 << 20)} MiB` : `${n / 1024} KiB`);
  const k = c.cachesBytes;
  return `L1d ${size(k.l1d)}, L2 ${size(k.l2)}, L3 ${size(k.l3)}${k.source ? ` (${k.source})` : ''}`;
}

const hex = (n: number) => `0x${n.toString(16)}`;

export function benchCommand(args: string[]): number {
  const script = path.join(packageRoot, 'bench', 'run.js');
  if (!fs.existsSync(script)) {
    console.error(`simdconv bench: the benchmark (bench/run.js) is missing from this installation (${packageRoot}); ` +
      'it ships with the package: reinstall simdconv, or run `npm run bench` in a clone of the repository.');
    return 1;
  }
  const r = spawnSync(process.execPath, [script, ...args], { stdio: 'inherit' });
  if (r.error) {
    console.error(`simdconv bench: ${r.error.message}`);
    return 1;
  }
  return r.status ?? 1;
}
