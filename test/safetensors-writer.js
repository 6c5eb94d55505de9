// safetensors files written by hand, for tests: valid ones (a state_dict for
// the CLI to load) and, through `edit` and `pad`, malformed ones.
'use strict';

/** A safetensors file from [{name, dtype, shape, bytes}]; `edit` may change the header first. */
function makeSafetensors(tensors, { metadata, edit, pad = true } = {}) {
  const header = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    Object.defineProperty(header, t.name, { // a plain key even for '__proto__'
      value: { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] },
      enumerable: true, writable: true, configurable: true,
    });
    offset += t.bytes.length;
  }
  if (edit) edit(header);
  let json = Buffer.from(JSON.stringify(header));
  if (pad && json.length % 8) json = Buffer.concat([json, Buffer.alloc(8 - (json.length % 8), 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, ...tensors.map((t) => Buffer.from(t.bytes))]);
}
const f32bytes = (arr) => new Uint8Array(new Float32Array(arr).buffer);

module.exports = { makeSafetensors, f32bytes };
