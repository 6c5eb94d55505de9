// `simdconv run`: one Conv2d, Conv1d or ConvTranspose2d with PyTorch weights
// (optionally the BatchNorm after it, folded in, and a fused activation) over
// many .npy files.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Conv1d, Conv1dOptions, Conv2d, Conv2dOptions, ConvTranspose2d, ConvTranspose2dOptions, PaddingMode,
  Tensor } from '../index';
import { skippedDtype } from '../io/skipped';
import {
  UsageError, lib, ensureDir, processFiles, printSummary, readInputFile, writeFileAtomic,
} from './common';
import { Shard, selectFiles, describeSelection } from './inputs';
import { Family, FamilySpec, checkFamily, foldBatchNorm, kebab, layerFlops, resolvePrefix } from './layer-family';

type PairV = number | [number, number];
export interface LayerSpec extends FamilySpec {
  inChannels?: number;
  outChannels?: number;
  kernelSize?: PairV;
  stride?: PairV;
  padding?: PairV | 'same' | 'valid';
  dilation?: PairV;
  groups?: number;
  bias?: boolean;
  paddingMode?: PaddingMode;
}

export interface RunOptions extends LayerSpec {
  weights: string;
  prefix: string;
  config?: string;
  outDir: string;
  jobs: number;
  threads?: number;
  inputsFrom?: string;
  shard?: Shard;
}

const CONFIG_KEYS: Record<string, keyof LayerSpec> = {
  in_channels: 'inChannels', out_channels: 'outChannels', kernel_size: 'kernelSize', stride: 'stride',
  padding: 'padding', dilation: 'dilation', groups: 'groups', bias: 'bias', padding_mode: 'paddingMode',
  type: 'type', output_padding: 'outputPadding', activation: 'activation', batch_norm: 'batchNorm', batch_norm_eps: 'batchNormEps',
};
export const CONV_FLAG_KEYS = Object.values(CONFIG_KEYS);

/** LAYER.json with PyTorch's argument names -> a LayerSpec (values are checked by Conv2d). */
export function readConfig(file: string): LayerSpec {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`--config ${file}: ${(err as Error).message}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new UsageError(`--config ${file}: expected a JSON object such as {"in_channels": 3, "out_channels": 16, "kernel_size": 3}`);
  const spec: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) {
    const name = CONFIG_KEYS[key];
    if (!Object.hasOwn(CONFIG_KEYS, key))
      throw new UsageError(`--config ${file}: unknown key '${key}'; known keys: ${Object.keys(CONFIG_KEYS).join(', ')}`);
    spec[name] = value;
  }
  return spec as LayerSpec;
}

type Layer = Conv2d | Conv1d | ConvTranspose2d;

/** The layer: the spec, with in/out channels, kernel size and bias taken from the weights when not given. */
export function buildLayer(spec: LayerSpec, state: Record<string, Tensor>, prefix: string, weightsFile: string,
  family: Family = { type: 'Conv2d' }): Layer {
  const { Conv1d, Conv2d, ConvTranspose2d } = lib();
  const type = family.type;
  const wKey = `${prefix}weight`;
  const w = Object.hasOwn(state, wKey) ? state[wKey] : undefined;
  if (!w) {
    const keys = Object.keys(state).filter((k) => k.endsWith('weight')).slice(0, 8);
    const dtype = skippedDtype(state, wKey);
    const skipped = dtype ? ` (it is ${/^[aeiu]/.test(dtype) ? 'an' : 'a'} ${dtype} tensor)` : '';
    throw new Error(`${weightsFile} has no float tensor '${wKey}'${skipped}` +
      (keys.length ? `; weights in the file: ${keys.join(', ')}${keys.length === 8 ? ', ...' : ''} ` +
        "(--prefix is what comes before 'weight', e.g. --prefix layer1.0.conv1.)" : ''));
  }
  const dims = type === 'Conv1d' ? 3 : 4;
  if (w.shape.length !== dims) {
    const other = w.shape.length === 3 ? 'Conv1d' : w.shape.length === 4 ? 'Conv2d' : null;
    throw new Error(`'${wKey}' in ${weightsFile} has shape [${w.shape.join(', ')}]: a ${type} weight is ` +
      (type === 'Conv1d' ? '3-D [out, in/groups, k]'
        : type === 'ConvTranspose2d' ? '4-D [in, out/groups, kH, kW]' : '4-D [out, in/groups, kH, kW]') +
      (other ? ` (a ${w.shape.length}-D weight is a ${other}'s: give "type": "${other}" in LAYER.json, or --type ${other})` : ''));
  }
  const groups = spec.groups ?? 1;
  const options: Conv2dOptions & ConvTranspose2dOptions = {
    stride: spec.stride, padding: spec.padding as ConvTranspose2dOptions['padding'], dilation: spec.dilation,
    groups: spec.groups, bias: spec.bias ?? Object.hasOwn(state, `${prefix}bias`),
    paddingMode: spec.paddingMode as 'zeros', activation: family.activation as Conv2dOptions['activation'],
    outputPadding: spec.outputPadding as ConvTranspose2dOptions['outputPadding'],
  };
  for (const k of Object.keys(options) as (keyof typeof options)[]) if (options[k] === undefined) delete options[k];
  const g = typeof groups === 'number' ? groups : 1;
  // A transposed weight is [in, out/groups, kH, kW]; a conv's [out, in/groups, ...].
  const inChannels = spec.inChannels ?? (type === 'ConvTranspose2d' ? w.shape[0] : w.shape[1] * g);
  const outChannels = spec.outChannels ?? (type === 'ConvTranspose2d' ? w.shape[1] * g : w.shape[0]);
  let conv: Layer;
  try {
    // Conv1d checks its 1-D options itself (an integer or PyTorch's 1-tuple; a pair from the flags is its error).
    if (type === 'Conv1d')
      conv = new Conv1d(inChannels, outChannels, (spec.kernelSize ?? w.shape[2]) as number, options as Conv1dOptions);
    else if (type === 'ConvTranspose2d')
      conv = new ConvTranspose2d(inChannels, outChannels, spec.kernelSize ?? [w.shape[2], w.shape[3]], options);
    else conv = new Conv2d(inChannels, outChannels, spec.kernelSize ?? [w.shape[2], w.shape[3]], options);
  } catch (err) {
    throw new UsageError(`invalid layer: ${(err as Error).message}`);
  }
  conv.loadStateDict(state, { prefix });
  return conv;
}

