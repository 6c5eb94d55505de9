// Options and result of `conv.tune(inputShape)` (docs/API.md): opt-in
// measured tuning, like torch.backends.cudnn.benchmark. Shared by Conv2d and
// Conv1d; the measuring is native (cpp/src/conv_layer_tune.cpp).
import { checkInt, checkOptions, describeValue } from './args';

export interface TuneOptions {
  /** Timed runs per candidate, after one warm-up run (default 5, at most 1000). */
  repetitions?: number;
  /** Only these candidates (names as `plan().algorithm` reports them); default: all that apply. */
  algorithms?: string[];
}

/** What `tune` measured at the current thread count, and the plan it keeps for the shape. */
export interface TuneResult {
  chosen: string;
  threads: number;
  candidates: { algorithm: string; medianMs: number }[];
}

export const DEFAULT_TUNE_REPETITIONS = 5;
// The native algorithm names (cpp/src/plan/plan.cpp, algorithm_name); the
// binding checks them again.
const ALGORITHMS = ['im2col-gemm', 'depthwise-direct', 'grouped-direct', 'direct', 'winograd-2x2'];

export function checkTuneOptions(options: unknown, where: string): { repetitions: number; algorithms: string[] | null } {
  const o = checkOptions<TuneOptions>(options, ['repetitions', 'algorithms'], where);
  const repetitions = o.repetitions === undefined
    ? DEFAULT_TUNE_REPETITIONS : checkInt(o.repetitions, `${where}: repetitions`, 1, 1000);
  let algorithms: string[] | null = null;
  if (o.algorithms !== undefined) {
    if (!Array.isArray(o.algorithms) || o.algorithms.length === 0 || !o.algorithms.every((a) => typeof a === 'string'))
      throw new TypeError(`${where}: algorithms must be a non-empty array of algorithm names, got ${describeValue(o.algorithms)}`);
    algorithms = [...o.algorithms];
    algorithms.forEach((a, i) => {
      if (!ALGORITHMS.includes(a))
        throw new RangeError(`${where}: algorithms[${i}] is ${describeValue(a)}, not one of ${ALGORITHMS.join(', ')}`);
    });
  }
  return { repetitions, algorithms };
}
