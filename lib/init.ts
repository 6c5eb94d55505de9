// PyTorch's default Conv2d initialisation (reset_parameters): weight from
// kaiming_uniform_(a=sqrt(5)), i.e. U(-b, b) with b = gain*sqrt(3/fan_in) and
// gain = sqrt(2/(1+a^2)) = sqrt(1/3), so b = 1/sqrt(fan_in); bias from
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)). fan_in = in_channels/groups * kH * kW.
export function uniformInit(size: number, fanIn: number): Float32Array {
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = (Math.random() * 2 - 1) * bound;
  return out;
}
