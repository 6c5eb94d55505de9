// The files a `run` or `filter` process works on: the paths on the command
// line and those of --inputs-from (a list file, or '-' for stdin), cut to one
// shard with --shard INDEX/COUNT, so that many workers (a Kubernetes Indexed
// Job, GNU parallel, a queue) share one batch without talking to each other.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError } from 'commander';
import { UsageError, outputPaths, refuseOutputsOverReads } from './common';

export interface Shard { index: number; count: number }

/** "2/8" -> { index: 2, count: 8 }: 0-based, so a Kubernetes completion index can be used as it is. */
export function parseShardArg(v: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(v);
  const index = m ? Number(m[1]) : NaN, count = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(count) || count < 1 || !(index < count))
    throw new InvalidArgumentError(`expected INDEX/COUNT with COUNT >= 1 and 0 <= INDEX < COUNT (e.g. 0/4), got '${v}'`);
  return { index, count };
}

async function readText(file: string): Promise<string> {
  if (file !== '-') return fs.promises.readFile(file, 'utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The paths in a list: one per line, taken literally (relative ones from the current
 * directory; a '\r' before the newline is dropped; empty lines are skipped), or separated by
 * NUL bytes when there is one (`find -print0`: any file name, newlines included).
 */
export async function readInputList(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readText(file);
  } catch (err) {
    throw new UsageError(`--inputs-from ${file}: ${(err as Error).message}`);
  }
  const lines = text.includes('\0') ? text.split('\0') : text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  return lines.filter((l) => l.length > 0);
}

/**
 * Indices of the files in `shard`: the list sorted by file name (then by path, in UTF-16
 * code unit order, which no locale changes), every COUNT-th from INDEX. Every worker given
 * the same files computes the same split whatever their order or directory prefixes.
 */
export function shardIndices(files: string[], shard: Shard): number[] {
  const key = (i: number) => [path.basename(files[i]), files[i]];
  const order = files.map((_, i) => i).sort((a, b) => {
    const [ka, kb] = [key(a), key(b)];
    for (let j = 0; j < 2; j++) if (ka[j] !== kb[j]) return ka[j] < kb[j] ? -1 : 1;
    return a - b;
  });
  return order.filter((_, rank) => rank % shard.count === shard.index);
}

export interface FileSelection {
  /** The inputs this process works on, and their outputs. */
  inputs: string[];
  outputs: string[];
  /** How many files the whole batch has (all shards). */
  total: number;
}

/**
 * The inputs and outputs of this process. The checks on names span the whole batch (two
 * inputs with the same name in different shards would overwrite each other's output), and
 * no output may be a file the command reads (`reads`: the weights, a config, a kernel).
 */
export async function selectFiles(args: string[], o: { inputsFrom?: string; shard?: Shard; outDir: string },
  argName: string, reads: Record<string, string | undefined>): Promise<FileSelection> {
  if (!args.length && o.inputsFrom === undefined)
    throw new UsageError(`missing required argument '${argName}': give the files, or --inputs-from LIST (- for stdin)`);
  const all = o.inputsFrom === undefined ? args : [...args, ...(await readInputList(o.inputsFrom))];
  const allOutputs = outputPaths(all, o.outDir);
  const mine = o.shard ? shardIndices(all, o.shard) : all.map((_, i) => i);
  const selection = { inputs: mine.map((i) => all[i]), outputs: mine.map((i) => allOutputs[i]), total: all.length };
  refuseOutputsOverReads(selection.outputs, all, { ...reads, '--inputs-from': o.inputsFrom === '-' ? undefined : o.inputsFrom });
  return selection;
}

/** "3 files", or "shard 1/4: 3 of 10 files" */
export function describeSelection(files: FileSelection, shard: Shard | undefined, noun = 'file'): string {
  const n = (k: number) => `${k} ${noun}${k === 1 ? '' : 's'}`;
  return shard ? `shard ${shard.index}/${shard.count}: ${files.inputs.length} of ${n(files.total)}` : n(files.inputs.length);
}
