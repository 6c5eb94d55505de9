#!/usr/bin/env python3
"""PyTorch (torch.nn.Conv2d / Conv1d, CPU, float32) column of bench/run.js.

Two ways to run it:

  * bench/run.js starts it as a worker (`--serve`) and drives it with one JSON
    request per line on stdin, one JSON reply per line on stdout, so that
    PyTorch samples are interleaved with simdconv's and ONNX Runtime's case by
    case and sample by sample (while one library runs the others are idle):
      {"cmd": "setup", "case": {...suite case...}, "threads": 2,
       "input": PATH, "weight": PATH, "bias": PATH|null, "output": PATH}
          -> builds the layer with those weights (raw little-endian float32),
             runs it once, writes its output to `output` for bench/run.js to
             check against simdconv's; replies {"ok": true, "seconds": t_one_call}
      {"cmd": "time", "iters": k} -> {"ok": true, "seconds": total for k calls}
      {"cmd": "info"}             -> {"ok": true, "torch": version, ...}
      {"cmd": "quit"}
  * standalone: `python3 bench/torch_bench.py [--suite bench/suite.json]
    [--threads 1,2] [--repeats 15]` prints the median GFLOP/s per case and
    thread count (its own random weights).

Timing is under torch.inference_mode(); PyTorch allocates each output itself
(F.conv2d has no out=), padding modes other than zeros go through F.pad as
nn.Conv2d does.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F


# A case's "kind" (default conv2d) picks the module; its spatial input dims.
MODULES = {"conv2d": (torch.nn.Conv2d, ("H", "W")), "conv1d": (torch.nn.Conv1d, ("L",)),
           "conv_transpose2d": (torch.nn.ConvTranspose2d, ("H", "W"))}


def make_conv(c):
    module, _ = MODULES[c.get("kind", "conv2d")]
    extra = {}
    if "output_padding" in c:
        extra["output_padding"] = tuple(c["output_padding"])
    return module(
        c["Cin"], c["Cout"], tuple(c["kernel"]), stride=tuple(c["stride"]),
        padding=tuple(c["padding"]), dilation=tuple(c["dilation"]), groups=c["groups"],
        bias=c.get("bias", True), padding_mode=c["padding_mode"], **extra).eval()


# A fused case (bench/run.js FUSED_ACTIVATIONS): act(conv(x) + r), as a user
# writes it in PyTorch.
ACTIVATIONS = {"relu": F.relu, "relu6": F.relu6, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
               "silu": F.silu, "hardswish": F.hardswish}


def make_call(conv, c, residual):
    act = ACTIVATIONS[c["activation"]] if c.get("activation") else None
    if residual is None and act is None:
        return conv
    if act is None:
        return lambda x: conv(x) + residual
    if residual is None:
        return lambda x: act(conv(x))
    return lambda x: act(conv(x) + residual)


def in_shape(c):
    return (c["N"], c["Cin"]) + tuple(c[d] for d in MODULES[c.get("kind", "conv2d")][1])


def prod(xs):
    p = 1
    for x in xs:
        p *= x
    return p


def read_f32(path, shape):
    with open(path, "rb") as f:
        buf = bytearray(f.read())
    return torch.frombuffer(buf, dtype=torch.float32).reshape(shape).clone()


def gflop(c, out_shape):
    if c.get("kind") == "conv_transpose2d":  # every input element times Cout/groups x kernel weights
        return 2.0 * prod(in_shape(c)) * (c["Cout"] // c["groups"]) * prod(c["kernel"]) / 1e9
    return 2.0 * prod(out_shape) * (c["Cin"] // c["groups"]) * prod(c["kernel"]) / 1e9


def timed(conv, x, iters):
    t0 = time.perf_counter()
    for _ in range(iters):
        conv(x)
    return time.perf_counter() - t0


def info():
    backend = [l.strip() for l in torch.__config__.parallel_info().splitlines() if "parallel backend" in l]
    return {"ok": True, "torch": torch.__version__, "mkldnn": bool(torch.backends.mkldnn.is_available()),
            "parallel": backend[0] if backend else ""}


def serve():
    state = {}
    out = sys.stdout
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            cmd = req.get("cmd")
            if cmd == "quit":
                break
            if cmd == "info":
                rep = info()
            elif cmd == "setup":
                c = req["case"]
                torch.set_num_threads(int(req["threads"]))
                conv = make_conv(c)
                with torch.no_grad():
                    w = read_f32(req["weight"], tuple(conv.weight.shape))
                    conv.weight.copy_(w)
                    if req.get("bias"):
                        conv.bias.copy_(read_f32(req["bias"], (c["Cout"],)))
                    else:
                        conv.bias = None
                x = read_f32(req["input"], in_shape(c))
                with torch.inference_mode():
                    y_shape = tuple(conv(x).shape)
                    r = read_f32(req["residual"], y_shape) if req.get("residual") else None
                    call = make_call(conv, c, r)
                    t0 = time.perf_counter()
                    y = call(x)
                    t = time.perf_counter() - t0
                    write_f32(y, req["output"])
                state = {"conv": call, "x": x}
                rep = {"ok": True, "seconds": t, "shape": list(y.shape), "threads": torch.get_num_threads()}
            elif cmd == "time":
                with torch.inference_mode():
                    rep = {"ok": True, "seconds": timed(state["conv"], state["x"], int(req["iters"]))}
            else:
                rep = {"ok": False, "error": "unknown cmd %r" % (cmd,)}
        except Exception as e:  # report, keep serving
            rep = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
        out.write(json.dumps(rep) + "\n")
        out.flush()


def write_f32(t, path):
    """Raw little-endian float32, with or without NumPy."""
    t = t.detach().contiguous()
    try:
        t.numpy().astype("<f4").tofile(path)
    except Exception:  # no NumPy
        import array
        a = array.array("f", t.flatten().tolist())
        if sys.byteorder != "little":
            a.byteswap()
        with open(path, "wb") as f:
            a.tofile(f)


def standalone(args):
    with open(args.suite) as f:
        suite = json.load(f)
    threads = [int(t) for t in args.threads.split(",")]
    results = []
    torch.manual_seed(0)
    for c in suite["cases"]:
        conv = make_conv(c)
        x = torch.rand(*in_shape(c)) * 2 - 1
        with torch.inference_mode():
            y_shape = tuple(conv(x).shape)
        conv = make_call(conv, c, torch.rand(*y_shape) * 2 - 1 if c.get("residual") else None)
        for n in threads:
            torch.set_num_threads(n)
            with torch.inference_mode():
                y = conv(x)
                one = max(timed(conv, x, 1), 1e-6)
                iters = max(1, int(0.02 / one))
                samples = [timed(conv, x, iters) / iters for _ in range(args.repeats)]
            med = statistics.median(samples)
            g = gflop(c, tuple(y.shape))
            results.append({"case": c["name"], "threads": n, "seconds": med, "gflops": g / med})
            print("%-16s %d thr  %9.3f ms  %8.2f GFLOP/s" % (c["name"], n, med * 1e3, g / med), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"torch": torch.__version__, "results": results}, f, indent=1)


TUNABLES = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824"


def main():
    # Same malloc thresholds as bench/run.js (which passes them down to --serve):
    # otherwise fresh output and scratch buffers are mmapped and page-fault on every call.
    if "glibc.malloc.mmap_threshold" not in os.environ.get("GLIBC_TUNABLES", ""):
        prev = os.environ.get("GLIBC_TUNABLES")
        os.environ["GLIBC_TUNABLES"] = prev + ":" + TUNABLES if prev else TUNABLES
        os.execv(sys.executable, [sys.executable] + sys.argv)
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--serve", action="store_true")
    p.add_argument("--suite", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "suite.json"))
    p.add_argument("--threads", default="1,%d" % (os.cpu_count() or 1))
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--json")
    args = p.parse_args()
    if args.serve:
        serve()
    else:
        standalone(args)


if __name__ == "__main__":
    main()
