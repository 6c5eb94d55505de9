#!/usr/bin/python3
"""PyTorch fixtures for the fused epilogue (test/epilogue.test.js):
y = F.<act>(conv(x) + residual) and F.<act>(conv(x)) for every activation
form of the API (each name, default and non-default parameters), over
layers that reach every algorithm (1x1 GEMM, a 3x3 stride-1 layer with 16
channels, depthwise 3x3 stride 1 and 2, dilated 3x3, grouped, reflect and
circular padding, unbatched), Conv1d, ConvTranspose2d (stride 2,
output_padding); residuals holding NaN, +-inf, +-1e30 and -0; and
fuse_conv_bn_eval followed by an activation.

    /usr/bin/python3 scripts/gen_epilogue_fixtures.py

Writes test/fixtures/epilogue.json (manifest) and epilogue.bin (float32
arrays, little-endian, concatenated; offsets and lengths in float32
elements). Conventions as gen_family_fixtures.py: each layer seeds torch with
the CRC32 of its name, one thread, and stores ``absBound`` (float64
sum |x*w| + |b| per output element, plus |residual| for the residual
outputs) for the tolerance; K is the most taps one output element reads.
Each layer stores its input, weight, bias and residual once, and one
expected output per (activation, with/without residual).
"""
import copy
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_fixtures import OUT_DIR, abs_module, tup  # noqa: E402  (also sets threads, warnings)
from gen_family_fixtures import Bin, bn_for, seed  # noqa: E402
from torch.nn.utils.fusion import fuse_conv_bn_eval  # noqa: E402

# (the API's form, F.<act> as PyTorch applies it, the module whose repr the layer shows)
ACTIVATIONS = [
    ('relu', F.relu, nn.ReLU()),
    ('relu6', F.relu6, nn.ReLU6()),
    ({'name': 'leakyRelu'}, F.leaky_relu, nn.LeakyReLU()),
    ({'name': 'leakyRelu', 'negativeSlope': 0.2}, lambda y: F.leaky_relu(y, 0.2), nn.LeakyReLU(0.2)),
    ({'name': 'leakyRelu', 'negativeSlope': -1.5}, lambda y: F.leaky_relu(y, -1.5), nn.LeakyReLU(-1.5)),
    ({'name': 'hardtanh'}, F.hardtanh, nn.Hardtanh()),
    ({'name': 'hardtanh', 'minVal': -0.25, 'maxVal': 0.5}, lambda y: F.hardtanh(y, -0.25, 0.5),
     nn.Hardtanh(-0.25, 0.5)),
    ({'name': 'elu'}, F.elu, nn.ELU()),
    ({'name': 'elu', 'alpha': 0.5}, lambda y: F.elu(y, 0.5), nn.ELU(0.5)),
    ({'name': 'elu', 'alpha': 2.5}, lambda y: F.elu(y, 2.5), nn.ELU(2.5)),
    ('sigmoid', torch.sigmoid, nn.Sigmoid()),
    ('tanh', torch.tanh, nn.Tanh()),
    ('silu', F.silu, nn.SiLU()),
    ('hardswish', F.hardswish, nn.Hardswish()),
    ('gelu', F.gelu, nn.GELU()),
    ({'name': 'gelu', 'approximate': 'none'}, lambda y: F.gelu(y, approximate='none'), nn.GELU(approximate='none')),
    ({'name': 'gelu', 'approximate': 'tanh'}, lambda y: F.gelu(y, approximate='tanh'), nn.GELU(approximate='tanh')),
]

LAYERS, FUSE = [], []
CLASSES = {'Conv2d': nn.Conv2d, 'Conv1d': nn.Conv1d, 'ConvTranspose2d': nn.ConvTranspose2d}
TORCH_NAMES = dict(stride='stride', padding='padding', dilation='dilation', groups='groups', bias='bias',
                   paddingMode='padding_mode', outputPadding='output_padding')


