#!/usr/bin/python3
"""Generate the PyTorch parity fixtures used by test/parity.test.js.

Run with the system interpreter that has torch + numpy:

    /usr/bin/python3 scripts/gen_fixtures.py

Writes
  test/fixtures/parity.json  manifest (one entry per case, see below)
  test/fixtures/parity.bin   every float32 array, little-endian, concatenated
and then, through scripts/gen_family_fixtures.py, family.json / family.bin
(Conv1d, F.conv1d, fuse_conv_bn_eval; see that script).

Each case is either a torch.nn.Conv2d module case (``functional: false``) or a
torch.nn.functional.conv2d case (``functional: true``).  Module cases record the
constructor arguments exactly as the JavaScript side passes them
(``new Conv2d(inChannels, outChannels, kernelSize, options)`` with camelCase
options), PyTorch's ``repr(conv)``, and the module's own default-initialised
weight/bias (kaiming-uniform).  Array references are ``{offset, length}`` in
float32 elements into parity.bin.

Besides the float32 expected output of PyTorch (module in float32, one
thread), every case stores ``absBound``: per output element, the float64 value
of  sum over the reduction |x_padded * w| + |b|, i.e. the magnitude of the
summed terms.  Rounding error of any reasonable float32 summation order of a
length-K reduction is a small multiple of eps32 * sqrt(K) * absBound (and is
rigorously below K * eps32 * absBound), which is what the test's tolerance uses.
``torchErrRatio`` is PyTorch's own float32 error against a float64 evaluation of
the same module, in units of eps32 * (sqrt(K) + 2) * absBound, to show the
headroom of that tolerance.

Each case seeds torch with a CRC of its name, so adding or removing a case does
not change the data of the others.
"""
import json
import math
import os
import sys
import zlib
import copy
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, 'test', 'fixtures')
EPS32 = 2.0 ** -23

torch.set_num_threads(1)
# 'same' with an even kernel warns that it pads a copy of the input; expected.
warnings.filterwarnings('ignore', message="Using padding='same'")
torch.use_deterministic_algorithms(True)


def tup(v):
    """JS Pair (int or [a, b]) -> what we hand to torch (int or tuple)."""
    return tuple(v) if isinstance(v, list) else v


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


# ---------------------------------------------------------------------------
# Case list
# ---------------------------------------------------------------------------
CASES = []


def mod(name, cin, cout, k, shape, **opts):
    """A torch.nn.Conv2d case. opts use the JS (camelCase) option names."""
    for key in opts:
        assert key in ('stride', 'padding', 'dilation', 'groups', 'bias', 'paddingMode'), key
    CASES.append(dict(name=name, functional=False, inChannels=cin, outChannels=cout,
                      kernelSize=k, options=opts, inputShape=list(shape)))


def fun(name, shape, wshape, bias, **opts):
    """A torch.nn.functional.conv2d case (zero padding only)."""
    for key in opts:
        assert key in ('stride', 'padding', 'dilation', 'groups'), key
    CASES.append(dict(name=name, functional=True, weightShape=list(wshape), hasBias=bias,
                      options=opts, inputShape=list(shape)))


# --- kernel shapes ----------------------------------------------------------
mod('basic_3x3_defaults', 3, 4, 3, [1, 3, 8, 8])
mod('k1x1_int', 5, 7, 1, [2, 5, 6, 6])
mod('k3_as_list', 4, 6, [3, 3], [1, 4, 6, 7], padding=1)
mod('k_1x3', 4, 6, [1, 3], [1, 4, 7, 5], padding=[0, 1])
mod('k_3x1', 4, 6, [3, 1], [2, 4, 7, 5], padding=[1, 0])
mod('k_2x4', 3, 5, [2, 4], [1, 3, 9, 10])
mod('k_5x2_stride_2x1', 3, 5, [5, 2], [1, 3, 9, 10], stride=[2, 1])
mod('k5_pad2', 3, 8, 5, [1, 3, 12, 11], padding=2)
mod('k7_valid_region', 2, 3, 7, [1, 2, 9, 8])
mod('k_4x1_pad_2x0', 3, 4, [4, 1], [2, 3, 6, 5], padding=[2, 0])

