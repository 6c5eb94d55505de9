// Whole-network mode of bench/run.js (`--networks`, `--network a,b`): every
// conv layer of the networks in bench/networks.json, each distinct shape timed
// once and multiplied by how often the network has it, summed per network and
// library. ConvTranspose2d layers (op conv_transpose2d, the UNet's up-convs)
// are timed as bench/run.js's conv_transpose2d cases.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { grid } = require('./grid');

const FILE = path.join(__dirname, 'networks.json');
const TRANSPOSED = 'conv_transpose2d';

/** A layer with every Conv2d argument spelled out, without its name and count (keys sorted). */
function expandLayer(l) {
  const full = { op: 'conv2d', dilation: [1, 1], ...l };
  delete full.name;
  delete full.count;
  return Object.fromEntries(Object.keys(full).sort().map((k) => [k, full[k]]));
}

const outSize = (i, k, s, p, d) => Math.floor((i + 2 * p - d * (k - 1) - 1) / s) + 1;

/** Multiply-accumulates of one call (a transposed conv: every input element scatters Cout/groups x k taps). */
function layerMacs(layer) {
  const l = expandLayer(layer);
  const taps = l.kernel[0] * l.kernel[1];
  if (l.op === TRANSPOSED) return l.N * l.Cin * l.H * l.W * (l.Cout / l.groups) * taps;
  const oh = outSize(l.H, l.kernel[0], l.stride[0], l.padding[0], l.dilation[0]);
  const ow = outSize(l.W, l.kernel[1], l.stride[1], l.padding[1], l.dilation[1]);
  return l.N * l.Cout * oh * ow * (l.Cin / l.groups) * taps;
}

function layerWeightParams(l) {
  return l.Cin * (l.Cout / l.groups) * l.kernel[0] * l.kernel[1];
}

function loadNetworks(names) {
  const all = JSON.parse(fs.readFileSync(FILE, 'utf8')).networks;
  if (!names) return { networks: all };
  const unknown = names.filter((n) => !all.some((x) => x.name === n));
  if (unknown.length) return { error: `unknown network(s) ${unknown.join(', ')}; known: ${all.map((x) => x.name).join(', ')}` };
  return { networks: all.filter((x) => names.includes(x.name)) };
}

/** The suite-case form bench/run.js times (a conv2d or a conv_transpose2d case). */
function layerCase(net, l) {
  const e = expandLayer(l);
  const c = { name: `${net.name}/${l.name}`, N: e.N, Cin: e.Cin, H: e.H, W: e.W, Cout: e.Cout, kernel: e.kernel,
    stride: e.stride, padding: e.padding, dilation: e.dilation, groups: e.groups, bias: e.bias, padding_mode: 'zeros' };
  if (e.op === TRANSPOSED) Object.assign(c, { kind: TRANSPOSED, output_padding: e.output_padding || [0, 0] });
  return c;
}

/**
 * Times every network: `timeCase(case, threads)` is bench/run.js's benchCase.
 * Per network and thread count: seconds per library = sum over layers of
 * count x median seconds per call; a library that failed or was skipped on
 * any layer has no total (a partial sum would flatter it).
 */
async function benchNetworks(networks, threads, timeCase, log) {
  const out = [];
  for (const net of networks) {
    const convs = net.layers;
    const transposedLayers = convs.filter((l) => l.op === TRANSPOSED).reduce((a, l) => a + l.count, 0);
    const n = {
      network: net.name, title: net.title,
      convs: convs.reduce((a, l) => a + l.count, 0), shapes: convs.length,
      gmac: convs.reduce((a, l) => a + l.count * layerMacs(l), 0) / 1e9,
      layers: [], byThreads: {},
    };
    log(`network ${net.name}: ${n.convs} convs in ${n.shapes} shapes, ${n.gmac.toFixed(3)} GMAC` +
      (transposedLayers ? ` (${transposedLayers} of them ConvTranspose2d)` : ''));
    for (const l of convs) n.layers.push({ name: l.name, count: l.count, result: await timeCase(layerCase(net, l), threads) });
    for (const t of threads) {
      const libs = {};
      for (const lib of ['simdconv', 'simdconv_out', 'ort', 'torch']) {
        let sum = 0;
        for (const { count, result } of n.layers) {
          const v = result.byThreads[t].libs[lib];
          sum = v && v.seconds ? sum + count * v.seconds : NaN;
        }
        if (!Number.isNaN(sum)) libs[lib] = { seconds: sum };
      }
      const s = libs.simdconv;
      const peers = ['ort', 'torch'].filter((p) => libs[p]);
      if (s) for (const p of peers) s[p === 'ort' ? 'vsOrt' : 'vsTorch'] = libs[p].seconds / s.seconds;
      if (s && peers.length) s.vsBest = Math.min(...peers.map((p) => libs[p].seconds)) / s.seconds;
      n.byThreads[t] = { libs };
    }
    out.push(n);
  }
  return out;
}

const ms = (v, count = 1) => (v && v.seconds ? (count * v.seconds * 1e3).toFixed(2) : '—');
const times = (v) => (v ? `${v.toFixed(2)}x` : '—');

/** Where each network's time goes: one row per layer shape, times already multiplied by the count. */
function layerTable(n, t, md) {
  const total = n.byThreads[t].libs.simdconv;
  const rows = n.layers.map(({ name, count, result }) => {
    const r = result.byThreads[t], L = r.libs, s = L.simdconv || {};
    return [name, result.shape, count, ms(L.simdconv, count), ms(L.ort, count), ms(L.torch, count), times(s.vsBest),
      total && s.seconds ? `${((100 * count * s.seconds) / total.seconds).toFixed(1)}%` : '—', r.algorithm || ''];
  });
  return grid(['layer', 'shape', 'count', 'simdconv ms', 'ORT ms', 'torch ms', 'vs better peer', 'share', 'simdconv path'], rows, md, (i) => i < 2 || i === 8);
}

function format(nets, threads, md) {
  const head = ['network', 'threads', 'convs (shapes)', 'GMAC', 'simdconv ms', 'simdconv out= ms', 'ORT ms', 'torch ms',
    'simdconv/ORT', 'simdconv/torch', 'vs better peer'];
  const rows = [];
  for (const t of threads) for (const n of nets) {
    const L = n.byThreads[t].libs, s = L.simdconv || {};
    rows.push([n.network, t, `${n.convs} (${n.shapes})`, n.gmac.toFixed(3), ms(L.simdconv), ms(L.simdconv_out), ms(L.ort),
      ms(L.torch), times(s.vsOrt), times(s.vsTorch), times(s.vsBest)]);
  }
  const L = grid(head, rows, md, (i) => i === 0);
  L.push('', "Per network: the sum over its conv layers of count x median seconds per call. 'simdconv' is forward(x) " +
    "(a fresh output each call, as users call it), 'simdconv out=' is forward(x, { out }) into a preallocated output; " +
    "'vs better peer' = the faster of ONNX Runtime and PyTorch over simdconv forward(x). A library that failed on any " +
    'layer has no total. BatchNorm, activations, pooling and residual adds are not timed (conv layers only).');
  for (const n of nets) {
    L.push(`- ${n.network}: ${n.title}`);
  }
  for (const t of threads) for (const n of nets) {
    L.push('', `${n.network}, ${t} thread${t > 1 ? 's' : ''}, per layer shape (ms x count; share of simdconv's total):`, '');
    L.push(...layerTable(n, t, md));
  }
  return L.join('\n');
}

module.exports = { loadNetworks, benchNetworks, format, expandLayer, layerMacs, layerWeightParams, layerCase };
