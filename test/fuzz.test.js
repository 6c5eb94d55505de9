// Hostile input never crashes: every public function, fed random junk —
// NaN/Infinity/negative/fractional/huge sizes, overflowing shapes, wrong types,
// other typed arrays, subarray views, detached and shared buffers — either
// works correctly or throws a clear JS Error (never a crash, never a hang).
'use strict';
const fc = require('fast-check');
const { simdconv, randomTensor, reference, compare, magnitudeBound } = require('./helpers');
const { Conv2d, Tensor, conv2d, conv2dOutputShape, setNumThreads, getNumThreads } = simdconv;

const hostileNumber = fc.oneof(
  fc.constantFrom(NaN, Infinity, -Infinity, -1, 0, 0.5, 1.5, -0.0, 2 ** 31, 2 ** 32 + 1, 2 ** 53, Number.MAX_VALUE, 1e-300),
  fc.integer({ min: -4, max: 9 }),
);
const hostileValue = fc.oneof(
  hostileNumber,
  fc.constantFrom(null, undefined, '3', 'same', 'valid', 'zeros', true, [], [1], [1, 2, 3], [NaN, 1], {}, () => 1, Symbol.iterator),
  fc.tuple(hostileNumber, hostileNumber),
);
const hostileData = fc.oneof(
  fc.constantFrom('f32', 'f64', 'i32', 'u8', 'view', 'shared', 'detached', 'array', 'null'),
);

function makeData(kind, n) {
  const len = Math.min(Math.max(0, n | 0), 4096);
  switch (kind) {
    case 'f32': return new Float32Array(len).fill(0.25);
    case 'f64': return new Float64Array(len);
    case 'i32': return new Int32Array(len);
    case 'u8': return new Uint8Array(len);
    case 'view': return new Float32Array(len + 3).fill(0.5).subarray(3);
    case 'shared': return new Float32Array(new SharedArrayBuffer(len * 4)).fill(0.5);
    case 'detached': { const a = new Float32Array(len); structuredClone(a.buffer, { transfer: [a.buffer] }); return a; }
    case 'array': return new Array(len).fill(0);
    default: return null;
  }
}

// Either succeeds or throws a real Error with a message naming something.
function expectCleanOutcome(fn) {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    expect(e).toBeInstanceOf(Error);
    expect(typeof e.message).toBe('string');
    expect(e.message.length).toBeGreaterThan(10);
    return { ok: false, error: e };
  }
}

test('Conv2d constructor with hostile arguments', () => {
  fc.assert(fc.property(hostileValue, hostileValue, hostileValue,
    fc.record({ stride: hostileValue, padding: hostileValue, dilation: hostileValue, groups: hostileValue,
      bias: fc.constantFrom(true, false, 0, 'no'), paddingMode: hostileValue }, { requiredKeys: [] }),
    (a, b, k, opts) => {
      const r = expectCleanOutcome(() => new Conv2d(a, b, k, opts));
      if (r.ok) expect(String(r.value)).toMatch(/^Conv2d\(/);
    }), { numRuns: 400, seed: 1 });
});

test('Tensor and forward with hostile data, shapes and views', () => {
  const conv = new Conv2d(2, 3, 2, { padding: 1 });
  fc.assert(fc.property(hostileData, fc.array(hostileNumber, { maxLength: 5 }), hostileData, (kind, shape, outKind) => {
    const data = makeData(kind, Array.isArray(shape) ? shape.reduce((p, d) => (Number.isFinite(d) ? p * Math.abs(d) : p), 1) : 0);
    const t = expectCleanOutcome(() => new Tensor(data, shape));
    if (!t.ok) return;
    const detached = t.value.data.buffer.byteLength === 0 && kind === 'detached';
    const before = detached ? [] : Array.from(t.value.data);
    const out = makeData(outKind, 3 * 64);
    const outTensor = out instanceof Float32Array ? expectCleanOutcome(() => new Tensor(out, [out.length])) : { ok: false };
    const r = expectCleanOutcome(() => conv.forward(t.value, outTensor.ok ? { out: outTensor.value } : undefined));
    if (r.ok) {
      const x = t.value;
      const worst = compare(r.value.data, reference(conv, x), ...Object.values(magnitudeBound(conv, x)));
      expect(worst).toBeNull();
    }
    if (!detached) expect(Array.from(t.value.data)).toEqual(before);
  }), { numRuns: 400, seed: 2 });
});

test('subarray views with a byteOffset and SharedArrayBuffer-backed arrays compute correctly', () => {
  const conv = new Conv2d(2, 3, 3, { padding: 1, paddingMode: 'reflect' });
  const base = randomTensor([1, 2, 6, 7], 4);
  const want = conv.forward(base).data;
  const big = new Float32Array(base.data.length + 5);
  big.set(base.data, 5);
  expect(conv.forward(new Tensor(big.subarray(5), [1, 2, 6, 7])).data).toEqual(want);
  const shared = new Float32Array(new SharedArrayBuffer(base.data.length * 4));
  shared.set(base.data);
  expect(conv.forward(new Tensor(shared, [1, 2, 6, 7])).data).toEqual(want);
  const outShared = new Tensor(new Float32Array(new SharedArrayBuffer(want.length * 4)), [1, 3, 6, 7]);
  expect(conv.forward(base, { out: outShared }).data).toEqual(want);
});

test('a tensor whose data was detached after construction is an error, not a crash', async () => {
  const conv = new Conv2d(1, 1, 1);
  const x = new Tensor(new Float32Array(4), [1, 1, 2, 2]);
  structuredClone(x.data.buffer, { transfer: [x.data.buffer] });
  expect(() => conv.forward(x)).toThrow(/tensor data has 0 elements but its shape \[1, 1, 2, 2\] needs 4/);
  await expect(conv.forwardAsync(x)).rejects.toThrow(/needs 4/);
});

test('functional API, shape formula and threads with hostile arguments', () => {
  fc.assert(fc.property(fc.array(hostileNumber, { maxLength: 5 }), fc.array(hostileNumber, { maxLength: 5 }),
    fc.record({ stride: hostileValue, padding: hostileValue, dilation: hostileValue, groups: hostileValue }, { requiredKeys: [] }),
    hostileValue, (inShape, wShape, opts, n) => {
      const s = expectCleanOutcome(() => conv2dOutputShape(inShape, wShape, opts));
      if (s.ok) expect(s.value.every((d) => Number.isInteger(d) && d >= 0)).toBe(true);
      const x = expectCleanOutcome(() => Tensor.zeros(inShape));
      const w = expectCleanOutcome(() => Tensor.zeros(wShape));
      if (x.ok && w.ok && x.value.data.length <= 1 << 16 && w.value.data.length <= 1 << 12) {
        const r = expectCleanOutcome(() => conv2d(x.value, w.value, null, opts));
        if (r.ok && s.ok) expect(r.value.shape).toEqual(s.value);
      }
      const saved = getNumThreads();
      const t = expectCleanOutcome(() => setNumThreads(n));
      if (t.ok) expect(getNumThreads()).toBe(n);
      setNumThreads(saved);
    }), { numRuns: 400, seed: 3 });
});

test('sizes whose element count or workspace would be absurd throw a RangeError before allocating', () => {
  expect(() => conv2dOutputShape([1, 1, 2 ** 31, 2 ** 31], [1, 1, 1, 1])).toThrow(RangeError);
  expect(() => Tensor.zeros([65536, 65536, 2])).toThrow(RangeError);
  expect(() => new Conv2d(65536, 65536, 3)).toThrow(RangeError);
});
