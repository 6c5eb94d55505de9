#!/usr/bin/env python3
"""Writes test/fixtures/networks_torch.json: what PyTorch itself says about the
networks of bench/networks.json (`node bench/run.js --networks`).

The networks are written here as torch.nn modules by hand, after torchvision's
resnet.py and mobilenetv2.py (torchvision is not installed; PyTorch is), and
the classic padded UNet. A forward pass with hooks on every Conv2d and
ConvTranspose2d records each layer's input shape and arguments; from those come
the per-network multiply-accumulate and conv-weight parameter totals.
test/networks.test.js compares bench/networks.json (written independently by
scripts/gen_networks.js) with this file, so the test needs no PyTorch.

  /usr/bin/python3 scripts/gen_network_totals.py
"""
import json
import os

import torch
from torch import nn


# ---- torchvision resnet.py (no BatchNorm/ReLU: they hold no conv) --------------
class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin, width, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, width, 3, stride, 1, bias=False)
        self.conv2 = nn.Conv2d(width, width, 3, 1, 1, bias=False)
        self.downsample = (nn.Conv2d(cin, width, 1, stride, bias=False)
                           if stride != 1 or cin != width else None)

    def forward(self, x):
        y = self.conv2(self.conv1(x))
        return y + (self.downsample(x) if self.downsample is not None else x)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, width, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)  # v1.5: the stride on the 3x3
        self.conv3 = nn.Conv2d(width, width * 4, 1, bias=False)
        self.downsample = (nn.Conv2d(cin, width * 4, 1, stride, bias=False)
                           if stride != 1 or cin != width * 4 else None)

    def forward(self, x):
        y = self.conv3(self.conv2(self.conv1(x)))
        return y + (self.downsample(x) if self.downsample is not None else x)


class ResNet(nn.Module):
    def __init__(self, block, layers):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        blocks, cin = [], 64
        for i, n in enumerate(layers):
            width = 64 * 2 ** i
            for b in range(n):
                blocks.append(block(cin, width, 2 if b == 0 and i > 0 else 1))
                cin = width * block.expansion
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(cin, 1000)

    def forward(self, x):
        x = self.blocks(self.maxpool(self.conv1(x)))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


# ---- torchvision mobilenetv2.py, width 1.0 -----------------------------------
class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, t):
        super().__init__()
        hidden = cin * t
        layers = [nn.Conv2d(cin, hidden, 1, bias=False)] if t != 1 else []
        layers += [nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),
                   nn.Conv2d(hidden, cout, 1, bias=False)]
        self.conv = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.conv(x) if self.residual else self.conv(x)


class MobileNetV2(nn.Module):
    def __init__(self):
        super().__init__()
        feats, cin = [nn.Conv2d(3, 32, 3, 2, 1, bias=False)], 32
        for t, c, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                           (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]:
            for i in range(n):
                feats.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        feats.append(nn.Conv2d(cin, 1280, 1, bias=False))
        self.features = nn.Sequential(*feats)
        self.classifier = nn.Linear(1280, 1000)

    def forward(self, x):
        x = self.features(x)
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


# ---- classic UNet, padded 3x3 --------------------------------------------------
def double_conv(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU())


class UNet(nn.Module):
    def __init__(self, cin=3, classes=2):
        super().__init__()
        chans = [64, 128, 256, 512, 1024]
        self.inc = double_conv(cin, 64)
        self.down = nn.ModuleList(double_conv(chans[i], chans[i + 1]) for i in range(4))
        self.up = nn.ModuleList(nn.ConvTranspose2d(chans[i + 1], chans[i], 2, stride=2) for i in reversed(range(4)))
        self.dec = nn.ModuleList(double_conv(2 * chans[i], chans[i]) for i in reversed(range(4)))
        self.outc = nn.Conv2d(64, classes, 1)

    def forward(self, x):
        skips = [self.inc(x)]
        for d in self.down:
            skips.append(d(nn.functional.max_pool2d(skips[-1], 2)))
        x = skips.pop()
        for up, dec in zip(self.up, self.dec):
            x = dec(torch.cat([skips.pop(), up(x)], 1))
        return self.outc(x)


NETWORKS = [
    ("resnet50", lambda: ResNet(Bottleneck, [3, 4, 6, 3]), (1, 3, 224, 224)),
    ("mobilenetv2", MobileNetV2, (1, 3, 224, 224)),
    ("resnet18_b8", lambda: ResNet(BasicBlock, [2, 2, 2, 2]), (8, 3, 224, 224)),
    ("unet", UNet, (1, 3, 256, 256)),
]


def trace(model, shape):
    """Every conv's (signature, MACs, weight params) in a forward pass."""
    seen = []

    def hook(m, inputs, output):
        n, cin, h, w = inputs[0].shape
        op = "conv_transpose2d" if isinstance(m, nn.ConvTranspose2d) else "conv2d"
        k = m.weight.shape[2] * m.weight.shape[3]
        # a conv's MACs: every output element sums Cin/groups x k taps; a transposed
        # conv's: every input element scatters into Cout/groups x k outputs
        macs = output.numel() * (cin // m.groups) * k if op == "conv2d" else inputs[0].numel() * (m.out_channels // m.groups) * k
        sig = {"op": op, "N": n, "Cin": cin, "H": h, "W": w, "Cout": m.out_channels,
               "kernel": list(m.kernel_size), "stride": list(m.stride), "padding": list(m.padding),
               "dilation": list(m.dilation), "groups": m.groups, "bias": m.bias is not None}
        seen.append((sig, macs, m.weight.numel()))

    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            m.register_forward_hook(hook)
    with torch.no_grad():
        model(torch.zeros(shape))
    return seen


def main():
    out = {"torch": torch.__version__, "networks": {}}
    for name, make, shape in NETWORKS:
        layers = trace(make().eval(), shape)
        sigs = sorted(json.dumps(s, sort_keys=True) for s, _, _ in layers)
        out["networks"][name] = {
            "input": list(shape),
            "convs": sum(1 for s, _, _ in layers if s["op"] == "conv2d"),
            "conv_transposes": sum(1 for s, _, _ in layers if s["op"] == "conv_transpose2d"),
            "conv_macs": sum(m for s, m, _ in layers if s["op"] == "conv2d"),
            "conv_transpose_macs": sum(m for s, m, _ in layers if s["op"] == "conv_transpose2d"),
            "conv_weight_params": sum(p for _, _, p in layers),
            "layers": [json.loads(s) for s in sigs],
        }
        n = out["networks"][name]
        print("%-12s %2d convs %3.3f GMAC, %d transposed %.3f GMAC, %.3fM conv weights"
              % (name, n["convs"], n["conv_macs"] / 1e9, n["conv_transposes"], n["conv_transpose_macs"] / 1e9,
                 n["conv_weight_params"] / 1e6))
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "networks_torch.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=0, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