def torch_kwargs(opts):
    return {TORCH_NAMES[k]: tup(v) for k, v in opts.items()}


def layer(name, cls, cin, cout, k, shape, special=False, purpose='', **opts):
    """A layer case; ``special``: its residual holds NaN, +-inf, +-1e30 and -0 (and, without bias,
    an all-zero input pixel, so that -0 meets an exactly zero conv output)."""
    LAYERS.append(dict(name=name, layer=cls, inChannels=cin, outChannels=cout, kernelSize=k, options=opts,
                       inputShape=list(shape), special=special, purpose=purpose))


layer('gemm_1x1', 'Conv2d', 24, 20, 1, [2, 24, 3, 3], purpose='1x1: the GEMM with B in place')
layer('gemm_3x3_s2', 'Conv2d', 10, 12, 3, [1, 10, 9, 8], stride=2, padding=1, purpose='strided 3x3: im2col GEMM')
layer('wino_3x3_16', 'Conv2d', 16, 16, 3, [1, 16, 6, 6], padding=1, purpose='3x3 stride 1, 16 channels: Winograd')
layer('dw3_s1', 'Conv2d', 16, 16, 3, [1, 16, 5, 6], groups=16, padding=1, purpose='depthwise 3x3 stride 1 (in place)')
layer('dw3_s2', 'Conv2d', 16, 16, 3, [1, 16, 7, 8], groups=16, stride=2, padding=1, purpose='depthwise 3x3 stride 2')
layer('dilated_3x3', 'Conv2d', 16, 16, 3, [1, 16, 7, 6], dilation=2, padding=2,
      purpose='dilated 3x3: Winograd over dilation phases, or direct')
layer('grouped_3x3', 'Conv2d', 12, 18, 3, [1, 12, 5, 5], groups=3, padding=1, purpose='grouped: grouped-direct')
layer('reflect_3x3', 'Conv2d', 6, 10, 3, [1, 6, 6, 7], padding=1, paddingMode='reflect', purpose='reflect padding')
layer('circular_s2', 'Conv2d', 6, 8, 3, [1, 6, 7, 8], padding=2, stride=2, paddingMode='circular',
      purpose='circular padding, stride 2')
layer('unbatched_5x5', 'Conv2d', 5, 7, 5, [5, 6, 6], padding=2, bias=False, purpose='unbatched [C, H, W], no bias')
layer('conv1d_k3', 'Conv1d', 8, 12, 3, [2, 8, 16], padding=1, purpose='Conv1d')
layer('conv1d_dw_same_unbatched', 'Conv1d', 8, 8, 5, [8, 13], padding='same', groups=8, paddingMode='replicate',
      purpose='Conv1d depthwise, unbatched [C, L]')
layer('convT_s2_op1', 'ConvTranspose2d', 8, 6, 3, [1, 8, 4, 5], stride=2, padding=1, outputPadding=1,
      purpose='ConvTranspose2d stride 2, output_padding 1')
layer('convT_k2_s2_grouped', 'ConvTranspose2d', 8, 8, 2, [1, 8, 3, 4], stride=2, groups=2, bias=False,
      purpose='ConvTranspose2d 2x2 stride 2 (UNet), grouped')
# special values: on GEMM, Winograd, depthwise in place and transposed
layer('special_gemm_1x1', 'Conv2d', 24, 20, 1, [1, 24, 4, 5], special=True, bias=False, purpose='special residual, GEMM')
layer('special_wino_3x3', 'Conv2d', 16, 16, 3, [1, 16, 6, 6], special=True, padding=1, purpose='special residual, Winograd')
layer('special_dw3_s1', 'Conv2d', 16, 16, 3, [1, 16, 5, 6], special=True, groups=16, padding=1,
      purpose='special residual, depthwise')
