#!/usr/bin/env python3
"""Writes test/fixtures/io/: files that PyTorch and NumPy made, for test/io.test.js
and test/cli.test.js.

    /usr/bin/python3 scripts/gen_io_fixtures.py      # Debian python3-torch + numpy

- model_{f32,f16,bf16}.safetensors: the state_dict of a small model (Conv2d +
  BatchNorm2d, with BatchNorm's 0-d int64 num_batches_tracked) in that dtype,
  with a __metadata__ entry, laid out as safetensors.torch.save_file does
  (written by hand here: the `safetensors` package is not needed).
- input_*.npy, expected_{dtype}_*.npy: inputs, and PyTorch's outputs of the
  model's conv layers with the weights exactly as stored in that dtype.
- weights_{dtype}_*.npy: the stored weights converted to float32 by PyTorch.
- special.safetensors + special_*.npy: float16/bfloat16 edge values
  (subnormals, inf, nan, -0, extremes and a sweep over all bit patterns) and
  torch's float32 conversions of them.
- layer_*.json: LAYER.json configs for `simdconv run`.
- npy_*.npy + npy_expected.json: .npy files in float32 (C order, format
  versions 1/2/3, 0-d, 1-d, empty, big-endian), Fortran order, float64, int64.
"""
import json
import os
import struct

import numpy as np
import torch
from torch import nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'io')

DTYPE_CODES = {
    torch.float32: 'F32', torch.float16: 'F16', torch.bfloat16: 'BF16', torch.float64: 'F64',
    torch.int64: 'I64', torch.int32: 'I32', torch.uint8: 'U8', torch.bool: 'BOOL',
}


# The format's dtype order (safetensors' Dtype enum): tensors are laid out by it, descending.
DTYPE_ORDER = ['BOOL', 'F4', 'F6_E2M3', 'F6_E3M2', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'I16', 'U16',
               'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64']


