// The ISA cap: SIMDCONV_MAX_ISA selects the kernels every numeric suite runs
// on, so each run of the suite under a cap really tests that path.
'use strict';
const { simdconv } = require('./helpers');

test('the active ISA honours SIMDCONV_MAX_ISA and is supported by this CPU', () => {
  const info = simdconv.backendInfo();
  expect(info.supportedIsas).toContain('scalar');
  expect(info.supportedIsas).toContain(info.isa);
  const cap = process.env.SIMDCONV_MAX_ISA;
  if (cap) expect(info.isa).toBe(cap);
  const conv = new simdconv.Conv2d(4, 4, 3);
  expect(conv.backend.isa).toBe(info.isa);
});
