// The fused epilogue's `activation` option (API.md, "Fused epilogue"): checked
// once in a layer's constructor, kept in one canonical form (the field
// `conv.activation`, which a constructor accepts back unchanged), turned into
// the native layer's parameters (cpp/include/simdconv/epilogue.h names) and
// into PyTorch's module repr for the layer's toString.
import { describeValue } from './args';
import type { NativeActivation, NativeLayerParams } from './native';

export type Activation =
  | 'relu' | 'relu6' | 'sigmoid' | 'tanh' | 'silu' | 'hardswish' | 'gelu'
  | { name: 'leakyRelu'; negativeSlope?: number }
  | { name: 'hardtanh'; minVal?: number; maxVal?: number }
  | { name: 'elu'; alpha?: number }
  | { name: 'gelu'; approximate?: 'none' | 'tanh' };

/** What the native layer reads (NativeLayerParams' epilogue fields); absent means "none". */
export type NativeActivationParams = Pick<NativeLayerParams, 'activation' | 'activationAlpha' | 'activationBeta'>;

interface Kind {
  native: NativeActivation;   // epilogue.h's act_kind_name
  module: string;   // the torch.nn module whose repr the layer shows
  params: Record<string, { torch: string; default: number | string }>; // JS key -> torch's argument
}

// Parameters in PyTorch's order and with its defaults (nn.LeakyReLU, nn.Hardtanh, nn.ELU, nn.GELU).
const KINDS: Record<string, Kind> = {
  relu: { native: 'relu', module: 'ReLU', params: {} },
  relu6: { native: 'relu6', module: 'ReLU6', params: {} },
  leakyRelu: { native: 'leaky_relu', module: 'LeakyReLU', params: { negativeSlope: { torch: 'negative_slope', default: 0.01 } } },
  hardtanh: { native: 'hardtanh', module: 'Hardtanh', params: {
    minVal: { torch: 'min_val', default: -1 }, maxVal: { torch: 'max_val', default: 1 } } },
  elu: { native: 'elu', module: 'ELU', params: { alpha: { torch: 'alpha', default: 1 } } },
  sigmoid: { native: 'sigmoid', module: 'Sigmoid', params: {} },
  tanh: { native: 'tanh', module: 'Tanh', params: {} },
  silu: { native: 'silu', module: 'SiLU', params: {} },
  hardswish: { native: 'hardswish', module: 'Hardswish', params: {} },
  gelu: { native: 'gelu', module: 'GELU', params: { approximate: { torch: 'approximate', default: 'none' } } },
};
export const ACTIVATION_NAMES = Object.keys(KINDS);

/** The canonical form: a name as given, or a frozen object with every parameter filled in. */
type Canonical = Activation;

