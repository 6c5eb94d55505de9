// Shared by the CLI commands: errors with exit codes, option parsers, output
// paths, a bounded pool of file jobs and the progress display.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError } from 'commander';
import type * as Simdconv from '../index';

/** A command-line mistake: exit status 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
}

/** The library, loaded when a command needs it (so `--help` works without the native addon). */
export function lib(): typeof Simdconv {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../index') as typeof Simdconv;
}

export const packageRoot = path.join(__dirname, '..', '..');

export function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
}

// ---- option parsers (commander calls them; InvalidArgumentError -> exit 2) ----

export function parseIntArg(min: number, max = 2 ** 31) {
  return (v: string): number => {
    if (!/^\s*\d+\s*$/.test(v) || Number(v) < min || Number(v) > max)
      throw new InvalidArgumentError(`expected an integer in [${min}, ${max}], got '${v}'`);
    return Number(v);
  };
}

/** "3" -> 3, "3,5" -> [3, 5] */
export function parsePairArg(min: number) {
  return (v: string): number | [number, number] => {
    const parts = v.split(',');
    if (parts.length > 2 || !parts.every((p) => /^\s*\d+\s*$/.test(p) && Number(p) >= min))
      throw new InvalidArgumentError(`expected an integer >= ${min} or two separated by a comma (e.g. 3 or 3,5), got '${v}'`);
    return parts.length === 1 ? Number(parts[0]) : [Number(parts[0]), Number(parts[1])];
  };
}

export function parsePaddingArg(v: string): number | [number, number] | 'same' | 'valid' {
  if (v === 'same' || v === 'valid') return v;
  try {
    return parsePairArg(0)(v);
  } catch {
    throw new InvalidArgumentError(`expected same, valid, an integer or two separated by a comma (e.g. 1 or 0,2), got '${v}'`);
  }
}

/** A finite number >= min, e.g. "1e-3". */
export function parseNumberArg(min: number) {
  return (v: string): number => {
    const n = v.trim() === '' ? NaN : Number(v);
    if (!Number.isFinite(n) || n < min) throw new InvalidArgumentError(`expected a finite number >= ${min} (e.g. 1e-3), got '${v}'`);
    return n;
  };
}

// ---- files ----

/**
 * DIR/<basename> for each input; refuses two inputs with the same name (one would overwrite
 * the other) and an output that is the input itself.
 */
export function outputPaths(inputs: string[], outDir: string): string[] {
  const seen = new Map<string, string>();
  return inputs.map((input) => {
    const base = path.basename(input);
    const prev = seen.get(base);
    if (prev !== undefined)
      throw new UsageError(`two inputs have the same file name, '${prev}' and '${input}': both would be written to ` +
        `${path.join(outDir, base)}`);
    seen.set(base, input);
    const out = path.join(outDir, base);
    if (path.resolve(out) === path.resolve(input))
      throw new UsageError(`'${input}' would be overwritten by its own output: choose another --out-dir`);
    return out;
  });
}

/**
 * The bytes of an input, which must be a regular file: a FIFO, a device such as /dev/zero
 * or a directory would block or never end. Opened non-blocking (a FIFO with no writer
 * would block the open itself), then checked on the descriptor, so no other file can be
 * swapped in between.
 */