# --- stride ---------------------------------------------------------------
mod('stride2_pad1_odd9', 4, 8, 3, [1, 4, 9, 9], stride=2, padding=1)
mod('stride2_even8', 4, 8, 3, [2, 4, 8, 8], stride=2)
mod('stride_2x1', 3, 6, 3, [1, 3, 9, 7], stride=[2, 1], padding=1)
mod('stride_1x3', 3, 6, 3, [1, 3, 7, 11], stride=[1, 3])
mod('stride3_k2_nonoverlap', 3, 4, 2, [1, 3, 9, 8], stride=3)
mod('stride4_gt_kernel', 3, 5, 2, [1, 3, 11, 13], stride=4, padding=1)
mod('stride_as_list_1x1', 3, 4, 3, [1, 3, 6, 6], stride=[1, 1], padding=[0, 0], dilation=[1, 1])

# --- padding --------------------------------------------------------------
mod('pad_int2', 3, 4, 3, [1, 3, 6, 7], padding=2)
mod('pad_tuple_1x2', 3, 4, 3, [2, 3, 6, 7], padding=[1, 2])
mod('pad_asym_0x2', 3, 4, 3, [1, 3, 6, 7], padding=[0, 2])
mod('pad_asym_2x0', 3, 4, 3, [1, 3, 6, 7], padding=[2, 0])
mod('pad_gt_kernel_bias_only_border', 2, 3, 2, [1, 2, 4, 5], padding=3)
mod('pad_valid', 3, 4, 3, [1, 3, 7, 6], padding='valid')
mod('pad_valid_nonsquare_k', 3, 4, [2, 5], [1, 3, 7, 6], padding='valid', stride=[2, 1])
mod('same_k3', 3, 5, 3, [1, 3, 7, 6], padding='same')
mod('same_k5', 3, 5, 5, [2, 3, 7, 6], padding='same')
mod('same_k1x3', 3, 5, [1, 3], [1, 3, 5, 6], padding='same')
mod('same_even_k2', 3, 4, 2, [1, 3, 6, 7], padding='same')
mod('same_even_k4', 3, 4, 4, [1, 3, 7, 6], padding='same')
mod('same_even_k2x3', 3, 4, [2, 3], [1, 3, 5, 7], padding='same')
mod('same_even_k4x1', 3, 4, [4, 1], [1, 3, 8, 5], padding='same')
mod('same_dil2_k3', 3, 4, 3, [1, 3, 8, 9], padding='same', dilation=2)
mod('same_dil3_k2_odd_total', 3, 4, 2, [1, 3, 8, 7], padding='same', dilation=3)
mod('same_dil2_k4', 3, 4, 4, [1, 3, 9, 10], padding='same', dilation=2)
mod('same_dil_2x3_k2x2', 3, 4, 2, [1, 3, 7, 9], padding='same', dilation=[2, 3])
mod('same_dil_1x2_k4x3', 3, 4, [4, 3], [1, 3, 9, 8], padding='same', dilation=[1, 2])

# --- dilation -------------------------------------------------------------
mod('dil2_pad2', 3, 4, 3, [1, 3, 9, 9], dilation=2, padding=2)
mod('dil_2x1', 3, 4, 3, [1, 3, 9, 8], dilation=[2, 1], padding=[2, 1])
mod('dil_1x3_stride2', 3, 4, 3, [2, 3, 9, 13], dilation=[1, 3], stride=2)
mod('dil3_nopad', 3, 4, 3, [1, 3, 11, 11], dilation=3)
mod('dil2_k2x4_stride_2x1_pad1', 3, 5, [2, 4], [1, 3, 10, 12], dilation=2, stride=[2, 1], padding=1)

# --- groups ---------------------------------------------------------------
mod('groups2', 4, 6, 3, [1, 4, 7, 7], groups=2, padding=1)
mod('grouped_8_12_g4', 8, 12, 3, [2, 8, 6, 7], groups=4, padding=1)
mod('depthwise_5', 5, 5, 3, [1, 5, 7, 6], groups=5, padding=1)
mod('depthwise_mult2_4_8', 4, 8, 3, [1, 4, 7, 7], groups=4, padding=1)
mod('depthwise_mult3_3_9', 3, 9, 3, [2, 3, 6, 5], groups=3)
mod('depthwise_17_stride2', 17, 17, 3, [1, 17, 9, 9], groups=17, stride=2, padding=1)
mod('depthwise_33_mult2_k5', 33, 66, 5, [1, 33, 7, 8], groups=33, padding=2)
mod('grouped_6_9_g3_mixed', 6, 9, [3, 2], [1, 6, 9, 8], groups=3, stride=[1, 2], dilation=[2, 1])
mod('grouped_1x1_16_32_g8', 16, 32, 1, [1, 16, 5, 6], groups=8)
mod('depthwise_nobias', 8, 8, 3, [1, 8, 6, 6], groups=8, bias=False, padding=1)
mod('single_channel', 1, 1, 3, [1, 1, 6, 5], padding=1)
mod('grouped_out_lt_in_12_4_g4', 12, 4, 3, [1, 12, 5, 5], groups=4)
mod('depthwise_same_even_k4', 6, 6, 4, [1, 6, 7, 8], groups=6, padding='same')

