#!/usr/bin/env python3
"""Writes the seed corpus of the libFuzzer target (cpp/fuzz/corpus/).

Each seed is one byte per field in the order cpp/fuzz/fuzz_conv_layer.cpp
reads them (FIELDS below): a small value v of a field with minimum m is the
byte v - m; the name of an extreme value (EXTREMES, the same table as the
target's kExtremes) is the byte 0xF0 + its index. Run from the repository
root: python3 scripts/fuzz_seeds.py
"""
import os

FIELDS = ['cin_g', 'cout_g', 'groups', 'kh', 'kw', 'sh', 'sw', 'dh', 'dw',
          'pt', 'pb', 'pl', 'pr', 'mode', 'n', 'h', 'w', 'flags', 'epilogue']
MINIMUM = {'cin_g': 1, 'cout_g': 1, 'groups': 0, 'kh': 1, 'kw': 1, 'sh': 1, 'sw': 1, 'dh': 1,
           'dw': 1, 'pt': 0, 'pb': 0, 'pl': 0, 'pr': 0, 'mode': 0, 'n': 1, 'h': 1, 'w': 1, 'flags': 0,
           'epilogue': 0}
EXTREMES = ['2^31', '2^31-1', '2^30', '2^30+1', '2^20', '2^16', '65', '64', '1000', '2^31+1',
            '0', '-1', '2^62', '3*2^30', '2^32', 'INT64_MAX']
DEPTHWISE = 192  # groups byte 192..239: depthwise (groups = cin_g)
MODES = {'zeros': 0, 'reflect': 1, 'replicate': 2, 'circular': 3}


def encode(**kv):
    """Bytes of one seed: defaults (a 1-channel 3x3 layer on 5x5) overridden by kv."""
    spec = dict(cin_g=1, cout_g=1, groups=1, kh=3, kw=3, sh=1, sw=1, dh=1, dw=1,
                pt=0, pb=0, pl=0, pr=0, mode=0, n=1, h=5, w=5, flags=0, epilogue=0)
    for key, value in kv.items():
        if key in ('k', 's', 'd'):
            spec[key + 'h'], spec[key + 'w'] = value, value
        elif key == 'pad':
            spec['pt'] = spec['pb'] = spec['pl'] = spec['pr'] = value
        elif key == 'hw':
            spec['h'] = spec['w'] = value
        else:
            spec[key] = value
    out = bytearray()
    for f in FIELDS:
        v = spec[f]
        if f == 'epilogue' and v == 0:
            continue  # the last field: a missing byte reads as 0 (no activation, no residual)
        if f == 'mode' and v in MODES:
            v = MODES[v]
        if f == 'groups' and v == 'dw':
            out.append(DEPTHWISE)
        elif isinstance(v, str):
            out.append(0xF0 + EXTREMES.index(v))
        elif f == 'groups':
            out.append(v - 1)  # the target reads 1 + byte % 4
        else:
            assert 0 <= v - MINIMUM[f] < 0xF0, (f, v)
            out.append(v - MINIMUM[f])
    return bytes(out)


