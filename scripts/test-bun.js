#!/usr/bin/env bun
// simdconv under Bun (scripts/runtime-checks.js: PyTorch parity fixtures,
// forwardAsync, abort, worker_threads). Bun loads Node-API addons and the
// package's CommonJS build directly:
//
//   scripts/runtimes/node_modules/@oven/bun-linux-x64/bin/bun scripts/test-bun.js
//
// (scripts/test.sh installs the pinned Bun with `npm ci --prefix scripts/runtimes`.)
'use strict';
const { runChecks } = require('./runtime-checks');

if (typeof Bun === 'undefined') {
  console.error('scripts/test-bun.js: run this with bun, not node');
  process.exit(2);
}
runChecks(`bun ${Bun.version}`).then((failures) => process.exit(failures.length ? 1 : 0));