layer('special_convT', 'ConvTranspose2d', 8, 6, 3, [1, 8, 3, 3], special=True, stride=2, padding=1, outputPadding=1,
      purpose='special residual, transposed')
layer('special_conv1d', 'Conv1d', 8, 6, 3, [1, 8, 12], special=True, padding=1, purpose='special residual, Conv1d')


def fuse(name, cls, cin, cout, k, shape, act, prefix='bn.', **opts):
    """fuse_conv_bn_eval(conv, bn) followed by an activation (index into ACTIVATIONS), with a residual."""
    FUSE.append(dict(name=name, layer=cls, inChannels=cin, outChannels=cout, kernelSize=k, options=opts,
                     inputShape=list(shape), act=act, prefix=prefix))


fuse('fuse_conv2d_bn_relu', 'Conv2d', 16, 16, 3, [1, 16, 8, 8], 0, padding=1, bias=False, prefix='layer1.0.bn1.')
fuse('fuse_conv2d_dw_bn_relu6', 'Conv2d', 12, 12, 3, [1, 12, 7, 7], 1, padding=1, groups=12, stride=2, bias=False)
fuse('fuse_conv1d_bn_silu', 'Conv1d', 8, 10, 3, [2, 8, 12], 12, padding=1)
fuse('fuse_convT_bn_leaky', 'ConvTranspose2d', 6, 4, 4, [1, 6, 4, 4], 3, stride=2, padding=1)

SPECIALS = [float('nan'), float('inf'), float('-inf'), 1e30, -1e30, -0.0]


def build(c):
    cls = CLASSES[c['layer']]
    return cls(c['inChannels'], c['outChannels'], tup(c['kernelSize']), **torch_kwargs(c['options'])).eval()


def taps(conv):
    """K: the most products one output element sums (in/groups * kernel)."""
    in_per_group = conv.in_channels // conv.groups
    return int(in_per_group * np.prod(conv.kernel_size))


