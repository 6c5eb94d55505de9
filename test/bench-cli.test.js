// The bench's command line: its help names the modes, and a network it does
// not know is refused with the list of those it does (no timing happens).
'use strict';
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const RUN = path.join(__dirname, '..', 'bench', 'run.js');
const bench = (...args) => spawnSync(process.execPath, [RUN, ...args], { encoding: 'utf8', timeout: 60000 });

test('--help lists the whole-network mode and says which simdconv column is which call', () => {
  const r = bench('--help');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^\s+--networks\s/m);
  expect(r.stdout).toMatch(/^\s+--network a,b\s/m);
  for (const net of ['resnet50', 'mobilenetv2', 'resnet18_b8', 'unet']) expect(r.stdout).toContain(net);
  expect(r.stdout).toMatch(/forward\(x\)/);
  expect(r.stdout).toMatch(/forward\(x, \{ out \}\)/);
  expect(r.stdout).toMatch(/conv1d/);
  expect(r.stdout).toMatch(/conv_transpose2d/);
});

test('an unknown network is refused with the known ones', () => {
  const r = bench('--network', 'resnet50,vgg16', '--no-wait-idle');
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/unknown network\(s\) vgg16; known: resnet50, mobilenetv2, resnet18_b8, unet/);
});

test('--cases and --networks together are refused: the suite does not run in network mode', () => {
  const r = bench('--networks', '--cases', 'r50_stem');
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/--cases picks suite cases/);
});
