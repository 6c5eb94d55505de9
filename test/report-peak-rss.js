// Preloaded (node --require) by runCli({ peakMemory: true }) in test/cli-helpers.js:
// writes the process's peak resident set in KiB (getrusage maxrss) at exit.
'use strict';
const fs = require('node:fs');

process.on('exit', () => {
  fs.writeFileSync(process.env.SIMDCONV_TEST_RSS_FILE, String(process.resourceUsage().maxRSS));
});
