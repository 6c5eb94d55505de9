#!/usr/bin/python3
"""PyTorch fixtures for the conv family (test/family.test.js): torch.nn.Conv1d,
torch.nn.functional.conv1d, PyTorch's Conv1d/conv1d errors, and
torch.nn.utils.fusion.fuse_conv_bn_eval for Conv2d and Conv1d.

Written by scripts/gen_fixtures.py after the Conv2d parity set, or alone:

    /usr/bin/python3 scripts/gen_family_fixtures.py

Writes test/fixtures/family.json (manifest) and family.bin (every float32
array, little-endian, concatenated; offsets and lengths in float32 elements),
kept apart from parity.json/parity.bin so each set regenerates on its own.
Conventions follow gen_fixtures.py: each case seeds torch with the CRC32 of its
name, one thread, and stores ``absBound`` (float64 sum |x*w| + |b| per output
element) for the tolerance 4*eps32*(sqrt(K)+2)*absBound.

Fuse cases store PyTorch's fused weight and bias (which the JS side must equal
bit for bit: fuse_conv_bn_eval is elementwise float32 arithmetic), the fused
layer's output and bn(conv(x)); their ``absBound`` also counts the BatchNorm
terms |(b - mean) * rsqrt(var + eps) * gamma| + |beta|, so it bounds the
rounding of both evaluation orders.
"""
import copy
import json
import math
import os
import re
import sys
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.fusion import fuse_conv_bn_eval

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_fixtures import EPS32, OUT_DIR, abs_module, tup  # noqa: E402  (also sets threads, warnings)
from gen_fixtures import run_module as run_module_2d  # noqa: E402

CONV1D, FUNC1D, ERRORS, FUSE = [], [], [], []
OPTS_1D = ('stride', 'padding', 'dilation', 'groups', 'bias', 'paddingMode')
TORCH_NAMES = dict(stride='stride', padding='padding', dilation='dilation', groups='groups',
                   bias='bias', paddingMode='padding_mode')


def run_module(conv, x):
    """conv(x), with gen_fixtures.run_module's rule for torch 1.13's circular F.pad, which
    rejects unbatched input: evaluate it as a batch of one (what PyTorch >= 2.0 does)."""
    if x.dim() == 2 and getattr(conv, 'padding_mode', None) == 'circular':
        return conv(x.unsqueeze(0)).squeeze(0), 'unbatched circular evaluated as N=1 (torch 1.13 F.pad limitation)'
    return run_module_2d(conv, x)


def torch_kwargs(opts):
    return {TORCH_NAMES[k]: tup(v) for k, v in opts.items()}


def mod(name, cin, cout, k, shape, **opts):
    """A torch.nn.Conv1d case; opts use the JS (camelCase) names."""
    assert all(key in OPTS_1D for key in opts), opts
    CONV1D.append(dict(name=name, inChannels=cin, outChannels=cout, kernelSize=k, options=opts,
                       inputShape=list(shape)))


def fun(name, shape, wshape, bias, **opts):
    """A torch.nn.functional.conv1d case (zero padding only)."""
    assert all(key in ('stride', 'padding', 'dilation', 'groups') for key in opts), opts
    FUNC1D.append(dict(name=name, weightShape=list(wshape), hasBias=bias, options=opts, inputShape=list(shape)))


def err(name, jsClass, ours=None, **call):
    """A call PyTorch rejects. ``call`` is a module call (ctor=[cin, cout, k], options, input)
    or a functional one (functional=True, input, weight, bias). ``ours`` is a regex our
    message must match; None means our message contains PyTorch's first line verbatim."""
    ERRORS.append(dict(name=name, jsClass=jsClass, ours=ours, call=call))


def fuse(name, layer, cin, cout, k, shape, bn_affine=True, eps=1e-5, prefix='', **opts):
    """fuse_conv_bn_eval(conv, bn) for a torch.nn.Conv2d/Conv1d and BatchNorm2d/1d."""
    assert layer in ('Conv2d', 'Conv1d')
    FUSE.append(dict(name=name, layer=layer, inChannels=cin, outChannels=cout, kernelSize=k, options=opts,
                     inputShape=list(shape), bnAffine=bn_affine, eps=eps, prefix=prefix))