const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** A name as given (PyTorch's function or module names too) -> ours, for a "did you mean" hint. */
function suggestion(name: string): string | undefined {
  const key = name.toLowerCase().replace(/_/g, '');
  return ACTIVATION_NAMES.find((n) => n.toLowerCase() === key);
}

function checkName(name: unknown, where: string): string {
  if (typeof name === 'string' && Object.hasOwn(KINDS, name)) return name;
  const hint = typeof name === 'string' && suggestion(name) ? ` (did you mean '${suggestion(name)}'?)` : '';
  throw new RangeError(`${where}: unknown activation ${describeValue(name)}${hint}; supported: ` +
    `${ACTIVATION_NAMES.join(', ')}`);
}

/** A finite number that stays finite as the float32 the kernels compute with. */
function checkNumber(v: unknown, name: string): number {
  if (typeof v !== 'number') throw new TypeError(`${name} must be a number, got ${describeValue(v)}`);
  if (!Number.isFinite(Math.fround(v)))
    throw new RangeError(`${name} must be a finite float32 number, got ${describeValue(v)}`);
  return v;
}

/**
 * Checks an `activation` option. undefined and null mean none (null is also
 * what `conv.activation` holds then). Any supported name may be given as a
 * string (its PyTorch defaults) or as { name, ...parameters }.
 */
export function checkActivation(value: unknown, where: string): Canonical | null {
  if (value === undefined || value === null) return null;
  const at = `${where}: activation`;
  let name: string;
  let given: Record<string, unknown> = {};
  if (typeof value === 'string') {
    name = checkName(value, where);
  } else if (typeof value === 'object' && !Array.isArray(value)) {
    given = value as Record<string, unknown>;
    if (!Object.hasOwn(given, 'name'))
      throw new TypeError(`${at} must be a name or an object with a 'name' (one of ${ACTIVATION_NAMES.join(', ')}), ` +
        `got an object with keys ${Object.keys(given).join(', ') || '(none)'}`);
    name = checkName(given.name, where);
    const known = Object.keys(KINDS[name].params);
    for (const key of Object.keys(given)) {
      if (key === 'name' || known.includes(key)) continue;
      const hint = known.includes(camel(key)) ? ` (did you mean '${camel(key)}'?)` : '';
      throw new TypeError(`${at}: unknown key '${key}' for '${name}'${hint}; ` +
        (known.length ? `its parameters: ${known.join(', ')}` : `'${name}' takes no parameters`));
    }
  } else {
    throw new TypeError(`${at} must be one of ${ACTIVATION_NAMES.map((n) => `'${n}'`).join(', ')} or an object ` +
      `such as { name: 'leakyRelu', negativeSlope: 0.1 }, got ${describeValue(value)}`);
  }
  if (typeof value === 'string') return name as Canonical;
  const kind = KINDS[name];
  const out: Record<string, unknown> = { name };
  for (const [key, p] of Object.entries(kind.params)) {
    const v = given[key] === undefined ? p.default : given[key];
    if (key === 'approximate') {
      if (v !== 'none' && v !== 'tanh')
        // PyTorch's F.gelu: "approximate argument must be either none or tanh."
        throw new RangeError(`${at}.approximate must be either 'none' or 'tanh', got ${describeValue(v)}`);
      out[key] = v;
    } else {
      out[key] = checkNumber(v, `${at}.${key}`);
    }
  }
  if (name === 'hardtanh' && (out.minVal as number) > (out.maxVal as number))
    // nn.Hardtanh asserts max_val > min_val; F.hardtanh would clamp everything to max_val.
    throw new RangeError(`${at}: minVal (${out.minVal}) must not be greater than maxVal (${out.maxVal})`);
  return Object.freeze(out) as Canonical;
}

/** A checked activation's kind and every parameter (the defaults of a name given as a string). */
function resolve(a: Canonical): { kind: Kind; values: Record<string, number | string> } {
  const name = typeof a === 'string' ? a : a.name;
  const kind = KINDS[name];
  const values: Record<string, number | string> = {};
  for (const [key, p] of Object.entries(kind.params))
    values[key] = typeof a === 'string' ? p.default : (a as unknown as Record<string, number | string>)[key];
  return { kind, values };
}

/** The native layer's epilogue parameters for a checked activation (none: no fields). */
export function nativeActivation(a: Canonical | null): NativeActivationParams {
  if (a === null) return {};
  const { kind, values } = resolve(a);
  if (kind.native === 'gelu') return { activation: values.approximate === 'tanh' ? 'gelu_tanh' : 'gelu' };
  const numbers = Object.values(values) as number[]; // leaky_relu: slope; hardtanh: min, max; elu: alpha
  const p: NativeActivationParams = { activation: kind.native };
  if (numbers.length > 0) p.activationAlpha = numbers[0];
  if (numbers.length > 1) p.activationBeta = numbers[1];
  return p;
}

/**
 * Python's repr of a float: the shortest digits that round-trip (as JS),
 * in exponent form when the exponent is < -4 or >= 16, else positional with
 * at least one decimal ("1.0", "0.01", "1e-05", "1e+20").
 */
export function pythonFloatRepr(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const [mantissa, expText] = v.toExponential().split('e');
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  const s = String(v); // positional for these exponents
  return s.includes('.') ? s : `${s}.0`;
}

/** PyTorch's repr of the activation's module, e.g. "LeakyReLU(negative_slope=0.1)". */
export function activationRepr(a: Canonical): string {
  const { kind, values } = resolve(a);
  const args = Object.entries(kind.params).map(([key, p]) => {
    const v = values[key];
    return `${p.torch}=${typeof v === 'string' ? `'${v}'` : pythonFloatRepr(v)}`;
  });
  return `${kind.module}(${args.join(', ')})`;
}

/** The layer's repr with the activation appended inside the parentheses. */
export function withActivationRepr(repr: string, a: Canonical | null): string {
  return a === null ? repr : `${repr.slice(0, -1)}, activation=${activationRepr(a)})`;
}
