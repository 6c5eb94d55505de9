// PyTorch's repr of the conv layers (_ConvNd.extra_repr): stride always, the
// other fields only when they differ from their defaults. Sizes print as
// Python tuples, so a 1-D layer's read "(3,)".
import type { Geometry, PaddingMode } from './geometry';

const tuple = (t: readonly number[]) => (t.length === 1 ? `(${t[0]},)` : `(${t.join(', ')})`);

/** The fields extra_repr reads, one entry per spatial dimension. */
export interface ReprFields {
  inChannels: number; outChannels: number;
  kernel: readonly number[]; stride: readonly number[]; dilation: readonly number[];
  padding: readonly number[] | 'valid' | 'same';
  groups: number; paddingMode: PaddingMode;
  outputPadding?: readonly number[]; // ConvTranspose2d: shown after dilation when nonzero
}

export function convRepr(name: string, f: ReprFields, hasBias: boolean): string {
  let s = `${f.inChannels}, ${f.outChannels}, kernel_size=${tuple(f.kernel)}, stride=${tuple(f.stride)}`;
  if (typeof f.padding === 'string') s += `, padding=${f.padding}`;
  else if (f.padding.some((p) => p !== 0)) s += `, padding=${tuple(f.padding)}`;
  if (f.dilation.some((d) => d !== 1)) s += `, dilation=${tuple(f.dilation)}`;
  if (f.outputPadding?.some((p) => p !== 0)) s += `, output_padding=${tuple(f.outputPadding)}`;
  if (f.groups !== 1) s += `, groups=${f.groups}`;
  if (!hasBias) s += ', bias=False';
  if (f.paddingMode !== 'zeros') s += `, padding_mode=${f.paddingMode}`;
  return `${name}(${s})`;
}

export function conv2dRepr(g: Geometry, hasBias: boolean): string {
  return convRepr('Conv2d', g, hasBias);
}
