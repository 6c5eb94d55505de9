// PyTorch's repr of Conv2d: extra_repr prints stride always and the other
// fields only when they differ from their defaults.
import type { Geometry } from './geometry';

const pair = ([a, b]: [number, number]) => `(${a}, ${b})`;

export function conv2dRepr(g: Geometry, hasBias: boolean): string {
  let s = `${g.inChannels}, ${g.outChannels}, kernel_size=${pair(g.kernel)}, stride=${pair(g.stride)}`;
  if (typeof g.padding === 'string') s += `, padding=${g.padding}`;
  else if (g.padding[0] !== 0 || g.padding[1] !== 0) s += `, padding=${pair(g.padding)}`;
  if (g.dilation[0] !== 1 || g.dilation[1] !== 1) s += `, dilation=${pair(g.dilation)}`;
  if (g.groups !== 1) s += `, groups=${g.groups}`;
  if (!hasBias) s += ', bias=False';
  if (g.paddingMode !== 'zeros') s += `, padding_mode=${g.paddingMode}`;
  return `Conv2d(${s})`;
}
