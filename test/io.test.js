// PyTorch weights and NumPy arrays: loadSafetensors (float32/float16/bfloat16
// state_dicts that PyTorch wrote, loaded into Conv2d with a prefix, matching
// PyTorch's outputs), loadNpy/saveNpy against numpy's own files, and
// malformed files built here by corrupting valid bytes: each a clear Error.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { simdconv, compare, magnitudeBound } = require('./helpers');
const { Conv2d, Tensor, loadSafetensors, loadNpy, saveNpy } = simdconv;

const FIX = path.join(__dirname, 'fixtures', 'io');
const fix = (name) => path.join(FIX, name);
const bits = (f32) => new Uint32Array(f32.buffer, f32.byteOffset, f32.length);

const { makeSafetensors, f32bytes } = require('./safetensors-writer');

let tmp;
beforeAll(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'simdconv-io-')); });
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('loadSafetensors: PyTorch state_dicts', () => {
  const floatKeys = ['bn.bias', 'bn.running_mean', 'bn.running_var', 'bn.weight',
    'layer1.0.bn1.bias', 'layer1.0.bn1.running_mean', 'layer1.0.bn1.running_var', 'layer1.0.bn1.weight',
    'layer1.0.conv1.weight', 'layer1.0.conv2.bias', 'layer1.0.conv2.weight', 'stem.bias', 'stem.weight'];
  const layers = {
    stem: { prefix: 'stem.', make: () => new Conv2d(3, 8, 3, { padding: 1 }) },
    conv1: { prefix: 'layer1.0.conv1.', make: () => new Conv2d(8, 16, 3, { stride: 2, padding: 1, bias: false }) },
    conv2: { prefix: 'layer1.0.conv2.', make: () => new Conv2d(16, 16, 3, { padding: 1, groups: 16, paddingMode: 'reflect' }) },
  };

  describe.each(['f32', 'f16', 'bf16'])('%s', (tag) => {
    const state = loadSafetensors(fix(`model_${tag}.safetensors`));

    test('float tensors as float32 with their shapes; int64 num_batches_tracked left out', () => {
      expect(Object.keys(state).sort()).toEqual(floatKeys);
      for (const t of Object.values(state)) {
        expect(t).toBeInstanceOf(Tensor);
        expect(t.data).toBeInstanceOf(Float32Array);
      }
      expect(state['stem.weight'].shape).toEqual([8, 3, 3, 3]);
      expect(state['layer1.0.conv2.bias'].shape).toEqual([16]);
      expect(state['bn.num_batches_tracked']).toBeUndefined();
    });

    test.each(Object.keys(layers))('%s weights equal torch\'s float32 conversion bit for bit', (name) => {
      const want = loadNpy(fix(`weights_${tag}_${name}.npy`));
      const got = state[`${layers[name].prefix}weight`];
      expect(got.shape).toEqual(want.shape);
      expect(bits(got.data)).toEqual(bits(want.data));
    });

    test.each(Object.keys(layers))("Conv2d.loadStateDict(state, { prefix }) for %s reproduces PyTorch's output", (name) => {
      const conv = layers[name].make();
      conv.loadStateDict(state, { prefix: layers[name].prefix });
      const x = loadNpy(fix(`input_${name}.npy`));
      const want = loadNpy(fix(`expected_${tag}_${name}.npy`));
      const y = conv.forward(x);
      expect(y.shape).toEqual(want.shape);
      const { k, magnitude } = magnitudeBound(conv, x);
      expect(compare(y.data, want.data, k, magnitude)).toBeNull();
    });

    test('unbatched input through the stem', () => {
      const conv = layers.stem.make();
      conv.loadStateDict(state, { prefix: 'stem.' });
      const x = loadNpy(fix('input_stem_unbatched.npy'));
      const want = loadNpy(fix(`expected_${tag}_stem_unbatched.npy`));
      const y = conv.forward(x);
      expect(y.shape).toEqual([8, 9, 7]);
      const { k, magnitude } = magnitudeBound(conv, x);
      expect(compare(y.data, want.data, k, magnitude)).toBeNull();
    });
  });

  test('a path and the bytes (Buffer, or an unaligned Uint8Array view) load the same', () => {
    const fromPath = loadSafetensors(fix('model_f16.safetensors'));
    const bytes = fs.readFileSync(fix('model_f16.safetensors'));
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    for (const src of [bytes, new Uint8Array(bytes), shifted.subarray(3)]) {
      const s = loadSafetensors(src);
      expect(Object.keys(s).sort()).toEqual(Object.keys(fromPath).sort());
      for (const key of Object.keys(s)) expect(bits(s[key].data)).toEqual(bits(fromPath[key].data));
    }
    // The result does not alias the caller's bytes.
    const s = loadSafetensors(bytes);
    s['stem.weight'].data.fill(0);
    expect(loadSafetensors(bytes)['stem.weight'].data.some((v) => v !== 0)).toBe(true);
  });
});

