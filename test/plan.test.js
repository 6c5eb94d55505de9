// conv.plan(inputShape): the native plan of one call as a plain object, for
// Conv2d and Conv1d; it follows the thread count, the input shape and the
// layer, and checks the shape as forward() does.
'use strict';
const { simdconv, reference, compare, magnitudeBound } = require('./helpers');

const { Conv2d, Conv1d, Tensor, getNumThreads, setNumThreads } = simdconv;
const isa = simdconv.backendInfo().isa;
const simd = isa === 'avx2' || isa === 'avx512';

describe('conv.plan', () => {
  const saved = getNumThreads();
  afterEach(() => setNumThreads(saved));

  test('reports the layer\'s algorithm, ISA, thread count, tasks and workspace', () => {
    const conv = new Conv2d(64, 64, 3, { padding: 1 });
    setNumThreads(1);
    const p = conv.plan([1, 64, 28, 28]);
    expect(p.algorithm).toBe(conv.backend.algorithm);
    expect(p.layerAlgorithm).toBe(conv.backend.algorithm);
    expect(p.isa).toBe(conv.backend.isa);
    expect(p.threads).toBe(1);
    expect(typeof p.microkernel).toBe('string');
    expect(p.microkernel.length).toBeGreaterThan(0);
    expect(Number.isSafeInteger(p.tasks) && p.tasks >= 1).toBe(true);
    expect(Number.isSafeInteger(p.workspaceBytes) && p.workspaceBytes >= 0).toBe(true);
    expect(p.gemmFallback).toBe(false);
    expect(typeof p.blocking).toBe('object');
    // unbatched [C, H, W] is a batch of one
    expect(conv.plan([64, 28, 28])).toEqual(p);
  });

  test('is made for the current thread count', () => {
    const conv = new Conv2d(32, 48, 3, { padding: 1 });
    setNumThreads(1);
    const one = conv.plan([1, 32, 20, 20]);
    setNumThreads(3);
    const three = conv.plan([1, 32, 20, 20]);
    expect(one.threads).toBe(1);
    expect(three.threads).toBe(3);
    expect(three.tasks).toBeGreaterThanOrEqual(one.tasks);
    setNumThreads(1);
    expect(conv.plan([1, 32, 20, 20])).toEqual(one);
  });

  test('flags: B in place for a 1x1 layer, the GEMM fallback for a huge padded row', () => {
    setNumThreads(1);
    const pw = new Conv2d(64, 96, 1);
    const p = pw.plan([1, 64, 9, 11]);
    expect(p.algorithm).toBe('im2col-gemm');
    expect(p.bInPlace).toBe(simd);  // the SIMD GEMMs read B in place
    // stride 1000 over 3000 columns of padding: 7 output columns, the band would hold 6000
    const wide = new Conv2d(8, 8, 3, { stride: 1000, padding: [0, 3000] });
    const f = wide.plan([1, 8, 3, 2]);
    expect(f.algorithm).toBe('im2col-gemm');
    expect(f.layerAlgorithm).toBe(wide.backend.algorithm);
    expect(f.gemmFallback).toBe(wide.backend.algorithm !== 'im2col-gemm');
    // and the call it plans matches the reference
    const x = new Tensor(Float32Array.from({ length: 48 }, (_, i) => (i % 7) - 3), [1, 8, 3, 2]);
    const { k, magnitude } = magnitudeBound(wide, x);
    expect(compare(wide.forward(x).data, reference(wide, x), k, magnitude)).toBeNull();
  });

  test('depthwise 3x3 and 5x5, stride 1 and 2, zero padding: the in-place kernel on every SIMD ISA', () => {
    setNumThreads(2);
    for (const [k, stride, padding] of [[3, 2, 1], [3, 1, 1], [5, 1, 2], [5, 2, 2], [3, 1, 0], [5, 2, 4]]) {
      const dw = new Conv2d(32, 32, k, { stride, padding, groups: 32 });
      const p = dw.plan([1, 32, 33, 30]);
      expect(p.algorithm).toBe('depthwise-direct');
      expect(p.inPlaceDepthwise).toBe(isa !== 'scalar');
      expect(p.workspaceBytes === 0).toBe(p.inPlaceDepthwise);
      expect(p.blocking.bands).toBeGreaterThanOrEqual(1);
    }
    // other padding modes, dilation and other kernel sizes keep the padded copy
    for (const opts of [{ padding: 1, paddingMode: 'reflect' }, { padding: 2, dilation: 2 }]) {
      const p = new Conv2d(32, 32, 3, { groups: 32, ...opts }).plan([1, 32, 33, 30]);
      expect(p.algorithm).toBe('depthwise-direct');
      expect(p.inPlaceDepthwise).toBe(false);
      expect(p.workspaceBytes).toBeGreaterThan(0);
    }
    const seven = new Conv2d(32, 32, 7, { padding: 3, groups: 32 }).plan([1, 32, 33, 30]);
    expect(seven.inPlaceDepthwise).toBe(false);
  });

  test('checks the input shape as forward() does', () => {
    const conv = new Conv2d(4, 8, 3);
    expect(() => conv.plan([1, 5, 8, 8])).toThrow(RangeError);
    expect(() => conv.plan([1, 5, 8, 8])).toThrow(/expected input \[1, 5, 8, 8\] to have 4 channels, but got 5/);
    expect(() => conv.plan([1, 4, 2, 8])).toThrow(/smaller than the dilated kernel/);
    expect(() => conv.plan([0, 4, 8, 8])).toThrow(/batch must be at least 1/);
    expect(() => conv.plan('1,4,8,8')).toThrow(TypeError);
    expect(() => conv.plan([4, 8])).toThrow(/3-D \(unbatched\) or 4-D/);
    expect(() => conv.plan([1, 4, 8.5, 8])).toThrow(/inputShape\[2\] must be an integer/);
  });

  test('Conv1d: the plan of its [N, C, 1, L] view', () => {
    setNumThreads(2);
    const c1 = new Conv1d(16, 24, 5, { padding: 2 });
    const c2 = new Conv2d(16, 24, [1, 5], { padding: [0, 2] });
    const p = c1.plan([2, 16, 100]);
    expect(p).toEqual(c2.plan([2, 16, 1, 100]));
    expect(c1.plan([16, 100])).toEqual(c2.plan([1, 16, 1, 100]));
    expect(() => c1.plan([2, 15, 100])).toThrow(/to have 16 channels, but got 15/);
    expect(() => c1.plan([0, 16, 100])).toThrow(/Conv1d.plan: the batch must be at least 1/);
  });
});
