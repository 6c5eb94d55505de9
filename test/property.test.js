// Property tests: over random layers and inputs (every option of Conv2d), the
// production path agrees with the double-precision reference, async equals
// sync bitwise, the input is never modified, and the thread count does not
// change a single bit.
'use strict';
const fc = require('fast-check');
const { simdconv, randomTensor, reference, compare, magnitudeBound } = require('./helpers');

const pair = (lo, hi) => fc.oneof(fc.integer({ min: lo, max: hi }), fc.tuple(fc.integer({ min: lo, max: hi }), fc.integer({ min: lo, max: hi })));

const layerArb = fc.record({
  groupsKind: fc.constantFrom('one', 'one', 'grouped', 'depthwise'),
  groups: fc.integer({ min: 2, max: 4 }),
  inPerGroup: fc.integer({ min: 1, max: 19 }),
  outPerGroup: fc.integer({ min: 1, max: 21 }),
  multiplier: fc.integer({ min: 1, max: 3 }),
  kernel: pair(1, 5),
  stride: pair(1, 3),
  dilation: pair(1, 3),
  padding: fc.oneof(pair(0, 3), fc.constantFrom('valid', 'same')),
  paddingMode: fc.constantFrom('zeros', 'reflect', 'replicate', 'circular'),
  bias: fc.boolean(),
  batch: fc.constantFrom(null, 1, 2, 3),
  h: fc.integer({ min: 1, max: 24 }),
  w: fc.integer({ min: 1, max: 30 }),
  seed: fc.integer({ min: 1, max: 1e9 }),
});

function build(L) {
  let inC, outC, groups;
  if (L.groupsKind === 'one') [inC, outC, groups] = [L.inPerGroup, L.outPerGroup, 1];
  else if (L.groupsKind === 'grouped') [inC, outC, groups] = [L.inPerGroup * L.groups, L.outPerGroup * L.groups, L.groups];
  else [inC, outC, groups] = [L.inPerGroup, L.inPerGroup * L.multiplier, L.inPerGroup];
  const stride = L.padding === 'same' ? 1 : L.stride;
  const conv = new simdconv.Conv2d(inC, outC, L.kernel, {
    stride, padding: L.padding, dilation: L.dilation, groups, bias: L.bias, paddingMode: L.paddingMode,
  });
  const shape = L.batch === null ? [inC, L.h, L.w] : [L.batch, inC, L.h, L.w];
  return { conv, input: randomTensor(shape, L.seed) };
}

function validCase(L) {
  try {
    const { conv, input } = build(L);
    simdconv.conv2dOutputShape(input.shape, conv.weight.shape, { stride: conv.stride, dilation: conv.dilation,
      groups: conv.groups, padding: conv.padding });
    // the padding-mode limits are checked by forward itself
    return { conv, input, expected: reference(conv, input) };
  } catch {
    return null;
  }
}

describe(`production path vs reference (ISA ${simdconv.backendInfo().isa})`, () => {
  test('random layers agree within float32 rounding', () => {
    let checked = 0;
    fc.assert(fc.property(layerArb, (L) => {
      const c = validCase(L);
      fc.pre(c !== null);
      const { conv, input, expected } = c;
      const before = input.data.slice();
      const got = conv.forward(input);
      expect(got.data.length).toBe(expected.length);
      const { k, magnitude } = magnitudeBound(conv, input);
      const worst = compare(got.data, expected, k, magnitude);
      if (worst) throw new Error(`${conv} input [${input.shape}]: element ${worst.index} got ${worst.got} want ${worst.want} (err ${worst.err} > tol ${worst.tol})`);
      expect(input.data).toEqual(before);
      // forward(x) hands out memory that is not zero-filled: every element
      // must be written. An out that starts as NaN must come back equal.
      const poisoned = simdconv.Tensor.zeros(got.shape);
      poisoned.data.fill(NaN);
      conv.forward(input, { out: poisoned });
      expect(Buffer.from(poisoned.data.buffer).equals(Buffer.from(got.data.buffer))).toBe(true);
      checked++;
    }), { numRuns: 250, seed: 20261125 });
    expect(checked).toBeGreaterThan(100);
  });

  test('forwardAsync equals forward bitwise', async () => {
    await fc.assert(fc.asyncProperty(layerArb, async (L) => {
      const c = validCase(L);
      fc.pre(c !== null);
      const sync = c.conv.forward(c.input);
      const asyncOut = await c.conv.forwardAsync(c.input);
      expect(Buffer.compare(Buffer.from(asyncOut.data.buffer), Buffer.from(sync.data.buffer))).toBe(0);
    }), { numRuns: 40, seed: 7 });
  });

  test('results are bitwise identical for 1, 2 and 3 threads', () => {
    const saved = simdconv.getNumThreads();
    try {
      for (const [opts, shape] of [[{ padding: 1 }, [2, 24, 33, 29]], [{ groups: 24, padding: 2, dilation: 2 }, [1, 24, 40, 40]],
        [{ stride: 2, paddingMode: 'reflect', padding: 1 }, [1, 24, 31, 17]]]) {
        const conv = new simdconv.Conv2d(24, opts.groups ? 24 : 40, 3, opts);
        const x = randomTensor(shape, 3);
        const outs = [1, 2, 3].map((n) => { simdconv.setNumThreads(n); return conv.forward(x).data; });
        expect(Buffer.from(outs[1].buffer).equals(Buffer.from(outs[0].buffer))).toBe(true);
        expect(Buffer.from(outs[2].buffer).equals(Buffer.from(outs[0].buffer))).toBe(true);
      }
    } finally {
      simdconv.setNumThreads(saved);
    }
  });
});