describe('loadSafetensors: exact float16 / bfloat16 / float8 / float64 conversion', () => {
  test('edge values (subnormals, +-inf, NaN, -0, extremes, a sweep of bit patterns) as torch converts them', () => {
    const s = loadSafetensors(fix('special.safetensors'));
    expect(Object.keys(s).sort()).toEqual(['bf16', 'f16']); // bool and int32 left out
    for (const name of ['f16', 'bf16']) {
      const want = loadNpy(fix(`special_${name}.npy`));
      expect(s[name].shape).toEqual(want.shape);
      let nans = 0;
      for (let i = 0; i < want.data.length; i++) {
        if (Number.isNaN(want.data[i])) {
          expect(Number.isNaN(s[name].data[i])).toBe(true);
          nans++;
        } else {
          expect(bits(s[name].data)[i]).toBe(bits(want.data)[i]);
        }
      }
      expect(nans).toBeGreaterThan(0);
    }
    const f16 = s.f16.data;
    expect([f16[0], f16[2], f16[4], f16[5], f16[6], f16[8], f16[10], f16[11]])
      .toEqual([0, 2 ** -24, 1023 * 2 ** -24, 2 ** -14, 1, 65504, Infinity, -Infinity]);
    expect(Object.is(f16[1], -0)).toBe(true);
    expect(Number.isNaN(f16[12])).toBe(true);
  });

  test('all 65536 float16 and bfloat16 bit patterns', () => {
    const patterns = new Uint16Array(65536).map((_, i) => i);
    const bytes = new Uint8Array(patterns.buffer);
    const s = loadSafetensors(makeSafetensors([
      { name: 'h', dtype: 'F16', shape: [65536], bytes },
      { name: 'b', dtype: 'BF16', shape: [256, 256], bytes },
    ]));
    for (let i = 0; i < 65536; i++) {
      const sign = i & 0x8000 ? -1 : 1, e = (i >> 10) & 31, m = i & 1023;
      const want = e === 31 ? (m ? NaN : sign * Infinity) : e === 0 ? sign * m * 2 ** -24 : sign * (1 + m / 1024) * 2 ** (e - 15);
      if (!Object.is(s.h.data[i], want)) throw new Error(`float16 0x${i.toString(16)}: got ${s.h.data[i]}, want ${want}`);
      if (bits(s.b.data)[i] !== i << 16 >>> 0) throw new Error(`bfloat16 0x${i.toString(16)}: got bits ${bits(s.b.data)[i]}`);
    }
  });

  test('float64 rounds to the nearest float32; float8 e4m3fn / e5m2 convert exactly', () => {
    const f64 = [1 / 3, 1e-50, 1e40, -0, 0.1, 2 ** -149 * 0.75];
    const s = loadSafetensors(makeSafetensors([
      { name: 'd', dtype: 'F64', shape: [6], bytes: new Uint8Array(new Float64Array(f64).buffer) },
      { name: 'e4', dtype: 'F8_E4M3', shape: [6], bytes: new Uint8Array([0x38, 0x01, 0x7e, 0x7f, 0xb8, 0x80]) },
      { name: 'e5', dtype: 'F8_E5M2', shape: [5], bytes: new Uint8Array([0x3c, 0x01, 0x7b, 0x7c, 0xfe]) },
    ]));
    expect(Array.from(s.d.data)).toEqual(f64.map(Math.fround));
    expect(Array.from(s.e4.data)).toEqual([1, 2 ** -9, 448, NaN, -1, -0]);
    expect(Array.from(s.e5.data)).toEqual([1, 2 ** -16, 57344, Infinity, NaN]);
  });
});

