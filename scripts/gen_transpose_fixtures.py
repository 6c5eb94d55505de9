#!/usr/bin/python3
"""PyTorch fixtures for ConvTranspose2d (test/transpose.test.js):
torch.nn.ConvTranspose2d over every option and combination (stride, padding,
output_padding, groups incl. depthwise-style, dilation, bias, output_size,
unbatched), torch.nn.functional.conv_transpose2d, and PyTorch's errors.

    /usr/bin/python3 scripts/gen_transpose_fixtures.py

Writes test/fixtures/transpose.json (manifest) and transpose.bin (float32
arrays, little-endian, concatenated; offsets and lengths in float32
elements). Conventions as gen_family_fixtures.py: each case seeds torch with
the CRC32 of its name, and stores ``absBound`` (float64 sum |x*w| + |b| per
output element) for the tolerance 4*eps32*(sqrt(K)+2)*absBound, K being the
most taps one output element reads (in/groups * kH * kW).
"""
import json
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_fixtures import OUT_DIR, abs_module, tup  # noqa: E402  (also sets threads, warnings)
from gen_family_fixtures import Bin, bn_for, err_ratio, seed  # noqa: E402
from torch.nn.utils.fusion import fuse_conv_bn_eval  # noqa: E402

MODS, FUNCS, ERRORS, FUSE = [], [], [], []
OPTS = ('stride', 'padding', 'outputPadding', 'groups', 'bias', 'dilation', 'paddingMode')
TORCH_NAMES = dict(stride='stride', padding='padding', outputPadding='output_padding', groups='groups',
                   bias='bias', dilation='dilation', paddingMode='padding_mode')


def torch_kwargs(opts):
    return {TORCH_NAMES[k]: tup(v) for k, v in opts.items()}


def mod(name, cin, cout, k, shape, output_size=None, **opts):
    """A torch.nn.ConvTranspose2d case; opts use the JS (camelCase) names."""
    assert all(key in OPTS for key in opts), opts
    MODS.append(dict(name=name, inChannels=cin, outChannels=cout, kernelSize=k, options=opts,
                     inputShape=list(shape), outputSize=output_size))


def fun(name, shape, wshape, bias, **opts):
    FUNCS.append(dict(name=name, weightShape=list(wshape), hasBias=bias, options=opts, inputShape=list(shape)))


def err(name, jsClass, ours=None, **call):
    """A call PyTorch rejects: ctor=[cin, cout, k], options, input[, outputSize], or
    functional=True with input, weight, bias, options. ``ours``: a regex our message must
    match; None: our message contains PyTorch's first line verbatim."""
    ERRORS.append(dict(name=name, jsClass=jsClass, ours=ours, call=call))


# --- kernel, stride, padding, output_padding, dilation --------------------------
mod('basic_k3', 3, 4, 3, [2, 3, 5, 6])
mod('k1', 5, 7, 1, [1, 5, 4, 5])
mod('k2_s2_unet', 8, 4, 2, [2, 8, 5, 6], stride=2)
mod('k4_s2_p1_dcgan', 6, 3, 4, [1, 6, 4, 4], stride=2, padding=1)
mod('k3_s2_p1_op1', 4, 5, 3, [1, 4, 5, 7], stride=2, padding=1, outputPadding=1)
mod('k3_s3_op2', 3, 4, 3, [1, 3, 4, 3], stride=3, outputPadding=2)
mod('stride_gt_kernel', 3, 4, 2, [1, 3, 4, 5], stride=3)
mod('stride_gt_kernel_op', 3, 4, 2, [1, 3, 4, 5], stride=4, outputPadding=3, padding=1)
mod('asym_kernel_stride_pad', 4, 6, [3, 5], [2, 4, 6, 5], stride=[2, 1], padding=[1, 2])
mod('asym_op', 3, 5, 3, [1, 3, 5, 6], stride=[3, 2], outputPadding=[2, 1])
mod('pad_crops', 3, 4, 5, [1, 3, 6, 6], padding=2)
mod('pad_large_crops_most', 2, 3, 7, [1, 2, 4, 4], padding=4)
mod('dil2', 3, 4, 3, [1, 3, 5, 6], dilation=2)
mod('dil2_op1_stride1', 3, 4, 3, [1, 3, 5, 6], dilation=2, outputPadding=1)
mod('dil3_s2_p2', 3, 4, 3, [2, 3, 5, 4], dilation=[3, 2], stride=2, padding=2)
mod('dil_asym_op_via_dilation', 2, 3, 3, [1, 2, 4, 4], dilation=[2, 3], outputPadding=[1, 2])
mod('super_res_k3_s1_p1', 16, 8, 3, [1, 16, 7, 9], padding=1)
mod('deep_k3_s2', 40, 24, 3, [1, 40, 6, 5], stride=2, padding=1, outputPadding=1)

