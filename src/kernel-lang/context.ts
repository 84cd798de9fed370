/**
 * `k`, the second argument of a kernel body: loops (parallel and sequential), locals, reductions and
 * conditionals. Tracing, each builds the Kernel IR statement it names; in the reference run it does
 * what the statement would do, on numbers.
 */
import type { Expr } from '../kernels/ir.js';
import * as sym from '../ir/symbolic.js';
import {
  add,
  local as localStmt,
  loop as loopStmt,
  max as maxExpr,
  min as minExpr,
  set,
  v,
  when,
} from '../kernels/build.js';
import { extentOf } from '../kernels/extent.js';
import type { Scope } from './scope.js';
import type { Dim, Tensor } from './tensor.js';
import { canonical, Value, type ElementType, type Operand, type ScalarType } from './value.js';

/** A mutable scalar of the kernel body (an accumulator, a running maximum). */
export class Local {
  private num: number | undefined;

  /** @internal made by k.local() */
  constructor(
    private readonly scope: Scope,
    readonly t: ScalarType,
    private readonly name: string,
    init: Value,
  ) {
    if (scope.tracing) scope.emit(localStmt(name, t, init.expr!));
    else this.num = init.num;
  }

  get(): Value {
    if (this.scope.tracing) return new Value(this.scope, this.t, v(this.name, this.t), undefined);
    return new Value(this.scope, this.t, undefined, this.num);
  }

  set(value: Operand): void {
    const x = typeof value === 'number' ? Value.constant(this.scope, this.t, value) : value;
    if (x.t !== this.t)
      this.scope.fail(
        `setting a ${this.t} local to a ${x.t} value; convert it with .to${this.t === 'f32' ? 'F32' : 'I32'}()`,
      );
    if (this.scope.tracing) this.scope.emit(set(this.name, x.expr!));
    else this.num = x.num;
  }
}

type Reduction = 'sum' | 'max' | 'min';
const REDUCE_INIT: Record<Reduction, number> = { sum: 0, max: -Infinity, min: Infinity };
const REDUCE_EXPR: Record<Reduction, (a: Expr, b: Expr) => Expr> = { sum: add, max: maxExpr, min: minExpr };

export class KernelContext {
  /** @internal made for each run of the body */
  constructor(private readonly scope: Scope) {}

  /** A constant f32. */
  f32(x: number): Value {
    return Value.constant(this.scope, 'f32', x);
  }

  /** A constant i32. */
  i32(x: number): Value {
    return Value.constant(this.scope, 'i32', x);
  }

  /** Runs `body` for every element of `t` (a flat index), in parallel. */
  forEach(t: Tensor, body: (i: Value) => void): void {
    this.parallel([t.size], body);
  }

  /**
   * Declares parallel dimensions: `body` runs once per index tuple, in any order, possibly at once
   * (GPU invocations). Iterations must not depend on each other. Parallel loops are the outermost of the
   * kernel: not inside k.loop, a reduction or k.if.
   */
  parallel(extents: Dim | readonly Dim[], body: (...idx: Value[]) => void): void {
    if (this.scope.sequentialDepth > 0)
      this.scope.fail(
        'k.parallel() inside a sequential loop, reduction or k.if: declare parallel dimensions outermost',
      );
    const ns = Array.isArray(extents) ? (extents as readonly Dim[]) : [extents as Dim];
    this.nest(
      ns.map((n) => this.extent('k.parallel()', n)),
      'p',
      body,
    );
  }

  /** A sequential loop: `body` runs for i = 0, 1, ..., n - 1 in order. */
  loop(n: Dim, body: (i: Value) => void): void {
    const extent = this.extent('k.loop()', n);
    this.sequential(() => this.nest([extent], 'i', (i) => body(i)));
  }

  /** A mutable local of `t` (default: f32, or the initial value's type). */
  local(init: Operand, t?: ElementType): Local {
    const type: ScalarType = t ?? (typeof init === 'number' ? 'f32' : init.t);
    const value = typeof init === 'number' ? Value.constant(this.scope, type, init) : init;
    if (value.t !== type) this.scope.fail(`k.local(): a ${type} local initialized with a ${value.t} value`);
    return new Local(this.scope, type, this.scope.fresh('acc'), value);
  }

  /** Σ term(j) for j in 0..n-1, accumulated in a local. */
  sum(n: Dim, term: (j: Value) => Operand): Value {
    return this.reduce('sum', n, term);
  }

  /** max of term(j) for j in 0..n-1 (-Infinity when n is 0). */
  max(n: Dim, term: (j: Value) => Operand): Value {
    return this.reduce('max', n, term);
  }