describe('loadSafetensors: names, metadata, dtypes left out', () => {
  test('__metadata__ is not a tensor; a tensor named __proto__ is a plain key; 0-d tensors have shape []', () => {
    const s = loadSafetensors(makeSafetensors([
      { name: '__proto__', dtype: 'F32', shape: [1], bytes: f32bytes([7]) },
      { name: 'scalar', dtype: 'F32', shape: [], bytes: f32bytes([2.5]) },
      { name: 'empty', dtype: 'F32', shape: [0, 4], bytes: new Uint8Array(0) },
    ], { metadata: { format: 'pt', anything: 'x' } }));
    expect(Object.keys(s).sort()).toEqual(['__proto__', 'empty', 'scalar']);
    expect(Object.getPrototypeOf(s)).toBe(Object.prototype);
    expect(s.__proto__.data[0]).toBe(7); // eslint-disable-line no-proto
    expect(s.scalar.shape).toEqual([]);
    expect(s.scalar.data[0]).toBe(2.5);
    expect(s.empty.shape).toEqual([0, 4]);
  });

  test('every non-float dtype of the format is left out, not an error', () => {
    const dtypes = { BOOL: 1, U8: 1, I8: 1, I16: 2, U16: 2, I32: 4, U32: 4, I64: 8, U64: 8, C64: 8, F8_E8M0: 1, F4: 1, F6_E2M3: 3, F6_E3M2: 3 };
    const tensors = Object.entries(dtypes).map(([dtype, size]) => ({
      name: `t_${dtype}`, dtype, shape: dtype.startsWith('F4') ? [2] : dtype.startsWith('F6') ? [4] : [1],
      bytes: new Uint8Array(size),
    }));
    tensors.push({ name: 'w', dtype: 'F32', shape: [1], bytes: f32bytes([1]) });
    expect(Object.keys(loadSafetensors(makeSafetensors(tensors)))).toEqual(['w']);
  });

  test('Conv2d.loadStateDict says when the key it needs was a non-float tensor', () => {
    const s = loadSafetensors(makeSafetensors([
      { name: 'q.weight', dtype: 'I8', shape: [2, 1, 1, 1], bytes: new Uint8Array(2) },
      { name: 'q.bias', dtype: 'F32', shape: [2], bytes: f32bytes([0, 0]) },
      { name: 'r.weight', dtype: 'F32', shape: [2, 1, 1, 1], bytes: f32bytes([1, 2]) },
      { name: 'r.bias', dtype: 'I64', shape: [2], bytes: new Uint8Array(16) },
    ]));
    expect(() => new Conv2d(1, 2, 1).loadStateDict(s, { prefix: 'q.' }))
      .toThrow("Conv2d.loadStateDict: 'q.weight' is an int8 tensor, not float (loadSafetensors leaves non-float tensors out)");
    expect(() => new Conv2d(1, 2, 1).loadStateDict(s, { prefix: 'r.' })).toThrow(/'r.bias' is an int64 tensor, not float/);
    expect(() => new Conv2d(1, 2, 1).loadStateDict(s, { prefix: 'z.' })).toThrow(/missing key 'z.weight'/);
    const bn = loadSafetensors(fix('model_f32.safetensors'));
    expect(() => new Conv2d(1, 1, 1).loadStateDict(bn, { prefix: 'bn.num_batches_tracked.' })).toThrow(/missing key/);
  });
});