# --- groups --------------------------------------------------------------------
mod('groups2', 4, 6, 3, [1, 4, 5, 5], groups=2, stride=2)
mod('groups3_op', 6, 9, 3, [2, 6, 4, 5], groups=3, stride=2, padding=1, outputPadding=1)
mod('depthwise_4', 4, 4, 3, [1, 4, 5, 6], groups=4, stride=2, padding=1)
mod('depthwise_mult2', 3, 6, 4, [1, 3, 4, 4], groups=3, stride=2, padding=1)
mod('depthwise_nobias_dil2', 5, 5, 3, [2, 5, 4, 4], groups=5, dilation=2, bias=False)
mod('grouped_out_lt_in', 8, 4, 2, [1, 8, 3, 4], groups=4, stride=2)

# --- bias, batch, unbatched --------------------------------------------------------
mod('nobias', 3, 4, 3, [1, 3, 5, 5], bias=False)
mod('nobias_s2_op1', 4, 3, 3, [2, 4, 4, 5], bias=False, stride=2, outputPadding=1)
mod('zeros_mode_explicit', 3, 4, 3, [1, 3, 4, 4], paddingMode='zeros')
mod('unbatched', 3, 4, 3, [3, 5, 6], stride=2, padding=1)
mod('unbatched_groups_op', 4, 6, 3, [4, 4, 5], stride=2, outputPadding=1, groups=2)
mod('batch3', 3, 4, 3, [3, 3, 4, 4], stride=2)
mod('batch0', 3, 4, 3, [0, 3, 4, 4], stride=2)
mod('input_1x1', 3, 4, 4, [2, 3, 1, 1], stride=2)

# --- output_size ---------------------------------------------------------------
mod('outsize_min', 3, 4, 3, [1, 3, 5, 5], output_size=[9, 9], stride=2, padding=1)
mod('outsize_max', 3, 4, 3, [1, 3, 5, 5], output_size=[10, 10], stride=2, padding=1)
mod('outsize_mixed_4d', 3, 4, 3, [2, 3, 5, 4], output_size=[2, 4, 14, 12], stride=3, padding=1)
mod('outsize_overrides_op', 3, 4, 3, [1, 3, 4, 4], output_size=[9, 10], stride=2, outputPadding=1)
mod('outsize_unbatched_3d', 3, 4, 3, [3, 4, 5], output_size=[4, 9, 16], stride=[2, 3])
mod('outsize_unbatched_2d', 3, 4, 3, [3, 4, 5], output_size=[10, 17], stride=[2, 3])
mod('outsize_stride1', 3, 4, 3, [1, 3, 4, 4], output_size=[6, 6])
mod('outsize_groups_dil', 4, 6, 3, [1, 4, 4, 4], output_size=[15, 14], groups=2, stride=3, dilation=2)

# --- functional F.conv_transpose2d -------------------------------------------------
fun('f_basic', [1, 3, 5, 5], [3, 4, 3, 3], True)
fun('f_nobias_s2', [2, 4, 4, 5], [4, 2, 3, 3], False, stride=2, padding=1, outputPadding=1)
fun('f_groups', [1, 6, 4, 4], [6, 2, 3, 2], True, groups=3, stride=[2, 1], dilation=[1, 2])
fun('f_unbatched', [3, 4, 4], [3, 5, 4, 4], True, stride=2, padding=1)

# --- fuse_conv_bn_eval(transpose=True) -----------------------------------------------
def fuse(name, cin, cout, k, shape, bn_affine=True, eps=1e-5, prefix='', **opts):
    FUSE.append(dict(name=name, inChannels=cin, outChannels=cout, kernelSize=k, options=opts,
                     inputShape=list(shape), bnAffine=bn_affine, eps=eps, prefix=prefix))


fuse('fuse_k4_s2_p1', 6, 4, 4, [2, 6, 4, 5], stride=2, padding=1, prefix='decoder.bn.')
fuse('fuse_nobias_op1_eps', 5, 7, 3, [1, 5, 4, 4], stride=2, outputPadding=1, bias=False, eps=1e-3)
fuse('fuse_affine_false_dil2', 3, 4, 3, [1, 3, 5, 4], dilation=2, bn_affine=False)
# PyTorch 1.13 cannot fold a grouped transposed conv (its fuse scales weight dim 1 by all
# outChannels): only bn(conv(x)) is stored for these, and the fused layer must match it.
fuse('fuse_grouped_bn_only', 6, 9, 3, [1, 6, 4, 4], groups=3, stride=2)
fuse('fuse_depthwise_bn_only', 4, 4, 3, [2, 4, 5, 5], groups=4, padding=1, bias=False)

