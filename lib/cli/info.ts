// `simdconv info` and `simdconv bench`.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { lib, packageRoot, packageVersion } from './common';

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
  console.log(`  threads:   ${info.threads} (${info.cpus} CPUs` +
    `${info.SIMDCONV_NUM_THREADS ? `; SIMDCONV_NUM_THREADS=${info.SIMDCONV_NUM_THREADS}` : ''})`);
  console.log(`  Node.js:   ${info.node} (Node-API ${info.napi}), ${info.platform}`);
  return 0;
}

export function benchCommand(args: string[]): number {
  const script = path.join(packageRoot, 'bench', 'run.js');
  if (!fs.existsSync(script)) {
    console.error(`simdconv bench: the benchmark suite (bench/run.js) is not in this installation (${packageRoot}).\n` +
      'It lives in the source repository: clone it, then `npm install && npm run bench` (or `npx simdconv bench`) there.');
    return 1;
  }
  const r = spawnSync(process.execPath, [script, ...args], { stdio: 'inherit' });
  if (r.error) {
    console.error(`simdconv bench: ${r.error.message}`);
    return 1;
  }
  return r.status ?? 1;
}