# --- bias -----------------------------------------------------------------
mod('nobias_basic', 3, 4, 3, [1, 3, 6, 6], bias=False)
mod('nobias_stride_pad', 5, 7, 3, [2, 5, 7, 8], bias=False, stride=2, padding=1)
mod('nobias_explicit_true', 3, 4, 3, [1, 3, 5, 5], bias=True, paddingMode='zeros')

# --- padding modes ----------------------------------------------------------
for mode in ('reflect', 'replicate', 'circular'):
    mod(f'{mode}_pad1', 3, 4, 3, [1, 3, 6, 7], padding=1, paddingMode=mode)
    mod(f'{mode}_pad_tuple_1x2', 3, 4, 3, [2, 3, 6, 7], padding=[1, 2], paddingMode=mode)
    mod(f'{mode}_pad_asym_0x2', 3, 4, 3, [1, 3, 5, 6], padding=[0, 2], paddingMode=mode)
    mod(f'{mode}_pad_asym_2x0', 3, 4, [2, 3], [1, 3, 5, 6], padding=[2, 0], paddingMode=mode)
    mod(f'{mode}_same_k3', 3, 4, 3, [1, 3, 6, 5], padding='same', paddingMode=mode)
    mod(f'{mode}_same_even_k4', 3, 4, 4, [1, 3, 7, 6], padding='same', paddingMode=mode)
    mod(f'{mode}_same_even_k2x3', 3, 4, [2, 3], [1, 3, 5, 6], padding='same', paddingMode=mode)
    mod(f'{mode}_same_dil3_k2', 3, 4, 2, [1, 3, 6, 7], padding='same', dilation=3, paddingMode=mode)
    mod(f'{mode}_dil_2x1_pad_2x1', 3, 4, 3, [1, 3, 7, 6], padding=[2, 1], dilation=[2, 1], paddingMode=mode)
    mod(f'{mode}_stride2_pad2', 3, 5, 3, [2, 3, 9, 8], padding=2, stride=2, paddingMode=mode)
    mod(f'{mode}_depthwise', 4, 8, 3, [1, 4, 6, 6], groups=4, padding=1, paddingMode=mode)
    mod(f'{mode}_nobias_unbatched', 3, 4, 3, [3, 5, 6], bias=False, padding=1, paddingMode=mode)
    mod(f'{mode}_pad0_no_effect', 3, 4, 3, [1, 3, 5, 6], paddingMode=mode)
    mod(f'{mode}_valid', 3, 4, 2, [1, 3, 5, 6], padding='valid', paddingMode=mode)
mod('reflect_pad_size_minus_1', 2, 3, 3, [1, 2, 4, 5], padding=[3, 4], paddingMode='reflect')
mod('reflect_pad_size_minus_1_k5', 2, 3, 5, [2, 2, 3, 3], padding=2, paddingMode='reflect')
mod('circular_pad_eq_size', 2, 3, 3, [1, 2, 3, 4], padding=[3, 4], paddingMode='circular')
mod('circular_pad_eq_size_1x1', 2, 3, 3, [1, 2, 1, 1], padding=1, paddingMode='circular')
mod('replicate_pad_gt_size', 2, 3, 3, [1, 2, 3, 3], padding=5, paddingMode='replicate')
mod('replicate_1x1_pad2', 2, 3, 3, [2, 2, 1, 1], padding=2, paddingMode='replicate')
mod('reflect_grouped_same_dil2', 6, 9, 3, [1, 6, 7, 8], groups=3, padding='same', dilation=2,
    paddingMode='reflect')
mod('circular_stride_2x3_dil2', 3, 4, 3, [1, 3, 8, 9], padding=2, stride=[2, 3], dilation=2,
    paddingMode='circular')
mod('replicate_same_k_5x2', 3, 4, [5, 2], [2, 3, 6, 7], padding='same', paddingMode='replicate')
mod('zeros_explicit_mode_tuple_pad', 3, 4, 3, [1, 3, 5, 6], padding=[1, 2], paddingMode='zeros')