# --- errors ------------------------------------------------------------------------
M = dict(ctor=[3, 4, 3])
err('op_not_below_stride_or_dilation', 'RangeError', **M, options={'outputPadding': 1}, input=[1, 3, 5, 5])
err('op_eq_stride', 'RangeError', **M, options={'outputPadding': 2, 'stride': 2}, input=[1, 3, 5, 5])
err('wrong_channels', 'RangeError', **M, options={}, input=[1, 5, 5, 5])
err('outsize_too_big', 'RangeError', **M, options={'stride': 2}, input=[1, 3, 5, 5], outputSize=[20, 20])
err('outsize_too_small', 'RangeError', **M, options={'stride': 2}, input=[1, 3, 5, 5], outputSize=[8, 11])
err('outsize_wrong_len', 'RangeError', r'for 3D input, outputSize must have 2 or 3 elements \(got 1\)', **M, options={'stride': 2}, input=[3, 5, 5], outputSize=[11])
err('outsize_wrong_len_4d', 'RangeError', r'for 4D input, outputSize must have 2 or 4 elements \(got 3\)', **M, options={'stride': 2}, input=[1, 3, 5, 5], outputSize=[1, 11, 11])
err('output_below_1', 'RangeError', **M, options={'padding': 3}, input=[1, 3, 1, 1])
err('groups_in', 'RangeError', r'ConvTranspose2d: inChannels \(3\) must be divisible by groups \(2\)', ctor=[3, 4, 3],
    options={'groups': 2}, input=[1, 3, 5, 5])
err('groups_out', 'RangeError', r'outChannels \(3\) must be divisible by groups \(2\)', ctor=[4, 3, 3],
    options={'groups': 2}, input=[1, 4, 5, 5])
err('padding_mode_reflect', 'TypeError', r"only 'zeros' paddingMode is supported for ConvTranspose2d", **M,
    options={'paddingMode': 'reflect'}, input=[1, 3, 5, 5])
err('f_wrong_channels', 'RangeError', functional=True, input=[1, 5, 4, 4], weight=[3, 4, 3, 3], bias=None,
    options={})
err('f_op_too_big', 'RangeError', functional=True, input=[1, 3, 4, 4], weight=[3, 4, 3, 3], bias=None,
    options={'outputPadding': 1})


