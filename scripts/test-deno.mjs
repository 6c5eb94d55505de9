// simdconv under Deno (scripts/runtime-checks.js: PyTorch parity fixtures,
// forwardAsync, abort, worker_threads), the package loaded the way a Deno
// program loads a CommonJS npm package with a Node-API addon: createRequire
// from node:module. Permissions: read (package files, fixtures), env
// (SIMDCONV_* and node-gyp-build's lookups), ffi (the .node addon), sys
// (os.cpus and friends):
//
//   scripts/runtimes/node_modules/@deno/linux-x64-glibc/deno run \
//     --allow-read --allow-env --allow-ffi --allow-sys scripts/test-deno.mjs
//
// (scripts/test.sh installs the pinned Deno with `npm ci --prefix scripts/runtimes`.)
import { createRequire } from 'node:module';

if (typeof Deno === 'undefined') {
  console.error('scripts/test-deno.mjs: run this with deno, not node');
  process.exit(2);
}
const require = createRequire(import.meta.url);
const { runChecks } = require('./runtime-checks.js');
const failures = await runChecks(`deno ${Deno.version.deno}`);
Deno.exit(failures.length ? 1 : 0);
