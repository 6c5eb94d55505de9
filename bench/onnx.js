// A one-layer ONNX model for torch.nn.Conv2d, Conv1d or ConvTranspose2d, hand-encoded
// as protobuf (no onnx-proto dependency): [Pad (reflect / edge / wrap)] -> Conv
// (or ConvTranspose, zero padding only), weights and
// bias as initializers. Only the handful of ModelProto fields we need; field
// numbers from onnx/onnx.proto.
'use strict';

// ---- protobuf wire format --------------------------------------------------
function varint(v) {
  // non-negative integers up to 2^53 (all we need: sizes, enums, lengths)
  const out = [];
  let n = BigInt(v);
  if (n < 0n) n += 1n << 64n; // two's complement, 10 bytes
  do {
    let b = Number(n & 0x7fn);
    n >>= 7n;
    if (n > 0n) b |= 0x80;
    out.push(b);
  } while (n > 0n);
  return Buffer.from(out);
}
const key = (field, wire) => varint((field << 3) | wire);
const fInt = (field, v) => Buffer.concat([key(field, 0), varint(v)]);
const fBytes = (field, bytes) => {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  return Buffer.concat([key(field, 2), varint(b.length), b]);
};
const fStr = (field, s) => fBytes(field, Buffer.from(s, 'utf8'));
const fMsg = (field, parts) => fBytes(field, Buffer.concat(parts));
const fPackedInts = (field, vals) => fBytes(field, Buffer.concat(vals.map(varint)));

// ---- ONNX messages ---------------------------------------------------------
const FLOAT = 1, INT64 = 7; // TensorProto.DataType
const ATTR_INT = 2, ATTR_STRING = 3, ATTR_INTS = 7; // AttributeProto.AttributeType

// TensorProto: dims=1, data_type=2, name=8, raw_data=9 (little-endian)
function tensorProto(name, dims, dataType, typed) {
  const raw = Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength);
  return [fPackedInts(1, dims), fInt(2, dataType), fStr(8, name), fBytes(9, raw)];
}

// AttributeProto: name=1, i=3, s=4, ints=8, type=20
function attr(name, value) {
  if (typeof value === 'string') return [fStr(1, name), fBytes(4, Buffer.from(value)), fInt(20, ATTR_STRING)];
  if (Array.isArray(value)) return [fStr(1, name), ...value.map((v) => fInt(8, v)), fInt(20, ATTR_INTS)];
  return [fStr(1, name), fInt(3, value), fInt(20, ATTR_INT)];
}

// NodeProto: input=1, output=2, name=3, op_type=4, attribute=5
function node(opType, name, inputs, outputs, attrs) {
  return [
    ...inputs.map((s) => fStr(1, s)), ...outputs.map((s) => fStr(2, s)), fStr(3, name), fStr(4, opType),
    ...Object.entries(attrs).map(([k, v]) => fMsg(5, attr(k, v))),
  ];
}

// ValueInfoProto{name=1, type=2: TypeProto{tensor_type=1: {elem_type=1, shape=2: {dim=1: {dim_value=1}}}}}
function valueInfo(name, dims) {
  const shape = dims.map((d) => fMsg(1, [fInt(1, d)]));
  return [fStr(1, name), fMsg(2, [fMsg(1, [fInt(1, FLOAT), fMsg(2, shape)])])];
}

/** The ONNX nodes of one activation (the bench's FUSED_ACTIVATIONS) applied to `cur`; `step(op, inputs)` adds a node and returns its output. */
function activationNodes(name, cur, step, inits) {
  if (name === 'relu') step('Relu', [cur]);
  else if (name === 'sigmoid') step('Sigmoid', [cur]);
  else if (name === 'tanh') step('Tanh', [cur]);
  else if (name === 'hardswish') step('HardSwish', [cur]);
  else if (name === 'relu6') {
    inits.push(tensorProto('clip_min', [], FLOAT, Float32Array.of(0)), tensorProto('clip_max', [], FLOAT, Float32Array.of(6)));
    step('Clip', [cur, 'clip_min', 'clip_max']);
  } else if (name === 'silu') {  // x * sigmoid(x): no Silu op in the standard domain
    step('Mul', [cur, step('Sigmoid', [cur])]);
  } else throw new Error(`no ONNX nodes for activation ${JSON.stringify(name)}`);
}