# --- Conv1d: kernel, stride, padding, dilation ------------------------------
mod('basic_k3_defaults', 3, 4, 3, [2, 3, 10])
mod('k1', 5, 7, 1, [2, 5, 7])
mod('k_as_1_tuple', 4, 6, [3], [1, 4, 9], padding=[1], stride=[2], dilation=[1])
mod('k2_even', 3, 5, 2, [1, 3, 9])
mod('k7_valid_region', 2, 3, 7, [1, 2, 11])
mod('stride2_pad1_odd', 4, 8, 3, [1, 4, 11], stride=2, padding=1)
mod('stride3_k2', 3, 4, 2, [2, 3, 14], stride=3)
mod('stride4_gt_kernel', 3, 5, 2, [1, 3, 17], stride=4, padding=1)
mod('pad2', 3, 4, 3, [1, 3, 8], padding=2)
mod('pad_gt_kernel_bias_only_border', 2, 3, 2, [1, 2, 5], padding=3)
mod('valid', 3, 4, 3, [1, 3, 9], padding='valid')
mod('valid_stride2', 3, 4, 4, [1, 3, 12], padding='valid', stride=2)
mod('same_k3', 3, 5, 3, [1, 3, 8], padding='same')
mod('same_k5', 3, 5, 5, [2, 3, 9], padding='same')
mod('same_even_k2', 3, 4, 2, [1, 3, 7], padding='same')
mod('same_even_k4', 3, 4, 4, [1, 3, 9], padding='same')
mod('same_dil2_k3', 3, 4, 3, [1, 3, 10], padding='same', dilation=2)
mod('same_dil3_k2_odd_total', 3, 4, 2, [1, 3, 9], padding='same', dilation=3)
mod('same_dil2_k4', 3, 4, 4, [1, 3, 12], padding='same', dilation=2)
mod('dil2_pad2', 3, 4, 3, [1, 3, 11], dilation=2, padding=2)
mod('dil3_stride2', 3, 4, 3, [2, 3, 17], dilation=3, stride=2)
mod('dil4_causal_like_pad8', 6, 6, 3, [1, 6, 20], dilation=4, padding=8)

# --- groups -----------------------------------------------------------------
mod('groups2', 4, 6, 3, [1, 4, 9], groups=2, padding=1)
mod('grouped_8_12_g4', 8, 12, 3, [2, 8, 10], groups=4, padding=1)
mod('depthwise_5', 5, 5, 3, [1, 5, 9], groups=5, padding=1)
mod('depthwise_mult2_4_8', 4, 8, 3, [1, 4, 9], groups=4, padding=1)
mod('depthwise_17_stride2', 17, 17, 3, [1, 17, 13], groups=17, stride=2, padding=1)
mod('depthwise_same_k5_dil2', 12, 12, 5, [2, 12, 15], groups=12, padding='same', dilation=2)
mod('depthwise_nobias', 8, 8, 3, [1, 8, 9], groups=8, bias=False, padding=1)
mod('grouped_out_lt_in_12_4_g4', 12, 4, 3, [1, 12, 7], groups=4)
mod('grouped_1x1_16_32_g8', 16, 32, 1, [1, 16, 6], groups=8)

# --- bias -------------------------------------------------------------------
mod('nobias', 3, 4, 3, [1, 3, 8], bias=False)
mod('nobias_stride_pad', 5, 7, 3, [2, 5, 10], bias=False, stride=2, padding=1)
mod('bias_true_explicit_zeros_mode', 3, 4, 3, [1, 3, 7], bias=True, paddingMode='zeros')

# --- padding modes ----------------------------------------------------------
for mode in ('reflect', 'replicate', 'circular'):
    mod(f'{mode}_pad1', 3, 4, 3, [1, 3, 8], padding=1, paddingMode=mode)
    mod(f'{mode}_pad2_stride2', 3, 5, 3, [2, 3, 11], padding=2, stride=2, paddingMode=mode)
    mod(f'{mode}_same_k3', 3, 4, 3, [1, 3, 7], padding='same', paddingMode=mode)
    mod(f'{mode}_same_even_k4', 3, 4, 4, [1, 3, 8], padding='same', paddingMode=mode)
    mod(f'{mode}_same_dil3_k2', 3, 4, 2, [1, 3, 8], padding='same', dilation=3, paddingMode=mode)
    mod(f'{mode}_dil2_pad2', 3, 4, 3, [1, 3, 9], padding=2, dilation=2, paddingMode=mode)
    mod(f'{mode}_depthwise', 4, 8, 3, [1, 4, 8], groups=4, padding=1, paddingMode=mode)
    mod(f'{mode}_nobias_unbatched', 3, 4, 3, [3, 8], bias=False, padding=1, paddingMode=mode)
    mod(f'{mode}_pad0_no_effect', 3, 4, 3, [1, 3, 7], paddingMode=mode)
    mod(f'{mode}_valid', 3, 4, 2, [1, 3, 7], padding='valid', paddingMode=mode)
    mod(f'{mode}_batch0', 3, 4, 3, [0, 3, 7], padding=1, paddingMode=mode)