def special_residual(shape):
    r = torch.randn(*shape)
    flat = r.view(-1)
    for i in range(0, flat.numel(), 5):
        flat[i] = SPECIALS[(i // 5) % len(SPECIALS)]
    return r


def act_entry(form, module):
    return {'activation': form, 'activationRepr': repr(module)}


def layer_case(c, b):
    seed(c['name'])
    conv = build(c)
    x = torch.randn(*c['inputShape'])
    zero_pixel = c['special'] and conv.bias is None and c['kernelSize'] == 1
    if zero_pixel:
        x[:, :, 0, 0] = 0.0  # a 1x1 conv without bias gives exactly 0 there
    y = conv(x)
    residual = special_residual(y.shape) if c['special'] else torch.randn(*y.shape)
    if zero_pixel:
        residual[:, :, 0, 0] = -0.0  # -0 onto an exact 0: the sign of zero is pinned
    bound = abs_module(conv)(x.double().abs())
    outputs = []
    for i, (form, fn, module) in enumerate(ACTIVATIONS):
        if not c['special']:  # the special values are in the residual only
            outputs.append({**act_entry(form, module), 'index': i, 'residual': False, 'expected': b.put(fn(y))})
        outputs.append({**act_entry(form, module), 'index': i, 'residual': True, 'expected': b.put(fn(y + residual))})
    return {
        'name': c['name'], 'layer': c['layer'], 'purpose': c['purpose'], 'special': c['special'],
        'inChannels': c['inChannels'], 'outChannels': c['outChannels'], 'kernelSize': c['kernelSize'],
        'options': c['options'], 'repr': repr(conv),
        'inputShape': list(x.shape), 'weightShape': list(conv.weight.shape), 'outputShape': list(y.shape),
        'K': taps(conv), 'input': b.put(x), 'weight': b.put(conv.weight),
        'bias': None if conv.bias is None else b.put(conv.bias), 'residual': b.put(residual),
        'plain': b.put(y),
        'absBound': b.put(bound), 'absBoundResidual': b.put(bound + residual.double().abs()),
        'outputs': outputs,
    }


def fuse_case(c, b):
    seed(c['name'])
    conv = build(c)
    transposed = c['layer'] == 'ConvTranspose2d'
    bn = bn_for('Conv1d' if c['layer'] == 'Conv1d' else 'Conv2d', c['outChannels'], True, 1e-5)
    form, fn, module = ACTIVATIONS[c['act']]
    x = torch.randn(*c['inputShape'])
    y_bn = bn(conv(x))
    residual = torch.randn(*y_bn.shape)
    fused = fuse_conv_bn_eval(conv, bn, transpose=transposed) if transposed else fuse_conv_bn_eval(conv, bn)
    y_fused = fused(x)
    # float64 bound: |x| through |w_fused| + |w|, the BatchNorm terms, and |residual|
    absconv = abs_module(fused)
    with torch.no_grad():
        absconv.weight.add_(conv.weight.double().abs())
        r = torch.rsqrt(bn.running_var.double() + 1e-5)
        b0 = conv.bias.double() if conv.bias is not None else torch.zeros_like(r)
        absconv.bias.copy_(((b0 - bn.running_mean.double()) * r * bn.weight.double()).abs() + bn.bias.double().abs()
                           + b0.abs())
    bound = absconv(x.double().abs()) + residual.double().abs()
    state = {k: b.put(getattr(bn, k)) for k in ('weight', 'bias', 'running_mean', 'running_var')}
    return {
        'name': c['name'], 'layer': c['layer'], 'inChannels': c['inChannels'], 'outChannels': c['outChannels'],
        'kernelSize': c['kernelSize'], 'options': c['options'], 'prefix': c['prefix'], 'eps': 1e-5,
        **act_entry(form, module), 'repr': repr(conv),
        'inputShape': list(x.shape), 'weightShape': list(conv.weight.shape), 'outputShape': list(y_bn.shape),
        'K': taps(conv), 'input': b.put(x), 'weight': b.put(conv.weight),
        'bias': None if conv.bias is None else b.put(conv.bias), 'bn': state, 'residual': b.put(residual),
        'absBound': b.put(bound),
        'expectedBn': b.put(fn(y_bn + residual)), 'expectedFused': b.put(fn(y_fused + residual)),
        'expectedBnNoResidual': b.put(fn(y_bn)),
    }


def main():
    b = Bin()
    names = [c['name'] for c in LAYERS + FUSE]
    assert len(names) == len(set(names)), 'duplicate case names'
    with torch.no_grad():
        layers = [layer_case(c, b) for c in LAYERS]
        fused = [fuse_case(c, b) for c in FUSE]
    data = np.concatenate(b.chunks).astype('<f4')
    with open(os.path.join(OUT_DIR, 'epilogue.bin'), 'wb') as f:
        f.write(data.tobytes())
    manifest = {
        'generator': 'scripts/gen_epilogue_fixtures.py',
        'torch': torch.__version__, 'numpy': np.__version__,
        'dtype': 'float32', 'byteOrder': 'little', 'units': 'offset/length in float32 elements',
        'totalElements': int(data.size),
        'activations': [act_entry(form, module) for form, _, module in ACTIVATIONS],
        'layers': layers, 'fuse': fused,
    }
    path = os.path.join(OUT_DIR, 'epilogue.json')
    with open(path, 'w') as f:
        json.dump(manifest, f, indent=1)
        f.write('\n')
    outputs = sum(len(c['outputs']) for c in layers)
    print(f'torch {torch.__version__}: epilogue fixtures: {len(layers)} layers x {len(ACTIVATIONS)} activations '
          f'x with/without residual = {outputs} outputs, {len(fused)} fuse + activation')
    print(f'  epilogue.bin: {data.nbytes} bytes; epilogue.json: {os.path.getsize(path)} bytes')


if __name__ == '__main__':
    sys.exit(main())