export async function readInputFile(file: string): Promise<Buffer> {
  const handle = await fs.promises.open(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new Error(`'${file}' is not a regular file`);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/**
 * Device and inode of the file a path names, following symbolic links (of the file and of
 * every directory above it), or null when there is none (or it cannot be stat'ed).
 */
function fileIdentity(file: string): string | null {
  try {
    const st = fs.statSync(file, { bigint: true });
    return `${st.dev}:${st.ino}`;
  } catch {
    return null;
  }
}

/**
 * Refuses (usage error) an output that is a file the command reads: an input, or one of
 * `reads` (the weights, a config, a kernel, an input list). Paths can differ and still name
 * one file: a symlinked directory, a hard link, a bind mount, a case-insensitive file
 * system. Device and inode compare what the paths resolve to, which a realpath comparison
 * would miss for hard links and mounts. Only an output that exists already can be such a
 * file (a new name is a new file), so with a fresh --out-dir this is one stat per output.
 */
export function refuseOutputsOverReads(outputs: string[], inputs: string[], reads: Record<string, string | undefined> = {}): void {
  const existing = outputs.map((out) => ({ out, id: fileIdentity(out) })).filter((o) => o.id !== null);
  if (!existing.length) return;
  const readBy = new Map<string, string>();
  const named: [string, string | undefined][] = [...inputs.map((f): [string, string] => ['input', f]), ...Object.entries(reads)];
  for (const [what, file] of named) {
    const id = file === undefined ? null : fileIdentity(file);
    if (id !== null && !readBy.has(id)) readBy.set(id, `${what} '${file}'`);
  }
  for (const { out, id } of existing) {
    const read = readBy.get(id as string);
    if (read)
      throw new UsageError(`${read} would be overwritten by the output '${out}': they are the same file ` +
        '(through a symbolic link, a hard link or a mount); choose another --out-dir');
  }
}

/**
 * A fresh name next to `file` for writing it: random (96 bits from the OS), so nobody can
 * plant a file or link there in advance, and hidden (a dot first) from globs over the
 * output directory. The name of the output is cut so that the whole stays under NAME_MAX.
 */
export function temporaryPath(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file).slice(0, 200)}.${crypto.randomBytes(12).toString('hex')}.tmp`);
}

/**
 * Writes through a temporary file in the output's directory, renamed over the output when
 * complete, so a failed write never leaves a partial file. The temporary file is created
 * exclusively ('wx': O_CREAT | O_EXCL), which never opens an existing file and never
 * follows a symbolic link; on EEXIST a new name is drawn. It is removed on failure.
 */
export async function writeFileAtomic(file: string, data: Uint8Array): Promise<void> {
  let tmp = '';
  let handle: fs.promises.FileHandle | undefined;
  for (let attempt = 1; !handle; attempt++) {
    tmp = temporaryPath(file);
    try {
      handle = await fs.promises.open(tmp, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt === 8) throw err;
    }
  }
  try {
    try {
      await handle.writeFile(data);
    } finally {
      await handle.close();
    }
    await fs.promises.rename(tmp, file);
  } catch (err) {
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
}

export function ensureDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new Error(`cannot create --out-dir '${dir}': ${(err as Error).message}`);
  }
}

// ---- the pool and progress ----

export interface FileResult { output: string; detail: string; flops: number }

export interface Summary { ok: number; failed: number; seconds: number; flops: number; bytesIn: number }

export function formatSeconds(s: number): string {
  return s < 1 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(2)} s`;
}

/**
 * Runs `work` on every input with at most `jobs` in flight (reading and writing overlap the
 * native compute, which itself uses every core), reporting each file as it finishes: a
 * progress bar on a terminal, one line per file otherwise. A failing file is reported and
 * the others go on.
 */
export async function processFiles(command: string, inputs: string[], jobs: number,
  work: (input: string, index: number) => Promise<FileResult>): Promise<Summary> {
  const tty = Boolean(process.stderr.isTTY) && !process.env.CI;
  const failures: string[] = [];
  const summary: Summary = { ok: 0, failed: 0, seconds: 0, flops: 0, bytesIn: 0 };
  let bar: { increment(n: number, payload?: object): void; stop(): void } | null = null;
  if (tty && inputs.length > 0) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const cliProgress = require('cli-progress') as typeof import('cli-progress');
    const b = new cliProgress.SingleBar({
      format: `${command} |{bar}| {value}/{total} files | {percentage}% | ETA {eta_formatted} | {file}`,
      stream: process.stderr, hideCursor: true, etaBuffer: 20,
    }, cliProgress.Presets.shades_classic);
    b.start(inputs.length, 0, { file: '' });
    bar = b;
  }
  const start = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < inputs.length) {
      const i = next++;
      const input = inputs[i];
      const t0 = performance.now();
      try {
        const r = await work(input, i);
        summary.ok++;
        summary.flops += r.flops;
        if (!bar) console.log(`ok    ${input} -> ${r.output} ${r.detail} (${formatSeconds((performance.now() - t0) / 1000)})`);
      } catch (err) {
        summary.failed++;
        const msg = `${input}: ${(err as Error)?.message ?? String(err)}`;
        if (bar) failures.push(msg);
        else console.error(`FAIL  ${msg}`);
      }
      bar?.increment(1, { file: path.basename(input) });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, inputs.length)) }, worker));
  bar?.stop();
  for (const f of failures) console.error(`FAIL  ${f}`);
  summary.seconds = (performance.now() - start) / 1000;
  return summary;
}

export function printSummary(command: string, s: Summary, outDir: string): void {
  const total = s.ok + s.failed;
  const rate = s.seconds > 0 ? ` (${(total / s.seconds).toFixed(1)} files/s` +
    (s.flops > 0 ? `, ${(s.flops / s.seconds / 1e9).toPrecision(3)} GFLOP/s` : '') + ')' : '';
  console.log(`${command}: ${total} file${total === 1 ? '' : 's'} in ${formatSeconds(s.seconds)}${rate}: ` +
    `${s.ok} written to ${outDir}` + (s.failed ? `, ${s.failed} failed` : ''));
}

/** FLOPs of one forward: 2 * (output elements) * (Cin / groups) * (kernel elements: kH * kW, or k for Conv1d). */
export function convFlops(outShape: readonly number[], conv: { inChannels: number; groups: number; kernelSize: readonly number[] }): number {
  const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);
  return 2 * product(outShape) * (conv.inChannels / conv.groups) * product(conv.kernelSize);
}
