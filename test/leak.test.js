// No leaks: 10,000 forward + 1,000 forwardAsync calls keep RSS flat. Runs in
// a child so jest's own allocations don't blur the number; the bound is
// generous, the measured growth is printed.
'use strict';
const { execFileSync } = require('node:child_process');
const path = require('node:path');

test('RSS stays flat over 10,000 forward and 1,000 forwardAsync calls', () => {
  const script = `
    const s = require('.');
    const conv = new s.Conv2d(8, 8, 3, { padding: 1 });
    const x = new s.Tensor(new Float32Array(8 * 16 * 16).fill(0.5), [1, 8, 16, 16]);
    const settle = () => { global.gc(); global.gc(); return process.memoryUsage().rss; };
    (async () => {
      for (let i = 0; i < 500; i++) conv.forward(x);               // warm up pools and scratch
      for (let i = 0; i < 50; i++) await conv.forwardAsync(x);
      const before = settle();
      for (let i = 0; i < 10000; i++) conv.forward(x);
      for (let i = 0; i < 1000; i += 10) await Promise.all(Array.from({ length: 10 }, () => conv.forwardAsync(x)));
      for (let i = 0; i < 200; i++) conv.loadStateDict({ weight: conv.weight, bias: conv.bias });
      const after = settle();
      console.log(JSON.stringify({ before, after, growth: after - before }));
    })();`;
  const out = execFileSync(process.execPath, ['--expose-gc', '-e', script], { cwd: path.join(__dirname, '..') });
  const { before, growth } = JSON.parse(out.toString());
  console.log(`RSS before ${(before / 2 ** 20).toFixed(1)} MiB, growth ${(growth / 2 ** 20).toFixed(2)} MiB`);
  expect(growth).toBeLessThan(16 * 2 ** 20);
});