SEEDS = {
    'plain_3x3_pad1': encode(cin_g=4, cout_g=5, pad=1, hw=8, flags=1),
    'plain_1x1': encode(cin_g=6, cout_g=7, k=1, hw=9),
    'strided_5x5': encode(cin_g=3, cout_g=2, k=5, s=2, pad=2, h=11, w=13, flags=3),
    'dilated_3x3': encode(cin_g=5, cout_g=4, d=3, pad=3, hw=10),
    'grouped': encode(cin_g=3, cout_g=2, groups=3, pad=1, hw=7, flags=1),
    'depthwise_reflect': encode(cin_g=4, cout_g=2, groups='dw', pad=1, mode='reflect', hw=9),
    'depthwise_s2_replicate': encode(cin_g=3, groups='dw', s=2, pad=2, mode='replicate', hw=12),
    'circular_asym': encode(cin_g=2, cout_g=3, pt=1, pb=2, pl=0, pr=3, mode='circular', h=6, w=7),
    'batch3': encode(cin_g=2, cout_g=2, n=3, pad=1, h=4, w=23, flags=2),
    'one_pixel': encode(k=1, hw=1),
    'winograd_shape': encode(cin_g=11, cout_g=11, pad=1, h=6, w=9, flags=1),
    'winograd_dilated': encode(cin_g=8, cout_g=9, d=2, pad=2, h=5, w=13),
    # the audit's classes: huge stride / padding / dilation on a tiny input
    'stride_pad_2p31': encode(cin_g=3, cout_g=4, s='2^31', pad='2^31-1'),
    'same_dilation_2p30': encode(cin_g=2, cout_g=3, d='2^30', pad='2^30', flags=1),
    'winograd_dilation_2p20': encode(cin_g=8, cout_g=8, d='2^20', pad='2^20', hw=1),
    'dilation_stride_2p31': encode(cin_g=2, cout_g=2, k=2, d='2^31', s='2^31', pad='2^31', h=4, w=3),
    'pad_left_only': encode(cin_g=3, cout_g=5, pl='2^31', sw='2^30', h=5, w=4),
    'row_dilation': encode(cin_g=4, cout_g=4, kh=5, kw=1, dh='2^16', pt='2^20', pb='2^20',
                           sh='2^20', h=3, w=6),
    'depthwise_replicate_huge': encode(cin_g=3, groups='dw', d=5, s='2^31', pad='2^31',
                                       mode='replicate', h=2, w=5),
    'grouped_huge_pad': encode(cin_g=4, cout_g=4, groups=2, s='2^31', pad='2^31', d=3, h=3, w=3),
    'reflect_huge_stride': encode(cin_g=3, cout_g=3, s='2^31', pad=2, mode='reflect'),
    'circular_huge_stride': encode(cin_g=3, cout_g=3, s='2^31', pad=3, d=2, mode='circular', h=3, w=4),
    'pad_65_threshold': encode(cin_g=2, cout_g=3, pad='65', s='64', hw=3),
    'pad_64_threshold': encode(cin_g=2, cout_g=3, pad='64', s='64', hw=3),
    'dilation_1000': encode(cin_g=2, cout_g=2, d='1000', pad='1000', hw=4),
    'stride_3x2p30': encode(s='3*2^30', pad='2^31', hw=2),
    # found by the fuzzer: 1000 channels per group of 1000-column zero rows for 2 output columns
    'found_grouped_wide_band': encode(cin_g='1000', cout_g=1, groups=3, kh=2, kw=1, s='1000', dw=3,
                                      pl='1000', h=10, w=1),
    # the fused epilogue: the byte is the activation kind (epilogue.h order) + 0x80 for a residual
    'epilogue_gelu_residual_winograd': encode(cin_g=11, cout_g=11, pad=1, h=6, w=9, flags=3,
                                              epilogue=10 + 0x80),
    'epilogue_hardtanh_depthwise': encode(cin_g=4, cout_g=2, groups='dw', pad=1, hw=9, epilogue=4),
    'epilogue_silu_residual_dilated': encode(cin_g=8, cout_g=9, d=2, pad=2, h=5, w=13, flags=2,
                                             epilogue=8 + 0x80),
    'epilogue_sigmoid_dilation_1000': encode(cin_g=2, cout_g=2, d='1000', pad='1000', hw=4,
                                             epilogue=6 + 0x80),
    # refused: invalid or too large, must throw (never wrap)
    'zero_channels': encode(cin_g='0'),
    'negative_stride': encode(s='-1'),
    'pad_2p62': encode(pad='2^62'),
    'pad_2p31_plus1': encode(pad='2^31+1'),
    'dilation_int64_max': encode(d='INT64_MAX'),
    'groups_extreme': encode(groups='2^31', cin_g=1),
    'channels_2p31': encode(cin_g='2^31', cout_g='2^31', k='2^16'),
    'huge_input': encode(n='2^31', h='2^31', w='2^31', cout_g='2^30', pad='2^31', k=1),
    'huge_kernel': encode(k='2^31', hw='2^31'),
    'kernel_2p32': encode(kh='2^32'),
}


def main():
    corpus = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'cpp', 'fuzz', 'corpus')
    os.makedirs(corpus, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(corpus, name), 'wb') as f:
            f.write(data)
    print(f'wrote {len(SEEDS)} seeds to cpp/fuzz/corpus')


if __name__ == '__main__':
    main()