# ---------------------------------------------------------------------------
def mod_case(c, b):
    seed(c['name'])
    conv = nn.ConvTranspose2d(c['inChannels'], c['outChannels'], tup(c['kernelSize']),
                              **torch_kwargs(c['options'])).eval()
    x = torch.randn(*c['inputShape'])
    kw = {} if c['outputSize'] is None else {'output_size': c['outputSize']}
    y = conv(x, **kw)
    y64 = conv.double()(x.double(), **kw)
    conv.float()
    bound = abs_module(conv)(x.double().abs(), **kw)
    K = int(conv.in_channels // conv.groups * conv.kernel_size[0] * conv.kernel_size[1])
    return {
        'name': c['name'], 'inChannels': c['inChannels'], 'outChannels': c['outChannels'],
        'kernelSize': c['kernelSize'], 'options': c['options'], 'outputSize': c['outputSize'], 'repr': repr(conv),
        'inputShape': list(x.shape), 'weightShape': list(conv.weight.shape), 'outputShape': list(y.shape), 'K': K,
        'torchErrRatio': err_ratio(y, y64, bound, K),
        'input': b.put(x), 'weight': b.put(conv.weight), 'bias': None if conv.bias is None else b.put(conv.bias),
        'expected': b.put(y), 'absBound': b.put(bound),
    }


def func_case(c, b):
    seed(c['name'])
    wshape = c['weightShape']
    x = torch.randn(*c['inputShape'])
    w = torch.randn(*wshape) / math.sqrt(wshape[1] * wshape[2] * wshape[3])
    groups = c['options'].get('groups', 1)
    bias = torch.randn(wshape[1] * groups) * 0.1 if c['hasBias'] else None
    kw = torch_kwargs(c['options'])
    y = F.conv_transpose2d(x, w, bias, **kw)
    y64 = F.conv_transpose2d(x.double(), w.double(), None if bias is None else bias.double(), **kw)
    bound = F.conv_transpose2d(x.double().abs(), w.double().abs(), None if bias is None else bias.double().abs(), **kw)
    K = int(wshape[0] // groups * wshape[2] * wshape[3])
    return {
        'name': c['name'], 'options': c['options'], 'inputShape': list(x.shape), 'weightShape': wshape,
        'outputShape': list(y.shape), 'K': K, 'torchErrRatio': err_ratio(y, y64, bound, K),
        'input': b.put(x), 'weight': b.put(w), 'bias': None if bias is None else b.put(bias),
        'expected': b.put(y), 'absBound': b.put(bound),
    }


def fuse_case(c, b):
    seed(c['name'])
    conv = nn.ConvTranspose2d(c['inChannels'], c['outChannels'], tup(c['kernelSize']),
                              **torch_kwargs(c['options'])).eval()
    bn = bn_for('Conv2d', c['outChannels'], c['bnAffine'], c['eps'])
    x = torch.randn(*c['inputShape'])
    y_bn = bn(conv(x))
    y64 = bn.double()(conv.double()(x.double()))
    conv.float(), bn.float()
    r = (bn.running_var.double() + c['eps']).rsqrt()
    gamma = bn.weight.double() if bn.weight is not None else torch.ones_like(r)
    beta = bn.bias.double() if bn.bias is not None else torch.zeros_like(r)
    b0 = conv.bias.double() if conv.bias is not None else torch.zeros_like(r)
    # |x| through |w * gamma * r| plus the BatchNorm terms: bounds both evaluation orders
    absconv = nn.ConvTranspose2d(c['inChannels'], c['outChannels'], tup(c['kernelSize']),
                                 **torch_kwargs({**c['options'], 'bias': True})).double()
    g = conv.groups
    scale = (gamma * r).abs().reshape(g, 1, -1).repeat_interleave(conv.in_channels // g, 0)
    scale = scale.reshape(conv.in_channels, -1, 1, 1)
    with torch.no_grad():
        absconv.weight.copy_(conv.weight.double().abs() * scale + conv.weight.double().abs())
        absconv.bias.copy_(((b0 - bn.running_mean.double()) * r * gamma).abs() + beta.abs() + b0.abs())
    bound = absconv(x.double().abs())
    K = int(conv.in_channels // g * conv.kernel_size[0] * conv.kernel_size[1])
    state = {'running_mean': b.put(bn.running_mean), 'running_var': b.put(bn.running_var)}
    if c['bnAffine']:
        state.update(weight=b.put(bn.weight), bias=b.put(bn.bias))
    entry = {
        'name': c['name'], 'inChannels': c['inChannels'], 'outChannels': c['outChannels'],
        'kernelSize': c['kernelSize'], 'options': c['options'], 'eps': c['eps'], 'prefix': c['prefix'],
        'repr': repr(conv), 'inputShape': list(x.shape), 'weightShape': list(conv.weight.shape),
        'outputShape': list(y_bn.shape), 'K': K, 'torchErrRatio': err_ratio(y_bn, y64, bound, K),
        'input': b.put(x), 'weight': b.put(conv.weight), 'bias': None if conv.bias is None else b.put(conv.bias),
        'bn': state, 'expectedBn': b.put(y_bn), 'absBound': b.put(bound), 'fusedWeight': None,
    }
    if g == 1:
        fused = fuse_conv_bn_eval(conv, bn, transpose=True)
        entry.update(fusedRepr=repr(fused), fusedWeight=b.put(fused.weight), fusedBias=b.put(fused.bias),
                     expectedFused=b.put(fused(x)))
    return entry


def error_case(c):
    call = c['call']
    seed(c['name'])
    try:
        if call.get('functional'):
            F.conv_transpose2d(torch.randn(*call['input']), torch.randn(*call['weight']),
                               None if call['bias'] is None else torch.randn(*call['bias']),
                               **torch_kwargs(call['options']))
        else:
            cin, cout, k = call['ctor']
            m = nn.ConvTranspose2d(cin, cout, k, **torch_kwargs(call['options']))
            kw = {'output_size': call['outputSize']} if 'outputSize' in call else {}
            m(torch.randn(*call['input']), **kw)
    except (RuntimeError, ValueError) as e:
        return {'name': c['name'], 'call': call, 'torchError': type(e).__name__,
                'torchMessage': str(e).split('\n')[0], 'jsClass': c['jsClass'], 'ours': c['ours']}
    raise AssertionError(f"error case {c['name']}: PyTorch accepted it")


def main():
    b = Bin()
    manifest = {
        'torchVersion': torch.__version__,
        'modules': [mod_case(c, b) for c in MODS],
        'functional': [func_case(c, b) for c in FUNCS],
        'errors': [error_case(c) for c in ERRORS],
        'fuse': [fuse_case(c, b) for c in FUSE],
    }
    with open(os.path.join(OUT_DIR, 'transpose.json'), 'w') as f:
        json.dump(manifest, f, indent=1)
        f.write('\n')
    with open(os.path.join(OUT_DIR, 'transpose.bin'), 'wb') as f:
        for chunk in b.chunks:
            f.write(chunk.tobytes())
    print(f"transpose fixtures: {len(MODS)} modules, {len(FUNCS)} functional, {len(ERRORS)} errors, {len(FUSE)} fuse")


if __name__ == '__main__':
    main()