describe('loadSafetensors: malformed files are clear errors', () => {
  const valid = makeSafetensors([
    { name: 'a', dtype: 'F32', shape: [2, 2], bytes: f32bytes([1, 2, 3, 4]) },
    { name: 'b', dtype: 'F16', shape: [2], bytes: new Uint8Array(4) },
  ], { metadata: { format: 'pt' } });
  const headerLen = Number(valid.readBigUInt64LE(0));
  const withLength = (n) => { const b = Buffer.from(valid); b.writeBigUInt64LE(BigInt(n)); return b; };
  const edited = (edit, opts) => makeSafetensors([
    { name: 'a', dtype: 'F32', shape: [2, 2], bytes: f32bytes([1, 2, 3, 4]) },
    { name: 'b', dtype: 'F16', shape: [2], bytes: new Uint8Array(4) },
  ], { edit, ...opts });
  const rawHeader = (text, data = Buffer.alloc(0)) => {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(Buffer.byteLength(text)));
    return Buffer.concat([len, Buffer.from(text), data]);
  };

  test('the valid file loads', () => {
    expect(Object.keys(loadSafetensors(valid)).sort()).toEqual(['a', 'b']);
  });

  test.each([
    ['empty file', () => Buffer.alloc(0), /truncated: the file has 0 bytes, but a safetensors file starts with an 8-byte header length/],
    ['shorter than the length field', () => valid.subarray(0, 5), /truncated: the file has 5 bytes/],
    ['truncated in the header', () => valid.subarray(0, 20), /truncated: the header length is \d+ bytes but the file has only 12 bytes after it/],
    ['truncated in the data', () => valid.subarray(0, valid.length - 3), /out of range: the data section has 17 bytes \(truncated file\?\)/],
    ['header length beyond the file', () => withLength(valid.length), /truncated: the header length is \d+ bytes/],
    ['huge header length (2^40)', () => withLength(2 ** 40), /header length 1099511627776 is larger than the 100000000-byte limit/],
    ['huge header length (2^64 - 1)', () => { const b = Buffer.from(valid); b.fill(0xff, 0, 8); return b; }, /header length 18446744073709551615 is larger than/],
    ['header length 0', () => withLength(0), /header length 0 is too small/],
    ['invalid JSON', () => { const b = Buffer.from(valid); b[8] = 0x78; return b; }, /the header is not valid JSON/],
    ['a JSON array header', () => rawHeader('[1, 2]'), /the header must be a JSON object/],
    ['header not UTF-8', () => rawHeader('{"a?":{}}').fill(0xff, 11, 12), /the header is not valid UTF-8/],
    ['unknown dtype', () => edited((h) => { h.b.dtype = 'F12'; }), /tensor 'b': unknown dtype "F12" \(known: F32, F16, BF16/],
    ['dtype not a string', () => edited((h) => { h.b.dtype = 3; }), /tensor 'b': dtype must be a string, got 3/],
    ['entry not an object', () => edited((h) => { h.b = [1]; }), /tensor 'b': expected \{dtype, shape, data_offsets\}/],
    ['negative shape', () => edited((h) => { h.a.shape = [-2, -2]; }), /tensor 'a': shape must be an array of non-negative integers, got \[-2,-2\]/],
    ['fractional shape', () => edited((h) => { h.a.shape = [2.5, 2]; }), /tensor 'a': shape must be/],
    ['missing data_offsets', () => edited((h) => { delete h.a.data_offsets; }), /tensor 'a': data_offsets must be \[begin, end\]/],
    ['begin > end', () => edited((h) => { h.a.data_offsets = [16, 0]; }), /tensor 'a': data_offsets must be \[begin, end\] with 0 <= begin <= end, got \[16,0\]/],
    ['offsets out of range', () => edited((h) => { h.b.data_offsets = [16, 1000]; }), /tensor 'b': data_offsets \[16, 1000\] are out of range: the data section has 20 bytes/],
    ['offsets beyond 2^53', () => edited((h) => { h.b.data_offsets = [16, 2 ** 60]; }), /tensor 'b': data_offsets must be/],
    ['size not matching shape*dtype', () => edited((h) => { h.a.shape = [3, 2]; }), /tensor 'a': data_offsets \[0, 16\] hold 16 bytes, but shape \[3, 2\] of F32 needs 24 bytes/],
    ['huge shape', () => edited((h) => { h.a.shape = [2 ** 40, 2 ** 40]; }), /tensor 'a': .*needs too many bytes/],
    ['overlapping tensors', () => edited((h) => { h.b.data_offsets = [12, 16]; h.a.shape = [4]; h.a.data_offsets = [0, 16]; h.c = { dtype: 'U8', shape: [4], data_offsets: [16, 20] }; }), /tensors 'a' \[0, 16\] and 'b' \[12, 16\] overlap/],
    ['a hole in the data', () => edited((h) => { h.a.shape = [3]; h.a.data_offsets = [0, 12]; }), /bytes \[12, 16\) of the data section belong to no tensor/],
    ['trailing bytes', () => Buffer.concat([valid, Buffer.alloc(4)]), /the data section has 24 bytes but the tensors end at byte 20 \(trailing bytes\)/],
    ['__metadata__ not an object', () => edited((h) => { h.__metadata__ = 'x'; }), /__metadata__ must be an object/],
  ])('%s', (_, make, message) => {
    const bytes = make();
    expect(() => loadSafetensors(bytes)).toThrow(message);
    // The same from a path, with the path in the message.
    const file = path.join(tmp, 'bad.safetensors');
    fs.writeFileSync(file, bytes);
    let err;
    try { loadSafetensors(file); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(message);
    expect(err.message).toContain(`loadSafetensors: ${file}: `);
  });

  test('truncating a real checkpoint anywhere gives an Error, never a crash', () => {
    const bytes = fs.readFileSync(fix('model_bf16.safetensors'));
    for (let n = 0; n < bytes.length; n += 7) expect(() => loadSafetensors(bytes.subarray(0, n))).toThrow(/loadSafetensors: /);
    expect(headerLen % 8).toBe(0);
  });

  test('flipping any header byte gives an Error or a consistent result, never a crash', () => {
    const bytes = fs.readFileSync(fix('model_f32.safetensors'));
    const n = Number(bytes.readBigUInt64LE(0));
    for (let i = 0; i < 8 + n; i += 3) {
      const b = Buffer.from(bytes);
      b[i] ^= 0x5a;
      try {
        const s = loadSafetensors(b);
        for (const t of Object.values(s)) expect(t.data.length).toBe(t.shape.reduce((x, y) => x * y, 1));
      } catch (e) {
        expect(e.message).toMatch(/^loadSafetensors: /);
      }
    }
  });

  test('wrong argument types and missing files', () => {
    expect(() => loadSafetensors(42)).toThrow(TypeError);
    expect(() => loadSafetensors(new ArrayBuffer(8))).toThrow(/source must be a file path \(string\) or the file's bytes \(Uint8Array\), got an? ArrayBuffer/);
    expect(() => loadSafetensors(path.join(tmp, 'nope.safetensors'))).toThrow(/loadSafetensors: cannot open '.*nope.safetensors': ENOENT/);
    expect(() => loadSafetensors(tmp)).toThrow(/is not a regular file/);
  });
});

describe('loadNpy', () => {
  const expected = JSON.parse(fs.readFileSync(fix('npy_expected.json'), 'utf8'));

  test.each(Object.keys(expected))('%s (written by numpy)', (name) => {
    const t = loadNpy(fix(name));
    expect(t).toBeInstanceOf(Tensor);
    expect(t.shape).toEqual(expected[name].shape);
    expect(Array.from(t.data)).toEqual(expected[name].data.map((v) => (typeof v === 'string' ? Number(v.replace('inf', 'Infinity')) : Math.fround(v))));
    expect(loadNpy(fs.readFileSync(fix(name))).shape).toEqual(expected[name].shape);
  });

  test.each([
    ['npy_f32_fortran.npy', /the array is in Fortran order \(fortran_order: True, shape \(4, 6\)\); save a C-ordered array: np.save\(path, np.ascontiguousarray\(arr\)\)/],
    ['npy_f64.npy', /dtype float64 \('<f8'\) is not supported; only float32 \('<f4'\)\. Convert with arr.astype\(np.float32\)/],
    ['npy_i64.npy', /dtype int64 \('<i8'\) is not supported/],
    ['npy_f16.npy', /dtype float16 \('<f2'\) is not supported/],
  ])('%s is refused', (name, message) => {
    expect(() => loadNpy(fix(name))).toThrow(message);
    expect(() => loadNpy(fix(name))).toThrow(`loadNpy: ${fix(name)}: `);
  });

  const header = (dict, data = new Uint8Array(0), version = 1) => {
    const text = Buffer.from(dict + '\n', version === 3 ? 'utf8' : 'latin1');
    const pre = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
    const len = Buffer.alloc(version === 1 ? 2 : 4);
    if (version === 1) len.writeUInt16LE(text.length); else len.writeUInt32LE(text.length);
    return Buffer.concat([pre, len, text, Buffer.from(data)]);
  };

  test('fortran_order True is fine when at most one dimension exceeds 1; other dict forms parse', () => {
    expect(loadNpy(header("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 3, 1), }", f32bytes([1, 2, 3]))).shape).toEqual([1, 3, 1]);
    expect(loadNpy(header('{"shape": (2L,), "fortran_order": False, "descr": "<f4"}', f32bytes([1, 2]))).data).toEqual(new Float32Array([1, 2]));
    expect(loadNpy(header("{'descr':'<f4','fortran_order':False,'shape':[]}", f32bytes([5]), 2)).shape).toEqual([]);
  });

  const valid = fs.readFileSync(fix('npy_f32_v1.npy'));
  test.each([
    ['not npy', () => Buffer.from('PK\x03\x04 hello'), /not a .npy file \(it does not start with the "\\x93NUMPY" magic; 10 bytes\)/],
    ['empty', () => Buffer.alloc(0), /not a .npy file/],
    ['unknown version', () => { const b = Buffer.from(valid); b[6] = 4; return b; }, /unsupported .npy format version 4.0/],
    ['header length beyond the file', () => valid.subarray(0, 40), /truncated: the header length is 118 bytes but only 30 bytes follow/],
    ['truncated data', () => valid.subarray(0, valid.length - 1), /shape \(2, 3, 4\) of float32 needs 96 bytes of data but the file has 95 \(truncated\?\)/],
    ['extra data', () => Buffer.concat([valid, Buffer.alloc(4)]), /needs 96 bytes of data but the file has 100/],
    ['malformed dict', () => header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), "), /malformed header: expected ',' or '}'|malformed header/],
    ['not a dict', () => header('(1, 2)'), /malformed header: expected a dict/],
    ['missing shape', () => header("{'descr': '<f4', 'fortran_order': False}"), /malformed header: no 'shape' key/],
    ['negative shape', () => header("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}"), /shape must be a tuple of non-negative integers/],
    ['structured dtype', () => header("{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (1,)}"), /structured dtype .* is not supported/],
    ['object dtype', () => header("{'descr': '|O', 'fortran_order': False, 'shape': (1,)}"), /dtype "\|O" \('\|O'\) is not supported|dtype .*'\|O'/],
    ['fortran_order not a bool', () => header("{'descr': '<f4', 'fortran_order': 1, 'shape': (1,)}", f32bytes([1])), /fortran_order must be True or False/],
  ])('%s', (_, make, message) => {
    expect(() => loadNpy(make())).toThrow(message);
  });

  test('wrong argument types and missing files', () => {
    expect(() => loadNpy({})).toThrow(TypeError);
    expect(() => loadNpy(path.join(tmp, 'missing.npy'))).toThrow(/loadNpy: cannot open .*ENOENT/);
  });
});

describe('saveNpy', () => {
  test("writes numpy's own bytes (format 1.0, 64-byte aligned header)", () => {
    const bytes = fs.readFileSync(fix('npy_f32_v1.npy'));
    const out = saveNpy(loadNpy(bytes));
    expect(out).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(out).equals(bytes)).toBe(true);
    for (const name of ['npy_f32_0d.npy', 'npy_f32_1d.npy', 'npy_f32_empty.npy'])
      expect(Buffer.from(saveNpy(loadNpy(fix(name)))).equals(fs.readFileSync(fix(name)))).toBe(true);
  });

  test('round trip of shapes [], [n], [n, c, h, w] and a view into a larger buffer', () => {
    const big = new Float32Array(100).map((_, i) => i - 50.25);
    for (const [data, shape] of [[new Float32Array([1.5]), []], [big.subarray(10, 17), [7]], [big.subarray(4, 64), [2, 3, 2, 5]]]) {
      const back = loadNpy(saveNpy(new Tensor(data, shape)));
      expect(back.shape).toEqual(shape);
      expect(back.data).toEqual(data);
      expect((8 + 2 + new DataView(saveNpy(new Tensor(data, shape)).buffer).getUint16(8, true)) % 64).toBe(0);
    }
  });

  test('rejects non-tensors', () => {
    expect(() => saveNpy(new Float32Array(3))).toThrow(/saveNpy: tensor must be a Tensor/);
  });

  const python = '/usr/bin/python3';
  const haveNumpy = (() => {
    try { execFileSync(python, ['-c', 'import numpy'], { stdio: 'ignore' }); return true; } catch { return false; }
  })();
  (haveNumpy ? test : test.skip)('numpy.load (and torch.from_numpy when installed) reads it', () => {
    const file = path.join(tmp, 'saved.npy');
    const x = new Tensor(new Float32Array([1.5, -2, 3.25, 1e-40, Infinity, 0]), [1, 2, 3]);
    fs.writeFileSync(file, saveNpy(x));
    const script = [
      'import sys, json, numpy as np',
      'a = np.load(sys.argv[1])',
      'r = {"shape": list(a.shape), "dtype": str(a.dtype), "c": bool(a.flags.c_contiguous), "data": [float(v) for v in a.ravel()]}',
      'try:\n import torch\n r["torch"] = list(torch.from_numpy(a).shape)\nexcept ImportError:\n pass',
      'print(json.dumps(r))',
    ].join('\n');
    const r = JSON.parse(execFileSync(python, ['-c', script, file], { encoding: 'utf8' }).replace(/Infinity/g, '"inf"'));
    expect(r.shape).toEqual([1, 2, 3]);
    expect(r.dtype).toBe('float32');
    expect(r.c).toBe(true);
    expect(r.data.map((v) => (v === 'inf' ? Infinity : Math.fround(v)))).toEqual(Array.from(x.data));
    if (r.torch) expect(r.torch).toEqual([1, 2, 3]);
  });
});