def tensor_bytes(t):
    t = t.detach().contiguous().cpu()
    if t.dtype == torch.bfloat16:  # numpy has no bfloat16: same bits as int16
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def save_safetensors(tensors, path, metadata=None):
    """The bytes safetensors.torch.save_file writes (checked byte for byte against
    safetensors 0.8): u64 LE header length, the JSON header padded with spaces
    to 8 bytes, then the tensors by dtype (descending enum order), then name."""
    items = sorted(tensors.items(), key=lambda kv: (-DTYPE_ORDER.index(DTYPE_CODES[kv[1].dtype]), kv[0]))
    header, blobs, offset = {}, [], 0
    if metadata is not None:
        header['__metadata__'] = metadata
    for name, t in items:
        b = tensor_bytes(t)
        header[name] = {'dtype': DTYPE_CODES[t.dtype], 'shape': list(t.shape),
                        'data_offsets': [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(',', ':')).encode('utf-8')
    h += b' ' * (-len(h) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def save(name, arr):
    np.save(os.path.join(OUT, name), np.ascontiguousarray(arr, dtype=np.float32))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 16, 3, padding=1, groups=16, padding_mode='reflect')


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.layer1 = nn.Sequential(Block())

    def forward(self, x):
        x = torch.relu(self.bn(self.stem(x)))
        b = self.layer1[0]
        return b.conv2(torch.relu(b.bn1(b.conv1(x))))


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    np.random.seed(0)
    net = Net()
    net.train()
    for _ in range(3):  # non-trivial running stats; num_batches_tracked = 3
        net(torch.randn(4, 3, 12, 12))
    net.eval()
    state = net.state_dict()
    assert state['bn.num_batches_tracked'].dtype == torch.int64 and state['bn.num_batches_tracked'].dim() == 0

    inputs = {
        'stem': torch.randn(2, 3, 12, 12),
        'conv1': torch.randn(2, 8, 12, 12),
        'conv2': torch.randn(1, 16, 6, 6),
        'stem_unbatched': torch.randn(3, 9, 7),
    }
    for k, x in inputs.items():
        save(f'input_{k}.npy', x.numpy())

    layers = {'stem': net.stem, 'conv1': net.layer1[0].conv1, 'conv2': net.layer1[0].conv2}
    prefixes = {'stem': 'stem.', 'conv1': 'layer1.0.conv1.', 'conv2': 'layer1.0.conv2.'}
    for tag, dtype in (('f32', torch.float32), ('f16', torch.float16), ('bf16', torch.bfloat16)):
        stored = {k: (v.to(dtype) if v.is_floating_point() else v) for k, v in state.items()}
        save_safetensors(stored, os.path.join(OUT, f'model_{tag}.safetensors'), {'format': 'pt'})
        as_f32 = {k: (v.float() if v.is_floating_point() else v) for k, v in stored.items()}
        model = Net()
        model.load_state_dict(as_f32)
        model.eval()
        with torch.no_grad():
            for name in ('stem', 'conv1', 'conv2'):
                layer = {'stem': model.stem, 'conv1': model.layer1[0].conv1, 'conv2': model.layer1[0].conv2}[name]
                save(f'expected_{tag}_{name}.npy', layer(inputs[name]).numpy())
                save(f'weights_{tag}_{name}.npy', as_f32[prefixes[name] + 'weight'].numpy())
            save(f'expected_{tag}_stem_unbatched.npy', model.stem(inputs['stem_unbatched']).numpy())

    def config(conv):
        return {'in_channels': conv.in_channels, 'out_channels': conv.out_channels,
                'kernel_size': list(conv.kernel_size), 'stride': list(conv.stride),
                'padding': conv.padding if isinstance(conv.padding, str) else list(conv.padding),
                'dilation': list(conv.dilation), 'groups': conv.groups, 'bias': conv.bias is not None,
                'padding_mode': conv.padding_mode}
    for name, conv in layers.items():
        with open(os.path.join(OUT, f'layer_{name}.json'), 'w') as f:
            json.dump(config(conv), f, indent=1)
            f.write('\n')

    # float16 / bfloat16 edge values and their float32 conversions by torch.
    f16_bits = [0x0000, 0x8000, 0x0001, 0x8001, 0x03ff, 0x0400, 0x3c00, 0xc000, 0x7bff, 0xfbff,
                0x7c00, 0xfc00, 0x7e00, 0x3555, 0x0200] + list(range(0, 65536, 97))
    bf16_bits = [0x0000, 0x8000, 0x0001, 0x007f, 0x0080, 0x3f80, 0xc000, 0x7f7f, 0xff7f,
                 0x7f80, 0xff80, 0x7fc0, 0x3eab] + list(range(0, 65536, 89))
    f16 = torch.tensor(np.array(f16_bits, dtype=np.uint16).view(np.int16)).view(torch.float16)
    bf16 = torch.tensor(np.array(bf16_bits, dtype=np.uint16).view(np.int16)).view(torch.bfloat16)
    save_safetensors({'f16': f16, 'bf16': bf16.reshape(len(bf16_bits), 1),
                      'mask': torch.tensor([True, False]), 'ids': torch.arange(5, dtype=torch.int32)},
                     os.path.join(OUT, 'special.safetensors'), {'format': 'pt', 'note': 'edge values'})
    save('special_f16.npy', f16.float().numpy())
    save('special_bf16.npy', bf16.float().reshape(len(bf16_bits), 1).numpy())

    # .npy files
    a = (np.arange(24, dtype=np.float32) * 0.5 - 3).reshape(2, 3, 4)
    expected = {}

    def npy(name, arr, version=None, raw=False):
        path = os.path.join(OUT, name)
        with open(path, 'wb') as f:
            np.lib.format.write_array(f, arr, version=version, allow_pickle=False)
        if raw:
            return
        expected[name] = {'shape': list(arr.shape), 'data': [float(v) if np.isfinite(v) else str(float(v))  # 'inf', '-inf', 'nan'
                                                       for v in np.ascontiguousarray(arr).ravel()]}

    npy('npy_f32_v1.npy', a, (1, 0))
    npy('npy_f32_v2.npy', a, (2, 0))
    npy('npy_f32_v3.npy', a, (3, 0))
    npy('npy_f32_0d.npy', np.array(3.25, dtype=np.float32))
    npy('npy_f32_1d.npy', np.array([1.5, -2, 1e-40, np.inf], dtype=np.float32))
    npy('npy_f32_empty.npy', np.zeros((0, 3), dtype=np.float32))
    npy('npy_f32_be.npy', a.astype('>f4'))
    npy('npy_f32_fortran.npy', np.asfortranarray(a.reshape(4, 6)), raw=True)
    npy('npy_f64.npy', a.astype(np.float64), raw=True)
    npy('npy_i64.npy', np.arange(6, dtype=np.int64), raw=True)
    npy('npy_f16.npy', a.astype(np.float16), raw=True)
    with open(os.path.join(OUT, 'npy_expected.json'), 'w') as f:
        json.dump(expected, f, indent=1)
        f.write('\n')
    print(f'wrote {len(os.listdir(OUT))} files to {os.path.normpath(OUT)}')


if __name__ == '__main__':
    main()