mod('reflect_pad_len_minus_1', 2, 3, 3, [1, 2, 4], padding=3, paddingMode='reflect')
mod('reflect_same_k5_len3', 2, 3, 5, [2, 2, 3], padding='same', paddingMode='reflect')
mod('circular_pad_eq_len', 2, 3, 3, [1, 2, 3], padding=3, paddingMode='circular')
mod('circular_len1_pad1', 2, 3, 3, [1, 2, 1], padding=1, paddingMode='circular')
mod('replicate_pad_gt_len', 2, 3, 3, [1, 2, 3], padding=5, paddingMode='replicate')
mod('replicate_len1_pad2', 2, 3, 3, [2, 2, 1], padding=2, paddingMode='replicate')
mod('reflect_grouped_same_dil2', 6, 9, 3, [1, 6, 11], groups=3, padding='same', dilation=2, paddingMode='reflect')
mod('circular_stride3_dil2', 3, 4, 3, [1, 3, 13], padding=2, stride=3, dilation=2, paddingMode='circular')

# --- batch, unbatched, tiny -------------------------------------------------
mod('batch3', 3, 4, 3, [3, 3, 8], padding=1)
mod('batch0', 3, 4, 3, [0, 3, 8], padding=1)
mod('unbatched_basic', 3, 4, 3, [3, 8])
mod('unbatched_same_even', 3, 4, 4, [3, 8], padding='same')
mod('unbatched_grouped_stride', 4, 6, 3, [4, 11], groups=2, stride=2, padding=1)
mod('unbatched_circular_same', 3, 4, 3, [3, 7], padding='same', paddingMode='circular')
mod('tiny_len1_k1', 3, 4, 1, [1, 3, 1])
mod('tiny_len1_k3_pad1', 3, 4, 3, [2, 3, 1], padding=1)
mod('tiny_len1_same_k3', 3, 4, 3, [1, 3, 1], padding='same')
mod('out1_exact', 3, 4, 3, [1, 3, 3])
mod('single_channel', 1, 1, 3, [1, 1, 9], padding=1)

# --- larger: GEMM blocking and K tails; audio/sequence front ends -----------
mod('whisper_like_80_96_k3', 80, 96, 3, [1, 80, 40], padding=1)
mod('whisper_like_stride2_64_64', 64, 64, 3, [1, 64, 24], padding=1, stride=2)
mod('large_K960_192_24_k5', 192, 24, 5, [1, 192, 20], padding=2)
mod('tcn_dil8_32_32', 32, 32, 3, [2, 32, 40], dilation=8, padding=8)
mod('pointwise_256_48', 256, 48, 1, [1, 256, 16])
mod('wide_len300_8_8_k7', 8, 8, 7, [1, 8, 300], padding=3)
mod('large_depthwise_64_k9', 64, 64, 9, [1, 64, 33], groups=64, padding=4)
mod('large_reflect_same_32_32', 32, 32, 3, [1, 32, 25], padding='same', paddingMode='reflect')
mod('large_unbatched_59_37_s2', 59, 37, 3, [59, 21], padding=1, stride=2)

