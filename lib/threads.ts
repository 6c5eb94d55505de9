// torch.set_num_threads / get_num_threads for the native pool (process-wide).
import { checkInt } from './args';
import { native, type CpuInfo } from './native';

export function setNumThreads(n: number): void {
  native.setNumThreads(checkInt(n, 'setNumThreads: n', 1, 1024));
}

export function getNumThreads(): number {
  return native.getNumThreads();
}

export type { CpuInfo } from './native';

export interface BackendInfo {
  isa: string;
  supportedIsas: string[];
  numThreads: number;
  /** What set numThreads: the default's smallest limit ('affinity', 'cgroup' or 'cores'),
   *  SIMDCONV_NUM_THREADS ('env') or a setNumThreads call. */
  threadsSource: 'affinity' | 'cgroup' | 'cores' | 'env' | 'setNumThreads';
  /** The limits the default is the minimum of (null: none or unknown). The cgroup
   *  quota is in CPUs (quota / period) and counts as ceil(cgroupCpus) threads. */
  threadLimits: { affinity: number | null; cgroupCpus: number | null; cgroupVersion: 1 | 2 | null; cores: number };
  cpu: CpuInfo;
}

/** What the native core runs on this machine. */
export function backendInfo(): BackendInfo {
  const t = native.threadsInfo();
  return {
    isa: native.activeIsa(),
    supportedIsas: native.supportedIsas(),
    numThreads: t.threads,
    threadsSource: t.source,
    threadLimits: { affinity: t.affinity, cgroupCpus: t.cgroupCpus, cgroupVersion: t.cgroupVersion, cores: t.cores },
    cpu: native.cpuInfo(),
  };
}