export async function runCommand(args: string[], o: RunOptions): Promise<number> {
  const simdconv = lib();
  const flagsGiven = CONV_FLAG_KEYS.filter((k) => o[k] !== undefined);
  if (o.config && flagsGiven.length)
    throw new UsageError(`--config and conv flags (${flagsGiven.map((k) => `--${kebab(k)}`).join(', ')}) ` +
      'cannot be combined: put everything in LAYER.json, or use flags only');
  const spec: LayerSpec = o.config ? readConfig(o.config) : o;
  const family = checkFamily(spec, o.config);
  const files = await selectFiles(args, o, 'inputs', { '--weights': o.weights, '--config': o.config });
  const { inputs, outputs } = files;
  if (o.threads !== undefined) simdconv.setNumThreads(o.threads);

  const state = simdconv.loadSafetensors(o.weights);
  // PyTorch prefixes end with '.': accept 'layer1.0.conv1' for 'layer1.0.conv1.' (and 'bn1' for 'bn1.').
  const prefix = resolvePrefix(state, o.prefix, 'weight');
  const bn = family.batchNorm && { ...family.batchNorm, prefix: resolvePrefix(state, family.batchNorm.prefix, 'running_mean') };
  const unfused = buildLayer(spec, state, prefix, o.weights, family);
  const conv = bn ? foldBatchNorm(unfused, state, bn, o.weights) : unfused;
  ensureDir(o.outDir);
  console.log(`run: ${String(conv)} from ${o.weights}${prefix ? ` (prefix '${prefix}')` : ''}` +
    `${bn ? ` with the BatchNorm '${bn.prefix}' folded in (eps ${bn.eps})` : ''}, ` +
    `${describeSelection(files, o.shard)}, ${simdconv.getNumThreads()} threads`);

  const summary = await processFiles('run', inputs, o.jobs, async (input, i) => {
    const bytes = await readInputFile(input);
    const x = simdconv.loadNpy(bytes);
    const y = await conv.forwardAsync(x);
    await writeFileAtomic(outputs[i], simdconv.saveNpy(y));
    return { output: outputs[i], detail: `[${x.shape.join(', ')}] -> [${y.shape.join(', ')}]`, flops: layerFlops(x.shape, y.shape, conv) };
  });
  printSummary('run', summary, path.resolve(o.outDir));
  return summary.failed ? 1 : 0;
}