# --- batch / unbatched ------------------------------------------------------
mod('batch3', 3, 4, 3, [3, 3, 6, 5], padding=1)
mod('unbatched_basic', 3, 4, 3, [3, 6, 5])
mod('unbatched_same', 3, 4, 4, [3, 6, 5], padding='same')
mod('unbatched_grouped_stride', 4, 6, 3, [4, 7, 8], groups=2, stride=2, padding=[1, 0])
mod('unbatched_circular_same', 3, 4, 3, [3, 5, 6], padding='same', paddingMode='circular')

# --- tiny and odd sizes -----------------------------------------------------
mod('tiny_1x1_k1', 3, 4, 1, [1, 3, 1, 1])
mod('tiny_1x1_k3_pad1', 3, 4, 3, [2, 3, 1, 1], padding=1)
mod('tiny_1x1_same_k3', 3, 4, 3, [1, 3, 1, 1], padding='same')
mod('out1_exact', 3, 4, 3, [1, 3, 3, 3])
mod('out1_stride3', 3, 4, 3, [1, 3, 5, 5], stride=3)
mod('odd_7x5', 5, 3, 3, [1, 5, 7, 5], padding=1)
mod('row_1xW', 2, 3, [1, 3], [1, 2, 1, 9])
mod('col_Hx1', 2, 3, [3, 1], [1, 2, 9, 1], padding=[1, 0])
mod('ch_17_33', 17, 33, 3, [1, 17, 9, 7], padding=1)
mod('ch_33_17_k1', 33, 17, 1, [2, 33, 5, 6])
mod('ch_5_3_k2', 5, 3, 2, [1, 5, 7, 5], stride=[1, 2])

# --- larger (GEMM blocking, K tails, channel tails) -------------------------
mod('large_64_64_3x3_18', 64, 64, 3, [1, 64, 18, 18], padding=1)
mod('large_1x1_256_64_14', 256, 64, 1, [1, 256, 14, 14])
mod('large_K864_96_32_3x3', 96, 32, 3, [1, 96, 12, 12], padding=1)
mod('large_K1152_128_40_N2', 128, 40, 3, [2, 128, 8, 7])
mod('large_K1000_40_24_5x5', 40, 24, 5, [1, 40, 9, 11], padding=2)
mod('stem_3_64_7x7_s2', 3, 64, 7, [1, 3, 32, 29], stride=2, padding=3)
mod('large_groups2_64_64', 64, 64, 3, [1, 64, 10, 10], groups=2, padding=1)
mod('large_depthwise_64', 64, 64, 3, [1, 64, 15, 17], groups=64, padding=1)
mod('wide_8_16_5x67', 8, 16, 3, [1, 8, 5, 67], padding=1)
mod('many_out_16_300_k1', 16, 300, 1, [1, 16, 4, 5])
mod('downsample_1x1_s2_64_128', 64, 128, 1, [1, 64, 14, 14], stride=2, bias=False)
mod('large_reflect_same_32_32', 32, 32, 3, [1, 32, 12, 13], padding='same', paddingMode='reflect')
mod('large_circular_K612_68_20', 68, 20, 3, [1, 68, 9, 10], padding=1, paddingMode='circular')
mod('large_unbatched_K531_59_37', 59, 37, 3, [59, 11, 13], padding=[1, 2], stride=[1, 2])

# --- Winograd F(2x2,3x3) layers (3x3, stride 1, >= 32 channels each side) ----
# odd output sizes (half tiles), > 16 tiles per row, every padding mode,
# output channels past a register panel, unbatched, no bias
mod('wino_replicate_odd_32_33', 32, 33, 3, [1, 32, 9, 11], padding=1, paddingMode='replicate')
mod('wino_circular_asym_40_32', 40, 32, 3, [2, 40, 7, 6], padding=[1, 0], paddingMode='circular')
mod('wino_valid_unbatched_48_36', 48, 36, 3, [48, 10, 13], bias=False)
mod('wino_wide_rows_32_32', 32, 32, 3, [1, 32, 5, 70], padding=1)
mod('wino_reflect_pad2_36_40', 36, 40, 3, [1, 36, 8, 9], padding=2, paddingMode='reflect')
# dilated: d*d undilated phases of the output grid
mod('wino_dil2_reflect_40_36', 40, 36, 3, [1, 40, 13, 14], padding=2, dilation=2, paddingMode='reflect')
mod('wino_dil3_same_32_34', 32, 34, 3, [2, 32, 11, 9], padding='same', dilation=3)