/**
 * ONNX model bytes for one Conv1d or Conv2d layer, PyTorch semantics: ONNX's
 * Conv takes 1-D or 2-D attributes alike, one entry per spatial axis.
 * c: { Cin, Cout, kernel, stride, padding, dilation (one entry per spatial axis), groups, padding_mode }
 * weight: Float32Array [Cout, Cin/groups, ...kernel]; bias: Float32Array [Cout] or null;
 * inShape [N, Cin, ...spatial], outShape [N, Cout, ...spatial].
 */
function convModel(c, weight, bias, outShape, inShape) {
  const OPSET = 19; // Pad mode 'wrap' (circular) needs opset >= 19
  const rank = c.kernel.length;
  if (inShape.length !== rank + 2) throw new Error(`input shape ${inShape} does not match a ${rank}-D kernel`);
  const mode = { zeros: 'constant', reflect: 'reflect', replicate: 'edge', circular: 'wrap' }[c.padding_mode];
  if (!mode) throw new Error(`unknown padding_mode ${c.padding_mode}`);
  const padFirst = mode !== 'constant' && c.padding.some((p) => p > 0);
  const nodes = [], inits = [];
  let convIn = 'x';
  if (padFirst) {
    // pads: [x1_begin, x2_begin, ..., x1_end, x2_end, ...] over N, C and the spatial axes
    const side = [0n, 0n, ...c.padding.map(BigInt)];
    inits.push(tensorProto('pads', [2 * side.length], INT64, new BigInt64Array([...side, ...side])));
    nodes.push(node('Pad', 'pad', ['x', 'pads'], ['xpad'], { mode }));
    convIn = 'xpad';
  }
  const transposed = c.kind === 'conv_transpose2d';
  // ConvTranspose's weight is [Cin, Cout/groups, ...kernel], as PyTorch's
  const wDims = transposed ? [c.Cin, c.Cout / c.groups, ...c.kernel] : [c.Cout, c.Cin / c.groups, ...c.kernel];
  inits.push(tensorProto('w', wDims, FLOAT, weight));
  const convInputs = [convIn, 'w'];
  if (bias) {
    inits.push(tensorProto('b', [c.Cout], FLOAT, bias));
    convInputs.push('b');
  }
  const convPads = padFirst ? Array(2 * rank).fill(0) : [...c.padding, ...c.padding];
  const attrs = { kernel_shape: c.kernel, strides: c.stride, pads: convPads, dilations: c.dilation, group: c.groups };
  if (transposed) attrs.output_padding = c.output_padding || c.kernel.map(() => 0);
  // A fused case: y = act(conv(x) + r), as the nodes an exporter writes
  // (ONNX Runtime fuses Conv + activation and Conv + Add + Relu itself).
  let cur = 'conv_y';
  const step = (opType, inputs) => {
    const outName = `${opType.toLowerCase()}_${nodes.length}`;
    nodes.push(node(opType, outName, inputs, [outName], {}));
    cur = outName;
    return outName;
  };
  nodes.push(node(transposed ? 'ConvTranspose' : 'Conv', 'conv', convInputs, [cur], attrs));
  if (c.residual) step('Add', [cur, 'r']);
  if (c.activation) activationNodes(c.activation, cur, step, inits);
  nodes.push(node('Identity', 'out', [cur], ['y'], {}));
  // GraphProto: node=1, name=2, initializer=5, input=11, output=12
  const graph = [
    ...nodes.map((n) => fMsg(1, n)), fStr(2, 'conv2d'), ...inits.map((t) => fMsg(5, t)),
    fMsg(11, valueInfo('x', inShape)), ...(c.residual ? [fMsg(11, valueInfo('r', outShape))] : []),
    fMsg(12, valueInfo('y', outShape)),
  ];
  // ModelProto: ir_version=1, producer_name=2, graph=7, opset_import=8 {domain=1, version=2}
  return new Uint8Array(Buffer.concat([
    fInt(1, 9), fStr(2, 'simdconv-bench'), fMsg(7, graph), fMsg(8, [fStr(1, ''), fInt(2, OPSET)]),
  ]));
}

module.exports = { convModel };
