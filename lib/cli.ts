#!/usr/bin/env node
// The `simdconv` command (the package's bin). Exit status: 0 when everything
// succeeded, 1 when something failed (for file commands: any file; the others
// are still written), 2 for a usage error (unknown flag, missing argument,
// bad value).
import { Command, CommanderError, Option } from 'commander';
import { UsageError, packageVersion, parseIntArg, parseNumberArg, parsePairArg, parsePaddingArg } from './cli/common';
import type { RunOptions } from './cli/run';
import type { FilterOptions } from './cli/filter';
import { DEFAULT_MAX_PIXELS } from './cli/image-limits';
import { parseShardArg } from './cli/inputs';

const PADDING_MODES = ['zeros', 'reflect', 'replicate', 'circular'];
const INPUTS_FROM_HELP = 'also the files listed in this file, one path per line (or NUL-separated); - reads the list from stdin';
const SHARD_HELP = 'do only shard INDEX (0-based) of COUNT: every COUNT-th file of the whole list sorted by file name';

/* eslint-disable @typescript-eslint/no-require-imports */
export function buildProgram(setCode: (code: number) => void): Command {
  const program = new Command('simdconv')
    .description("PyTorch's torch.nn.Conv2d for Node.js: a demo, diagnostics, benchmarks, and batch jobs over files.")
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', `
Exit status: 0 when everything succeeded, 1 when a file (or the job) failed, 2 for a usage error.
Examples:
  simdconv demo
  simdconv run --weights resnet18.safetensors --prefix conv1. --config conv1.json x1.npy x2.npy --out-dir out
  simdconv run --weights model.safetensors --prefix layer1.0.conv1. --padding 1 inputs/*.npy --out-dir out
  simdconv run --weights model.safetensors --prefix layer1.0.conv1. --batch-norm layer1.0.bn1. --padding 1 x.npy --out-dir out
  simdconv filter --kernel gaussian:2 photos/*.jpg --out-dir blurred
  find inputs -name '*.npy' | simdconv run --weights model.safetensors --padding 1 --inputs-from - --shard 0/4 --out-dir out`);

  program.command('demo')
    .description('filter a bundled image with depthwise Conv2d layers and time a ResNet-style 3x3 layer; no arguments needed')
    .option('--out-dir <dir>', 'where to write the outputs (default: a new temporary directory)')
    .option('--batch <n>', 'batch size of the ResNet-style layer', parseIntArg(1, 256), 4)
    .action(async (o: { outDir?: string; batch: number }) => {
      setCode(await require('./cli/demo').demoCommand(o));
    });

  program.command('info')
    .description('version, the native binary loaded, the SIMD instruction set in use, threads')
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) => {
      setCode(require('./cli/info').infoCommand(o));
    });

  program.command('bench')
    .description('run the benchmark suite on this machine (bench/run.js; further arguments are passed on)')
    .option('--quick', 'a short run')
    .argument('[args...]', 'more arguments for bench/run.js')
    .allowUnknownOption()
    .action((args: string[], o: { quick?: boolean }) => {
      setCode(require('./cli/info').benchCommand([...(o.quick ? ['--quick'] : []), ...args]));
    });

  program.command('run')
    .description('apply one Conv2d, Conv1d or ConvTranspose2d, with weights from a PyTorch .safetensors state_dict, to .npy files')
    .argument('[inputs...]', 'float32 .npy inputs, [N, C, H, W] or [C, H, W] (Conv1d: [N, C, L] or [C, L]); ' +
      'each output is written to DIR/<input file name>')
    .requiredOption('--weights <file>', 'a .safetensors file (float32, float16 or bfloat16)')
    .option('--prefix <p>', "the layer's key prefix in the state_dict, e.g. 'layer1.0.conv1.' (reads <p>weight, <p>bias)", '')
    .option('--config <layer.json>', 'the layer in PyTorch argument names: {"in_channels": 3, "out_channels": 16, "kernel_size": 3, "padding": 1, ...}')
    .option('--type <type>', 'Conv2d, Conv1d or ConvTranspose2d (default Conv2d)')
    .option('--batch-norm <prefix>', "fold the BatchNorm with this key prefix in the weights file, e.g. 'bn1.' (fuse_conv_bn_eval)")
    .option('--batch-norm-eps <eps>', "that BatchNorm's eps (default 1e-5, PyTorch's; a state_dict does not hold it)", parseNumberArg(0))
    .option('--output-padding <p>', 'ConvTranspose2d: p or ph,pw (default 0)', parsePairArg(0))
    .option('--activation <act>', 'fused after the conv (and BatchNorm): relu, relu6, sigmoid, tanh, silu, hardswish, gelu, ' +
      'leakyRelu, hardtanh, elu, or a JSON object such as {"name":"leakyRelu","negativeSlope":0.1}')
    .option('--in-channels <n>', 'default: from the weight shape', parseIntArg(1))
    .option('--out-channels <n>', 'default: from the weight shape', parseIntArg(1))
    .option('--kernel-size <k>', 'k or kh,kw (default: from the weight shape)', parsePairArg(1))
    .option('--stride <s>', 's or sh,sw (default 1)', parsePairArg(1))
    .option('--padding <p>', 'p, ph,pw, same or valid (default 0)', parsePaddingArg)
    .option('--dilation <d>', 'd or dh,dw (default 1)', parsePairArg(1))
    .option('--groups <g>', 'default 1', parseIntArg(1))
    .option('--bias', 'the layer has a bias (default: when <prefix>bias is in the file)')
    .option('--no-bias', 'the layer has no bias')
    .addOption(new Option('--padding-mode <mode>', 'default zeros').choices(PADDING_MODES))
    .requiredOption('--out-dir <dir>', 'output directory (created if needed)')
    .option('--jobs <n>', 'files in flight (reading and writing overlap the compute)', parseIntArg(1, 64), 3)
    .option('--threads <n>', 'native threads (default: the number of cores)', parseIntArg(1, 1024))
    .option('--inputs-from <list>', INPUTS_FROM_HELP)
    .option('--shard <index/count>', SHARD_HELP, parseShardArg)
    .action(async (inputs: string[], o: RunOptions) => {
      setCode(await require('./cli/run').runCommand(inputs, o));
    });

  program.command('filter')
    .description('filter PNG/JPEG images, each channel by a depthwise Conv2d with padding "same"')
    .argument('[images...]', 'PNG or JPEG files; each output is written to DIR/<image file name> in the same format')
    .requiredOption('--kernel <spec>', 'sobel | gaussian:SIGMA | box:N | sharpen | FILE.npy ([kH, kW], or [C, 1, kH, kW] per channel)')
    .addOption(new Option('--padding-mode <mode>', 'border handling').choices(PADDING_MODES).default('reflect'))
    .requiredOption('--out-dir <dir>', 'output directory (created if needed)')
    .option('--quality <q>', 'JPEG quality', parseIntArg(1, 100), 92)
    .option('--max-pixels <n>', 'refuse images larger than this (width x height), read from the header before decoding',
      parseIntArg(1), DEFAULT_MAX_PIXELS)
    .option('--jobs <n>', 'files in flight', parseIntArg(1, 64), 3)
    .option('--threads <n>', 'native threads (default: the number of cores)', parseIntArg(1, 1024))
    .option('--inputs-from <list>', INPUTS_FROM_HELP)
    .option('--shard <index/count>', SHARD_HELP, parseShardArg)
    .action(async (images: string[], o: FilterOptions) => {
      setCode(await require('./cli/filter').filterCommand(images, o));
    });

  return program;
}

/** Runs the CLI; resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = buildProgram((c) => { code = c; });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2; // commander printed the message
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof UsageError) {
      console.error(`simdconv: ${message}\n(add --help for usage)`);
      return 2;
    }
    console.error(`simdconv: error: ${message}`);
    return 1;
  }
}

if (require.main === module) {
  // `simdconv ... | head`: a closed pipe ends the output quietly.
  for (const stream of [process.stdout, process.stderr])
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
