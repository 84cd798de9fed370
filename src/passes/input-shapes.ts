/**
 * The shapes of a model's inputs at compile time: each declared dim becomes a fixed size or a shape
 * symbol with bounds, from `--shape` (by position), `--dim` (by the model's dim_param) and the model's own
 * declaration. A symbolic dim given no bounds is fixed to 1, with a warning that says so and how to bound it.
 */
import type { Dim, ShapeSymbolDecl, TensorType } from '../ir/graph.js';
import * as sym from '../ir/symbolic.js';
import type { DimBounds, ShapeArg } from '../compiler/options.js';

/** Where the input shapes come from; `resolve` is called once per model input, in order. */
export class InputShapes {
  private readonly symbols = new Map<string, ShapeSymbolDecl>();
  private readonly usedDims = new Set<string>();
  private readonly declaredShapes: Map<string, readonly Dim[]>;

  constructor(
    inputs: readonly { name: string; shape: readonly Dim[] }[],
    private readonly opts: {
      shapes?: Record<string, ShapeArg[]>;
      dims?: Record<string, DimBounds>;
      onWarning?: (message: string) => void;
    },
  ) {
    for (const [name, b] of Object.entries(opts.dims ?? {})) checkBounds(`--dim ${name}`, b);
    this.declaredShapes = new Map(inputs.map((i) => [i.name, i.shape]));
  }

  /** `--shape` bounds on a named dim bound it wherever it appears, in inputs before the one given too. */
  private boundByShape(declared: string): DimBounds | undefined {
    for (const [input, given] of Object.entries(this.opts.shapes ?? {})) {
      const at = this.declaredShapes.get(input)?.indexOf(declared) ?? -1;
      const b = at >= 0 ? given[at] : undefined;
      if (b !== undefined && typeof b !== 'number') return b;
    }
    return undefined;
  }

  /** The input's type: bounds in `shape`, and `symbolic` when some dim is known only at run time. */
  resolve(name: string, declared: readonly Dim[], dtype: TensorType['dtype']): TensorType {
    const given = this.opts.shapes?.[name];
    if (given && given.length !== declared.length)
      throw new Error(
        `--shape ${name}: the model declares rank ${declared.length} [${declared.join(',')}], got ${given.length} dims`,
      );
    const dims = declared.map((d, i) => this.dimOf(name, i, d, given?.[i]));
    if (!dims.every((d) => typeof d !== 'number' || (Number.isSafeInteger(d) && d >= 0)))
      throw new Error(`input "${name}" has an invalid shape [${dims.join(',')}]`);
    const dimSize = (d: ShapeSymbolDecl) => d.max * (d.stepOf?.step ?? 1);
    const shape = dims.map((d) => (typeof d === 'number' ? d : dimSize(d)));
    if (dims.every((d) => typeof d === 'number')) return { dtype, shape };
    const expr = (d: ShapeSymbolDecl) => sym.mul(sym.sym(d.name), d.stepOf?.step ?? 1);
    return { dtype, shape, symbolic: dims.map((d) => (typeof d === 'number' ? d : expr(d))) };
  }

  /**
   * The symbols the inputs declared, in order of first use; `--dim` names no input uses are refused, but for
   * an input's own name (the bound of a size fed as its value, checked by specialize).
   */
  declared(inputNames: readonly string[]): ShapeSymbolDecl[] {
    for (const name of Object.keys(this.opts.dims ?? {}))
      if (!this.usedDims.has(name) && !inputNames.includes(name))
        throw new Error(
          `--dim names "${name}", which is no symbolic dimension of the model's inputs (inputs: ${inputNames.join(', ') || 'none'})`,
        );
    return [...this.symbols.values()];
  }

  private dimOf(
    input: string,
    axis: number,
    declared: Dim,
    given: ShapeArg | undefined,
  ): number | ShapeSymbolDecl {
    const named = typeof declared === 'string' ? this.opts.dims?.[declared] : undefined;
    if (typeof declared === 'string' && named) this.usedDims.add(declared);
    if (typeof given === 'number') {
      if (typeof declared === 'number' && declared !== given)
        throw new Error(
          `--shape ${input}: dimension ${axis} is fixed to ${declared} by the model, got ${given}`,
        );
      return given;
    }
    if (given) {
      checkBounds(`--shape ${input}: dimension ${axis}`, given);
      if (typeof declared === 'number')
        throw new Error(
          `--shape ${input}: dimension ${axis} is fixed to ${declared} by the model, got ${given.min}..${given.max}`,
        );
      if (named && showBounds(named) !== showBounds(given))
        throw new Error(
          `--shape ${input}: dimension ${axis} is "${declared}", bounded ${showBounds(named)} by --dim, got ${showBounds(given)}`,
        );
      return this.symbol(declared, given);
    }
    if (typeof declared === 'number') return declared;
    if (named) return this.symbol(declared, named);
    const shaped = this.boundByShape(declared);
    if (shaped) return this.symbol(declared, shaped);
    this.opts.onWarning?.(
      `input "${input}" has symbolic dimension "${declared}" with no bounds; fixed to 1 (bound it with --dim ${declared}=MIN..MAX, or fix it with --shape ${input}=...)`,
    );
    return 1;
  }

  /**
   * The symbol a dim reads. A dim with a step is `step` times a symbol that counts the steps,
   * `${name}_div${step}` (height = height_div32·32), so floor divisions of it by the step's factors fold
   * (floor((height_div32·32 + 1) / 2) = height_div32·16) and halved-then-doubled dims compare equal.
   */
  private symbol(name: string, bounds: DimBounds): ShapeSymbolDecl {
    const step = bounds.step ?? 1;
    const counted = step === 1 ? name : `${name}_div${step}`;
    const known = this.symbols.get(name);
    if (known && showBounds(this.boundsOf(known)) !== showBounds(bounds))
      throw new Error(
        `dimension "${name}" is bounded ${showBounds(this.boundsOf(known))} and ${showBounds(bounds)}; give it one range`,
      );
    const s: ShapeSymbolDecl = known ?? {
      name: counted,
      min: bounds.min / step,
      max: bounds.max / step,
      ...(step !== 1 && { stepOf: { name, step } }),
    };
    this.symbols.set(name, s);
    return s;
  }

  private boundsOf(s: ShapeSymbolDecl): DimBounds {
    const step = s.stepOf?.step ?? 1;
    return { min: s.min * step, max: s.max * step, ...(step !== 1 && { step }) };
  }
}

/** `16..1024`, or `32..1024:32` with a step. */
const showBounds = (b: DimBounds) => `${b.min}..${b.max}${b.step && b.step !== 1 ? `:${b.step}` : ''}`;

function checkBounds(where: string, b: DimBounds): void {
  if (!Number.isSafeInteger(b.min) || !Number.isSafeInteger(b.max) || b.min < 0 || b.min > b.max)
    throw new Error(`${where}: bounds ${b.min}..${b.max} must be whole numbers with 0 ≤ MIN ≤ MAX`);
  const step = b.step ?? 1;
  if (!Number.isSafeInteger(step) || step < 1 || b.min % step !== 0 || b.max % step !== 0)
    throw new Error(`${where}: step ${step} must be a whole number ≥ 1 that divides ${b.min} and ${b.max}`);
}
