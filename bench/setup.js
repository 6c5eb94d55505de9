#!/usr/bin/env node
// `npm run bench:setup`: installs the benchmark's peers (bench/package.json,
// pinned by bench/package-lock.json) into bench/node_modules, where
// bench/run.js finds them.
//
// onnxruntime-node's postinstall downloads GPU execution providers (CUDA,
// TensorRT) that the CPU benchmark never loads; its CPU binary is in the
// package itself. npm 11 does not run the script (bench/package.json's
// allowScripts denies it); for older npm, ONNXRUNTIME_NODE_INSTALL=skip tells
// the script to do nothing (an .npmrc key would work too, but npm warns
// "Unknown project config" about it on every command).
'use strict';
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const r = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], {
  cwd: __dirname,
  stdio: 'inherit',
  shell: process.platform === 'win32',
  env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
});
if (r.error) {
  console.error(`bench/setup.js: could not run npm in ${path.relative(process.cwd(), __dirname) || '.'}: ${r.error.message}`);
  process.exit(1);
}
process.exit(r.status ?? 1);