# --- functional F.conv1d ------------------------------------------------------
fun('F_basic_pad1', [1, 3, 9], [4, 3, 3], True, padding=1)
fun('F_defaults_nobias', [2, 3, 8], [5, 3, 3], False)
fun('F_stride_pad', [1, 3, 12], [4, 3, 2], True, padding=2, stride=3)
fun('F_valid', [1, 3, 9], [4, 3, 3], True, padding='valid')
fun('F_same_k3', [1, 3, 9], [4, 3, 3], True, padding='same')
fun('F_same_even_k4_dil2', [1, 3, 11], [4, 3, 4], True, padding='same', dilation=2)
fun('F_groups2_dil2', [1, 4, 12], [6, 2, 3], True, groups=2, dilation=2, padding=2)
fun('F_depthwise_unbatched_stride2', [5, 11], [10, 1, 3], True, groups=5, padding=1, stride=2)
fun('F_unbatched_same', [3, 8], [4, 3, 4], True, padding='same')
fun('F_batch0', [0, 3, 8], [4, 3, 3], True, padding=1)
fun('F_large_K576', [1, 192, 12], [24, 192, 3], True, padding=1)

# --- errors: the call and what PyTorch raises ----------------------------------
M = dict(ctor=[3, 4, 3])
err('input_1d', 'RangeError', **M, options={}, input=[8])
err('input_4d', 'RangeError', **M, options={}, input=[1, 3, 4, 5])
err('channels_batched', 'RangeError', **M, options={}, input=[1, 5, 10])
err('channels_unbatched', 'RangeError', **M, options={}, input=[5, 10])
err('channels_grouped', 'RangeError', ctor=[4, 4, 3], options={'groups': 2}, input=[1, 6, 10])
err('too_short', 'RangeError', **M, options={}, input=[1, 3, 2])
err('too_short_padded', 'RangeError', ctor=[3, 4, 5], options={'padding': 1}, input=[1, 3, 2])
err('too_short_dilated', 'RangeError', **M, options={'dilation': 3}, input=[1, 3, 6])
err('length0', 'RangeError', r'input length must be at least 1, got input of size \[1, 3, 0\]', **M,
    options={}, input=[1, 3, 0])
err('reflect_pad_eq_len', 'RangeError', **M, options={'padding': 3, 'paddingMode': 'reflect'}, input=[1, 3, 3])
err('reflect_pad_eq_len_unbatched', 'RangeError', **M, options={'padding': 3, 'paddingMode': 'reflect'},
    input=[3, 3])
err('reflect_same_too_short', 'RangeError', ctor=[3, 4, 5], options={'padding': 'same', 'paddingMode': 'reflect'},
    input=[1, 3, 2])
err('circular_pad_gt_len', 'RangeError', **M, options={'padding': 4, 'paddingMode': 'circular'}, input=[1, 3, 3])
err('same_strided', 'RangeError', **M, options={'padding': 'same', 'stride': 2}, input=[1, 3, 8])
err('groups_in', 'RangeError', r'inChannels \(6\) must be divisible by groups \(4\)', ctor=[6, 8, 3],
    options={'groups': 4}, input=[1, 6, 8])
err('groups_out', 'RangeError', r'outChannels \(6\) must be divisible by groups \(4\)', ctor=[8, 6, 3],
    options={'groups': 4}, input=[1, 8, 8])
err('padding_string', 'TypeError', r"padding must be an integer, 'valid' or 'same', got \"full\"", **M,
    options={'padding': 'full'}, input=[1, 3, 8])
err('padding_mode', 'TypeError', r"paddingMode must be one of 'zeros', 'reflect', 'replicate', 'circular', "
    r'got "mirror"', **M, options={'paddingMode': 'mirror'}, input=[1, 3, 8])
err('negative_padding', 'RangeError', r'padding must be an integer in \[0, .*got -1', **M,
    options={'padding': -1}, input=[1, 3, 8])
err('zero_stride', 'RangeError', r'stride must be an integer in \[1, .*got 0', **M,
    options={'stride': 0}, input=[1, 3, 8])
err('zero_dilation', 'RangeError', r'dilation must be an integer in \[1, .*got 0', **M,
    options={'dilation': 0}, input=[1, 3, 8])
err('F_input_1d', 'RangeError', functional=True, input=[8], weight=[4, 3, 3], bias=None, options={})
err('F_input_4d', 'RangeError', functional=True, input=[1, 3, 8, 8], weight=[4, 3, 3], bias=None, options={})
err('F_weight_2d', 'RangeError', r'weight must be 3-D \[outChannels, inChannels/groups, k\], got shape \[4, 3\]',
    functional=True, input=[1, 3, 8], weight=[4, 3], bias=None, options={})
err('F_weight_4d', 'RangeError', r'weight must be 3-D .*got shape \[4, 3, 1, 3\]',
    functional=True, input=[1, 3, 8], weight=[4, 3, 1, 3], bias=None, options={})