# --- functional F.conv2d (zero padding only) -------------------------------
fun('F_basic_pad1', [1, 3, 6, 7], [4, 3, 3, 3], True, padding=1)
fun('F_defaults_nobias', [2, 3, 6, 5], [5, 3, 3, 3], False)
fun('F_tuple_pad_stride', [1, 3, 8, 9], [4, 3, 3, 2], True, padding=[1, 2], stride=[2, 1])
fun('F_valid', [1, 3, 7, 6], [4, 3, 2, 3], True, padding='valid')
fun('F_same_k3', [1, 3, 7, 6], [4, 3, 3, 3], True, padding='same')
fun('F_same_even_k2x4_dil_1x2', [1, 3, 7, 9], [4, 3, 2, 4], True, padding='same', dilation=[1, 2])
fun('F_same_dil3_k2', [2, 3, 6, 7], [4, 3, 2, 2], False, padding='same', dilation=3)
fun('F_groups2_dil2', [1, 4, 9, 9], [6, 2, 3, 3], True, groups=2, dilation=2, padding=[2, 0])
fun('F_depthwise_unbatched', [5, 6, 7], [10, 1, 3, 3], True, groups=5, padding=1, stride=2)
fun('F_unbatched_same', [3, 5, 6], [4, 3, 4, 4], True, padding='same')
fun('F_large_K576', [1, 64, 8, 9], [48, 64, 3, 3], True, padding=1)
fun('F_wino_same_36_40', [1, 36, 9, 8], [40, 36, 3, 3], True, padding='same')


# ---------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------
def torch_kwargs(opts):
    kw = {}
    names = dict(stride='stride', padding='padding', dilation='dilation', groups='groups',
                 bias='bias', paddingMode='padding_mode')
    for k, v in opts.items():
        kw[names[k]] = tup(v)
    return kw


def run_module(conv, x):
    """conv(x). torch 1.13's F.pad(mode='circular') rejects an unbatched (C, H, W)
    input with a 4-element pad (it reads it as a batched 1-d signal); newer PyTorch
    pads the last two dims. For that one combination evaluate as a batch of one,
    which is exactly what PyTorch >= 2.0 does for unbatched input."""
    try:
        return conv(x), None
    except RuntimeError:
        if x.dim() == 3 and conv.padding_mode == 'circular':
            return conv(x.unsqueeze(0)).squeeze(0), 'unbatched circular evaluated as N=1 (torch 1.13 F.pad limitation)'
        raise


def abs_module(conv):
    m = copy.deepcopy(conv).double()
    with torch.no_grad():
        m.weight.abs_()
        if m.bias is not None:
            m.bias.abs_()
    return m


