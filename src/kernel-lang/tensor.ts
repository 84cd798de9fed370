/**
 * A kernel parameter in the body: a buffer with a shape, each dim a number or — for a dim known only at
 * run time — an i32 `Value` (a size: loop over it, index with it, compute with its methods). `at` reads
 * an element and `set` writes one; every index is checked at trace time to stay inside its dimension,
 * symbolically where the dimension is known only at run time (an index whose bounds cannot be proved is
 * refused), so a traced kernel never reads or writes outside its buffers.
 */
import type { BufRef, Expr } from '../kernels/ir.js';
import { linearIndex, load, store, stridesOf } from '../kernels/build.js';
import { indexOf, strides } from '../kernels/extent.js';
import * as sym from '../ir/symbolic.js';
import type { Scope } from './scope.js';
import { rangeText, Value, type ElementType, type Operand } from './value.js';

export type TensorData = Float32Array | Int32Array;

/** A dim or size: a number, or an i32 value when it is known only at run time. */
export type Dim = number | Value;

export class Tensor {
  /** the dims (numbers, or for dims known only at run time i32 values) */
  readonly shape: readonly Dim[];
  /** the number of elements */
  readonly size: Dim;
  private readonly sizeExpr: sym.SymLike;

  /** @internal the kernel builds its parameters */
  constructor(
    private readonly scope: Scope,
    readonly name: string,
    readonly dtype: ElementType,
    /** each dim, a shape expression where it is known only at run time */
    private readonly dims: readonly sym.SymLike[],
    readonly role: 'input' | 'output',
    /** the buffer (tracing) */
    private readonly buf: BufRef | undefined,
    /** the elements (reference run) */
    private readonly data: TensorData | undefined,
  ) {
    this.sizeExpr = dims.reduce<sym.SymLike>((a, b) => sym.constValue(sym.mul(a, b)) ?? sym.mul(a, b), 1);
    this.shape = dims.map((d, i) => toDim(scope, d, `${name}.shape[${i}]`));
    this.size = toDim(scope, this.sizeExpr, `${name}.size`);
  }

  get rank(): number {
    return this.shape.length;
  }

  /** Element `idx` (one index per dimension, or one flat row-major index). */
  at(...idx: Operand[]): Value {
    const index = this.flatIndex('at', idx);
    if (this.scope.tracing)
      return new Value(this.scope, this.dtype, load(this.buf!, index as Expr), undefined);
    return new Value(this.scope, this.dtype, undefined, this.data![index as number]);
  }

  /** Writes `value` at `idx` (one index per dimension, or one flat row-major index). */
  set(...idxThenValue: Operand[]): void {
    if (this.role === 'input') this.scope.fail(`${this.name} is an input; a kernel writes only its outputs`);
    if (idxThenValue.length < 2) this.scope.fail(`${this.name}.set() takes the indexes, then the value`);
    const idx = idxThenValue.slice(0, -1);
    const given = idxThenValue[idxThenValue.length - 1];
    if (typeof given !== 'number' && given.t !== this.dtype)
      this.scope.fail(
        `${this.name}.set(): storing a ${given.t} value into ${this.name}, a ${this.dtype} tensor; convert it with .to${this.dtype === 'f32' ? 'F32' : 'I32'}()`,
      );
    const value = typeof given === 'number' ? Value.constant(this.scope, this.dtype, given) : given;
    const index = this.flatIndex('set', idx);
    if (this.scope.tracing) this.scope.emit(store(this.buf!, index as Expr, value.expr!));
    else this.data![index as number] = value.num!;
  }

  /** The row-major element index: an i32 expression while tracing, a number otherwise. */
  private flatIndex(method: string, idx: Operand[]): Expr | number {
    const what = `${this.name}.${method}()`;
    const flat = idx.length === 1 && this.rank !== 1;
    if (!flat && idx.length !== this.rank)
      this.scope.fail(
        `${what}: ${idx.length} indexes for ${this.name} of shape [${this.dims.map(sym.symText).join(', ')}]; give ${this.rank}, or 1 flat index`,
      );
    const extents = flat ? [this.sizeExpr] : this.dims;
    const values = idx.map((x, d) => this.checkedIndex(what, x, d, extents[d], flat));
    if (!this.scope.tracing) {
      const st = flat ? [1] : stridesOf(this.dims as number[]);
      return values.reduce((s: number, x, d) => s + x.num! * st[d], 0);
    }
    const exprs = values.map((x) => x.expr!);
    if (flat) return exprs[0];
    return this.dims.every((d) => typeof d === 'number')
      ? linearIndex(exprs, stridesOf(this.dims as number[]))
      : indexOf(exprs, strides(this.dims));
  }

  private checkedIndex(what: string, x: Operand, d: number, extent: sym.SymLike, flat: boolean): Value {
    const last = sym.sub(extent, 1);
    const n = sym.symText(extent);
    const dim = flat ? `${this.name} (${n} elements)` : `dimension ${d} of ${this.name} (size ${n})`;
    const v = typeof x === 'number' ? Value.constant(this.scope, 'i32', x) : x;
    if (v.t !== 'i32')
      this.scope.fail(`${what}: index ${d} is ${v.t}; indexes are i32 (convert with .toI32())`);
    if (!v.range)
      this.scope.fail(
        `${what}: the bounds of index ${d} are unknown at trace time (it comes from a load, a local or a conversion); clamp it with .max(0).min(${sym.symText(last)})`,
      );
    if (this.scope.bounds(v.range[0]).min < 0 || this.scope.bounds(sym.sub(last, v.range[1])).min < 0)
      this.scope.fail(
        `${what}: index ${d} can take ${rangeText(v.range)}, which leaves ${dim}: 0..${sym.symText(last)}`,
      );
    return v;
  }
}

/** A dim as a kernel sees it: a number, or a size value when known only at run time. */
export const toDim = (scope: Scope, d: sym.SymLike, label: string): Dim =>
  sym.constValue(d) ?? Value.size(scope, d, label);