err('F_channels', 'RangeError', functional=True, input=[1, 5, 8], weight=[4, 3, 3], bias=None, options={})
err('F_bias_size', 'RangeError', functional=True, input=[1, 3, 8], weight=[4, 3, 3], bias=[5], options={})
err('F_groups_weight', 'RangeError', r'Given groups=2, expected weight to be divisible by 2 at dimension 0, '
    r'but got weight of size \[5, 3, 3\] instead', functional=True, input=[1, 6, 8], weight=[5, 3, 3], bias=None,
    options={'groups': 2})
err('F_same_strided', 'RangeError', functional=True, input=[1, 3, 8], weight=[4, 3, 3], bias=None,
    options={'padding': 'same', 'stride': 2})
err('F_too_short', 'RangeError', functional=True, input=[1, 3, 2], weight=[4, 3, 3], bias=None, options={})

# --- fuse_conv_bn_eval -----------------------------------------------------------
fuse('conv2d_bias_pad1', 'Conv2d', 3, 8, 3, [2, 3, 7, 6], padding=1)
fuse('conv2d_nobias_resnet_like', 'Conv2d', 16, 24, 3, [1, 16, 8, 9], eps=1e-3, prefix='layer1.0.bn1.',
     padding=1, bias=False)
fuse('conv2d_depthwise_stride2', 'Conv2d', 12, 12, 3, [1, 12, 9, 9], groups=12, stride=2, padding=1, bias=False)
fuse('conv2d_bn_affine_false', 'Conv2d', 4, 6, [3, 1], [1, 4, 6, 5], bn_affine=False, padding=[1, 0])
fuse('conv2d_reflect_same_grouped', 'Conv2d', 6, 9, 3, [1, 6, 7, 8], groups=3, padding='same',
     paddingMode='reflect', prefix='features.3.')
fuse('conv2d_1x1_large_eps', 'Conv2d', 32, 20, 1, [1, 32, 5, 6], eps=0.1)
fuse('conv1d_bias', 'Conv1d', 4, 6, 3, [2, 4, 11], padding=1, prefix='bn.')
fuse('conv1d_nobias_groups2', 'Conv1d', 8, 10, 5, [1, 8, 16], groups=2, bias=False, eps=1e-3, stride=2)
fuse('conv1d_same_dil2_affine_false', 'Conv1d', 5, 7, 3, [5, 13], padding='same', dilation=2, bn_affine=False)
fuse('conv1d_circular_depthwise', 'Conv1d', 9, 9, 3, [1, 9, 10], groups=9, padding=1, paddingMode='circular')


# ---------------------------------------------------------------------------
class Bin:
    """float32 arrays concatenated; each put() returns its {offset, length}."""

    def __init__(self):
        self.chunks, self.cursor = [], 0

    def put(self, t):
        a = np.ascontiguousarray(t.detach().cpu().numpy().astype('<f4')).reshape(-1)
        ref = {'offset': self.cursor, 'length': int(a.size)}
        self.chunks.append(a)
        self.cursor += a.size
        return ref


def seed(name):
    torch.manual_seed(zlib.crc32(name.encode()) & 0x7fffffff)


def err_ratio(y, y64, bound, K):
    """PyTorch's own float32 error in units of eps32 * (sqrt(K) + 2) * absBound."""
    if y.numel() == 0:
        return 0.0
    err = (y.double() - y64).abs()
    denom = EPS32 * (math.sqrt(K) + 2.0) * bound
    return float(torch.where(denom > 0, err / denom.clamp_min(1e-300),
                             torch.where(err > 0, torch.full_like(err, float('inf')), torch.zeros_like(err))).max())


def torch_attrs(conv):
    return {
        'kernelSize': list(conv.kernel_size), 'stride': list(conv.stride),
        'padding': conv.padding if isinstance(conv.padding, str) else list(conv.padding),
        'dilation': list(conv.dilation), 'groups': conv.groups, 'paddingMode': conv.padding_mode,
    }


