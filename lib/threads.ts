// torch.set_num_threads / get_num_threads for the native pool (process-wide).
import { checkInt } from './args';
import { native } from './native';

export function setNumThreads(n: number): void {
  native.setNumThreads(checkInt(n, 'setNumThreads: n', 1, 1024));
}

export function getNumThreads(): number {
  return native.getNumThreads();
}

/** What the native core runs on this machine. */
export function backendInfo(): { isa: string; supportedIsas: string[]; numThreads: number } {
  return { isa: native.activeIsa(), supportedIsas: native.supportedIsas(), numThreads: native.getNumThreads() };
}