  /** min of term(j) for j in 0..n-1 (Infinity when n is 0). */
  min(n: Dim, term: (j: Value) => Operand): Value {
    return this.reduce('min', n, term);
  }

  /** Runs `then` when `cond` (an i32 from a comparison) is nonzero, else `otherwise`. */
  if(cond: Value, then: () => void, otherwise?: () => void): void {
    if (cond.t !== 'i32')
      this.scope.fail(`k.if()'s condition is ${cond.t}; compare values (.lt(), .gt()...) to get one`);
    this.sequential(() => {
      if (!this.scope.tracing) {
        if (cond.num !== 0) then();
        else otherwise?.();
        return;
      }
      const a = this.scope.block(then);
      const b = otherwise ? this.scope.block(otherwise) : undefined;
      this.scope.emit(when(cond.expr!, a, b));
    });
  }

  private reduce(kind: Reduction, size: Dim, term: (j: Value) => Operand): Value {
    const n = this.extent(`k.${kind}()`, size);
    const asValue = (x: Operand) => (typeof x === 'number' ? this.f32(x) : x);
    return this.sequential(() => {
      if (!this.scope.tracing) {
        let acc: Value | undefined;
        for (let j = 0; j < (n as number); j++) {
          const x = asValue(term(new Value(this.scope, 'i32', undefined, j, [j, j])));
          acc = acc ? (kind === 'sum' ? acc.add(x) : kind === 'max' ? acc.max(x) : acc.min(x)) : x;
        }
        return acc ?? this.f32(REDUCE_INIT[kind]);
      }
      const name = this.scope.fresh('acc');
      const j = this.scope.fresh('r');
      let t = 'f32' as ScalarType;
      const body = this.scope.block(() => {
        const x = asValue(term(new Value(this.scope, 'i32', v(j), undefined, [0, lastIndex(n)])));
        t = x.t;
        this.scope.emit(set(name, REDUCE_EXPR[kind](v(name, t), x.expr!)));
      });
      if (t === 'i32' && kind !== 'sum')
        this.scope.fail(`k.${kind}() of i32 values needs a starting value; use k.local()`);
      this.scope.emit(localStmt(name, t, Value.constant(this.scope, t, REDUCE_INIT[kind]).expr!));
      this.scope.emit(loopStmt(j, extentOf(n), body));
      return new Value(this.scope, t, v(name, t), undefined);
    });
  }

  /** Loops over `extents` (outermost first), calling `body` with the index values. */
  private nest(extents: sym.SymLike[], prefix: string, body: (...idx: Value[]) => void): void {
    if (!this.scope.tracing) {
      const idx: Value[] = [];
      const run = (d: number): void => {
        if (d === extents.length) return body(...idx);
        for (let i = 0; i < (extents[d] as number); i++) {
          idx[d] = new Value(this.scope, 'i32', undefined, i, [i, i]);
          run(d + 1);
        }
      };
      return run(0);
    }
    const names = extents.map(() => this.scope.fresh(prefix));
    let stmts = this.scope.block(() =>
      body(
        ...names.map(
          (name, d) => new Value(this.scope, 'i32', v(name), undefined, [0, lastIndex(extents[d])]),
        ),
      ),
    );
    for (let d = extents.length - 1; d >= 0; d--) stmts = [loopStmt(names[d], extentOf(extents[d]), stmts)];
    stmts.forEach((s) => this.scope.emit(s));
  }

  private sequential<T>(build: () => T): T {
    this.scope.sequentialDepth++;
    try {
      return build();
    } finally {
      this.scope.sequentialDepth--;
    }
  }

  /**
   * A loop's trip count as a shape expression: a whole number, or a size known only at run time (a dim,
   * or arithmetic on dims: `x.size.div(cols)`).
   */
  private extent(what: string, n: Dim): sym.SymLike {
    if (typeof n === 'number') {
      if (!Number.isInteger(n) || n < 0)
        this.scope.fail(`${what}: the extent ${n} is not a whole number ≥ 0`);
      return n;
    }
    const e = n instanceof Value && n.t === 'i32' ? n.exact : undefined;
    if (e === undefined || this.scope.bounds(e).min < 0)
      this.scope.fail(
        `${what}: the extent is a value computed in the kernel; loop extents are whole numbers or sizes (dims of the tensors, and arithmetic on them)`,
      );
    return e;
  }
}

/** The last index of a loop over `n`. */
const lastIndex = (n: sym.SymLike): sym.SymLike => canonical(sym.sub(n, 1));

/** A loop extent in Kernel IR: a number, or a shape expression reading the dims block. */