def conv1d_case(c, b):
    seed(c['name'])
    conv = nn.Conv1d(c['inChannels'], c['outChannels'], tup(c['kernelSize']), **torch_kwargs(c['options'])).eval()
    x = torch.randn(*c['inputShape'])
    y, note = run_module(conv, x)
    y64, _ = run_module(copy.deepcopy(conv).double(), x.double())
    bound, _ = run_module(abs_module(conv), x.double().abs())
    K = int(conv.weight.shape[1] * conv.weight.shape[2])
    entry = {
        'name': c['name'], 'inChannels': c['inChannels'], 'outChannels': c['outChannels'],
        'kernelSize': c['kernelSize'], 'options': c['options'], 'repr': repr(conv), 'torchAttrs': torch_attrs(conv),
        'inputShape': list(x.shape), 'weightShape': list(conv.weight.shape), 'outputShape': list(y.shape), 'K': K,
        'torchErrRatio': err_ratio(y, y64, bound, K),
        'input': b.put(x), 'weight': b.put(conv.weight), 'bias': None if conv.bias is None else b.put(conv.bias),
        'expected': b.put(y), 'absBound': b.put(bound),
    }
    if note:
        entry['note'] = note
    return entry


def func1d_case(c, b):
    seed(c['name'])
    wshape = c['weightShape']
    x = torch.randn(*c['inputShape'])
    w = torch.randn(*wshape) / math.sqrt(wshape[1] * wshape[2])
    bias = torch.randn(wshape[0]) * 0.1 if c['hasBias'] else None
    kw = {k: tup(v) for k, v in c['options'].items()}
    y = F.conv1d(x, w, bias, **kw)
    y64 = F.conv1d(x.double(), w.double(), None if bias is None else bias.double(), **kw)
    bound = F.conv1d(x.double().abs(), w.double().abs(), None if bias is None else bias.double().abs(), **kw)
    K = int(wshape[1] * wshape[2])
    return {
        'name': c['name'], 'options': c['options'], 'inputShape': list(x.shape), 'weightShape': wshape,
        'outputShape': list(y.shape), 'K': K, 'torchErrRatio': err_ratio(y, y64, bound, K),
        'input': b.put(x), 'weight': b.put(w), 'bias': None if bias is None else b.put(bias),
        'expected': b.put(y), 'absBound': b.put(bound),
    }


def error_case(c):
    call = c['call']
    seed(c['name'])
    try:
        if call.get('functional'):
            F.conv1d(torch.randn(*call['input']), torch.randn(*call['weight']),
                     None if call['bias'] is None else torch.randn(*call['bias']),
                     **{k: tup(v) for k, v in call['options'].items()})
        else:
            cin, cout, k = call['ctor']
            nn.Conv1d(cin, cout, k, **torch_kwargs(call['options']))(torch.randn(*call['input']))
    except (RuntimeError, ValueError) as e:
        # Python prints a set in a per-process order: sort it so reruns write the same bytes.
        message = re.sub(r'\{([^{}]*)\}', lambda m: '{' + ', '.join(sorted(m.group(1).split(', '))) + '}',
                         str(e).split('\n')[0])
        return {'name': c['name'], 'call': call, 'torchError': type(e).__name__, 'torchMessage': message, 'jsClass': c['jsClass'], 'ours': c['ours']}
    raise AssertionError(f"error case {c['name']}: PyTorch accepted it")


def bn_for(layer, channels, affine, eps):
    bn = (nn.BatchNorm2d if layer == 'Conv2d' else nn.BatchNorm1d)(channels, eps=eps, affine=affine)
    with torch.no_grad():
        bn.running_mean.copy_(torch.randn(channels) * 0.5)
        # spread over orders of magnitude, some near eps so that eps matters
        bn.running_var.copy_(torch.exp(torch.randn(channels) * 2.0) * 0.5)
        bn.running_var[0] = eps * 0.5
        if affine:
            bn.weight.copy_(torch.randn(channels))
            bn.bias.copy_(torch.randn(channels) * 0.5)
    return bn.eval()


