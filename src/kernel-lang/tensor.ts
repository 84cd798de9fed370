/**
 * A kernel parameter in the body: a buffer with a static shape. `at` reads an element and `set` writes
 * one; every index is checked at trace time to stay inside its dimension (an index whose bounds cannot
 * be proved is refused), so a traced kernel never reads or writes outside its buffers.
 */
import type { BufRef, Expr } from '../kernels/ir.js';
import { linearIndex, load, store, stridesOf } from '../kernels/build.js';
import type { Scope } from './scope.js';
import { Value, type ElementType, type Operand } from './value.js';

export type TensorData = Float32Array | Int32Array;

export class Tensor {
  readonly size: number;

  /** @internal the kernel builds its parameters */
  constructor(
    private readonly scope: Scope,
    readonly name: string,
    readonly dtype: ElementType,
    readonly shape: readonly number[],
    readonly role: 'input' | 'output',
    /** the buffer (tracing) */
    private readonly buf: BufRef | undefined,
    /** the elements (reference run) */
    private readonly data: TensorData | undefined,
  ) {
    this.size = shape.reduce((a, b) => a * b, 1);
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
        `${what}: ${idx.length} indexes for ${this.name} of shape [${this.shape.join(', ')}]; give ${this.rank}, or 1 flat index`,
      );
    const extents = flat ? [this.size] : this.shape;
    const values = idx.map((x, d) => this.checkedIndex(what, x, d, extents[d], flat));
    const strides = flat ? [1] : stridesOf(this.shape);
    if (!this.scope.tracing) return values.reduce((s: number, x, d) => s + x.num! * strides[d], 0);
    return linearIndex(
      values.map((x) => x.expr!),
      strides,
    );
  }

  private checkedIndex(what: string, x: Operand, d: number, extent: number, flat: boolean): Value {
    const dim = flat
      ? `${this.name} (${extent} elements)`
      : `dimension ${d} of ${this.name} (size ${extent})`;
    const v = typeof x === 'number' ? Value.constant(this.scope, 'i32', x) : x;
    if (v.t !== 'i32')
      this.scope.fail(`${what}: index ${d} is ${v.t}; indexes are i32 (convert with .toI32())`);
    if (!v.range)
      this.scope.fail(
        `${what}: the bounds of index ${d} are unknown at trace time (it comes from a load, a local or a conversion); clamp it with .max(0).min(${extent - 1})`,
      );
    if (v.range[0] < 0 || v.range[1] > extent - 1)
      this.scope.fail(
        `${what}: index ${d} can take ${v.range[0]}..${v.range[1]}, which leaves ${dim}: 0..${extent - 1}`,
      );
    return v;
  }
}
