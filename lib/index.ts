// simdconv: PyTorch's torch.nn.Conv2d for Node.js. See README.md and API.md.
export { Tensor } from './tensor';
export { Conv2d } from './conv2d';
export type { Conv2dOptions, ForwardOptions, ForwardAsyncOptions } from './conv2d';
export { conv2d, conv2dOutputShape } from './functional';
export type { Conv2dFunctionalOptions } from './functional';
export { setNumThreads, getNumThreads, backendInfo } from './threads';
export type { BackendInfo, CpuInfo } from './threads';
export type { Pair } from './args';
export type { PaddingMode, Padding } from './geometry';
export { loadSafetensors } from './io/safetensors';
export { loadNpy, saveNpy } from './io/npy';
export { Conv1d } from './conv1d';
export type { Conv1dOptions, Conv1dForwardOptions, Conv1dForwardAsyncOptions } from './conv1d';
export { conv1d } from './functional1d';
export type { Conv1dFunctionalOptions } from './functional1d';
export type { Padding1d } from './geometry1d';
export { fuseConvBn } from './fuse';
export type { Device, Dtype } from './device';
export type { ConvPlan } from './native';
export { ConvTranspose2d } from './convTranspose2d';
export type { ConvTranspose2dOptions, ConvTranspose2dForwardOptions,
  ConvTranspose2dForwardAsyncOptions } from './convTranspose2d';
export { convTranspose2d, convTranspose2dOutputShape } from './functionalTranspose';
export type { ConvTranspose2dFunctionalOptions } from './functionalTranspose';
export type { TuneOptions, TuneResult } from './tune';
export type { Activation } from './activation';