def fuse_case(c, b):
    seed(c['name'])
    cls = nn.Conv2d if c['layer'] == 'Conv2d' else nn.Conv1d
    conv = cls(c['inChannels'], c['outChannels'], tup(c['kernelSize']), **torch_kwargs(c['options'])).eval()
    bn = bn_for(c['layer'], c['outChannels'], c['bnAffine'], c['eps'])
    fused = fuse_conv_bn_eval(conv, bn)
    x = torch.randn(*c['inputShape'])
    # BatchNorm1d reads a 2-D input as [N, C]: an unbatched [C, L] input runs as a batch of one
    unbatched = x.dim() == (3 if c['layer'] == 'Conv2d' else 2)
    xb = x.unsqueeze(0) if unbatched else x
    def run(m, inp):
        y = m(inp)
        return y.squeeze(0) if unbatched else y
    y_bn = run(nn.Sequential(conv, bn), xb)
    y_fused = run(fused, xb)
    # float64 bound: sum |x * w_fused| + |(b - mean) * r * gamma| + |beta|
    r = torch.rsqrt(bn.running_var.double() + c['eps'])
    gamma = bn.weight.double() if bn.weight is not None else torch.ones_like(r)
    beta = bn.bias.double() if bn.bias is not None else torch.zeros_like(r)
    b0 = conv.bias.double() if conv.bias is not None else torch.zeros_like(r)
    absconv = abs_module(fused)
    with torch.no_grad():
        absconv.bias.copy_(((b0 - bn.running_mean.double()) * r * gamma).abs() + beta.abs())
    bound = run(absconv, xb.double().abs())
    y64 = run(nn.Sequential(copy.deepcopy(conv).double(), copy.deepcopy(bn).double()), xb.double())
    K = int(np.prod(conv.weight.shape[1:]))
    state = {'running_mean': b.put(bn.running_mean), 'running_var': b.put(bn.running_var)}
    if c['bnAffine']:
        state.update(weight=b.put(bn.weight), bias=b.put(bn.bias))
    entry = {
        'name': c['name'], 'layer': c['layer'], 'inChannels': c['inChannels'], 'outChannels': c['outChannels'],
        'kernelSize': c['kernelSize'], 'options': c['options'], 'eps': c['eps'], 'prefix': c['prefix'],
        'repr': repr(conv), 'fusedRepr': repr(fused),
        'inputShape': list(x.shape), 'weightShape': list(conv.weight.shape), 'outputShape': list(y_bn.shape), 'K': K,
        'torchErrRatio': max(err_ratio(y_bn, y64, bound, K), err_ratio(y_fused, y64, bound, K)),
        'input': b.put(x), 'weight': b.put(conv.weight), 'bias': None if conv.bias is None else b.put(conv.bias),
        'bn': state, 'fusedWeight': b.put(fused.weight), 'fusedBias': b.put(fused.bias),
        'expectedFused': b.put(y_fused), 'expectedBn': b.put(y_bn), 'absBound': b.put(bound),
    }
    return entry


def unique(cases):
    names = [c['name'] for c in cases]
    assert len(names) == len(set(names)), 'duplicate case names'
    return cases


def main():
    b = Bin()
    with torch.no_grad():
        conv1d = [conv1d_case(c, b) for c in unique(CONV1D)]
        func = [func1d_case(c, b) for c in unique(FUNC1D)]
        fused = [fuse_case(c, b) for c in unique(FUSE)]
    errors = [error_case(c) for c in unique(ERRORS)]
    data = np.concatenate(b.chunks).astype('<f4')
    with open(os.path.join(OUT_DIR, 'family.bin'), 'wb') as f:
        f.write(data.tobytes())
    manifest = {
        'generator': 'scripts/gen_family_fixtures.py',
        'torch': torch.__version__, 'numpy': np.__version__,
        'dtype': 'float32', 'byteOrder': 'little', 'units': 'offset/length in float32 elements',
        'totalElements': int(data.size),
        'conv1d': conv1d, 'functional1d': func, 'errors': errors, 'fuse': fused,
    }
    path = os.path.join(OUT_DIR, 'family.json')
    with open(path, 'w') as f:
        json.dump(manifest, f, indent=1)
        f.write('\n')
    worst = max(conv1d + func + fused, key=lambda c: c['torchErrRatio'])
    print(f'torch {torch.__version__}: family fixtures: {len(conv1d)} Conv1d, {len(func)} F.conv1d, '
          f'{len(errors)} errors, {len(fused)} fuse_conv_bn_eval')
    print(f"  torch f32 error / (eps32*(sqrt(K)+2)*absBound): max {worst['torchErrRatio']:.3f} ({worst['name']})")
    for c in conv1d:
        if 'note' in c:
            print(f"  note: {c['name']}: {c['note']}")
    print(f'  family.bin: {data.nbytes} bytes; family.json: {os.path.getsize(path)} bytes')


if __name__ == '__main__':
    sys.exit(main())