def main():
    chunks = []
    cursor = [0]

    def put(t):
        a = np.ascontiguousarray(t.detach().cpu().numpy().astype('<f4')).reshape(-1)
        ref = {'offset': cursor[0], 'length': int(a.size)}
        chunks.append(a)
        cursor[0] += a.size
        return ref

    manifest_cases = []
    names = set()
    for c in CASES:
        assert c['name'] not in names, c['name']
        names.add(c['name'])
        seed = zlib.crc32(c['name'].encode()) & 0x7fffffff
        torch.manual_seed(seed)
        opts = c['options']
        entry = {'name': c['name'], 'functional': c['functional']}
        note = None
        with torch.no_grad():
            if not c['functional']:
                kw = torch_kwargs(opts)
                conv = nn.Conv2d(c['inChannels'], c['outChannels'], tup(c['kernelSize']), **kw)
                conv.eval()
                x = torch.randn(*c['inputShape'])
                y, note = run_module(conv, x)
                m64 = copy.deepcopy(conv).double()
                y64, _ = run_module(m64, x.double())
                bound, _ = run_module(abs_module(conv), x.double().abs())
                w, b = conv.weight, conv.bias
                groups = conv.groups
                entry.update({
                    'inChannels': c['inChannels'], 'outChannels': c['outChannels'],
                    'kernelSize': c['kernelSize'], 'options': opts,
                    'repr': repr(conv),
                    'torchAttrs': {
                        'kernelSize': list(conv.kernel_size), 'stride': list(conv.stride),
                        'padding': conv.padding if isinstance(conv.padding, str) else list(conv.padding),
                        'dilation': list(conv.dilation), 'groups': conv.groups,
                        'paddingMode': conv.padding_mode,
                        # (left, right, top, bottom) actually applied, as F.pad order
                        'reversedPaddingRepeatedTwice': list(conv._reversed_padding_repeated_twice),
                    },
                })
            else:
                wshape = c['weightShape']
                x = torch.randn(*c['inputShape'])
                fan_in = wshape[1] * wshape[2] * wshape[3]
                w = torch.randn(*wshape) / math.sqrt(fan_in)
                b = torch.randn(wshape[0]) * 0.1 if c['hasBias'] else None
                kw = {k: tup(v) for k, v in opts.items()}
                y = F.conv2d(x, w, b, **kw)
                y64 = F.conv2d(x.double(), w.double(), None if b is None else b.double(), **kw)
                bound = F.conv2d(x.double().abs(), w.double().abs(),
                                 None if b is None else b.double().abs(), **kw)
                groups = opts.get('groups', 1)
                entry.update({'options': opts})
            assert y.dtype == torch.float32
            K = int(w.shape[1] * w.shape[2] * w.shape[3])
            scale = EPS32 * (math.sqrt(K) + 2.0)
            err = (y.double() - y64).abs()
            denom = scale * bound
            ratio = float(torch.where(denom > 0, err / denom.clamp_min(1e-300),
                                      torch.where(err > 0, torch.full_like(err, float('inf')),
                                                  torch.zeros_like(err))).max())
            entry.update({
                'inputShape': list(x.shape), 'weightShape': list(w.shape),
                'outputShape': list(y.shape), 'groups': groups, 'K': K,
                'maxAbsBound': float(bound.max()), 'maxAbsInput': float(x.abs().max()),
                'torchErrRatio': ratio,
                'input': put(x), 'weight': put(w), 'bias': None if b is None else put(b),
                'expected': put(y), 'absBound': put(bound),
            })
            if note:
                entry['note'] = note
        manifest_cases.append(entry)

    data = np.concatenate(chunks).astype('<f4')
    os.makedirs(OUT_DIR, exist_ok=True)
    with open(os.path.join(OUT_DIR, 'parity.bin'), 'wb') as f:
        f.write(data.tobytes())
    manifest = {
        'generator': 'scripts/gen_fixtures.py',
        'torch': torch.__version__, 'numpy': np.__version__,
        'dtype': 'float32', 'byteOrder': 'little', 'units': 'offset/length in float32 elements',
        'totalElements': int(data.size),
        'tolerance': 'absBound = float64 sum over the reduction of |x*w| + |b| per output element; '
                     'torchErrRatio = max |torch_f32 - f64| / (eps32 * (sqrt(K) + 2) * absBound)',
        'cases': manifest_cases,
    }
    with open(os.path.join(OUT_DIR, 'parity.json'), 'w') as f:
        json.dump(manifest, f, indent=1)
        f.write('\n')

    nmod = sum(1 for c in manifest_cases if not c['functional'])
    nfun = len(manifest_cases) - nmod
    print(f'torch {torch.__version__}: {len(manifest_cases)} cases ({nmod} Conv2d, {nfun} F.conv2d)')
    modes = {}
    for c in manifest_cases:
        if not c['functional']:
            m = c['options'].get('paddingMode', 'zeros')
            modes[m] = modes.get(m, 0) + 1
    print('  padding modes:', modes)
    print('  unbatched:', sum(1 for c in manifest_cases if len(c['inputShape']) == 3),
          ' batch sizes:', sorted({c['inputShape'][0] for c in manifest_cases if len(c['inputShape']) == 4}))
    print('  max K:', max(c['K'] for c in manifest_cases),
          ' cases with K > 512:', sum(1 for c in manifest_cases if c['K'] > 512))
    worst = max(manifest_cases, key=lambda c: c['torchErrRatio'])
    print(f"  torch f32 error / (eps32*(sqrt(K)+2)*absBound): max {worst['torchErrRatio']:.3f} ({worst['name']})")
    for c in manifest_cases:
        if 'note' in c:
            print(f"  note: {c['name']}: {c['note']}")
    print(f'  parity.bin: {data.nbytes} bytes ({data.size} float32); '
          f"parity.json: {os.path.getsize(os.path.join(OUT_DIR, 'parity.json'))} bytes")

    # The conv family (Conv1d, F.conv1d, fuse_conv_bn_eval) has its own pair of files.
    import gen_family_fixtures
    gen_family_fixtures.main()


if __name__ == '__main__':
    sys.exit(main())
