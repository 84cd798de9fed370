/** Renders one Kernel IR kernel as a WAT function. */
import {
  EPILOGUE_INPUT,
  type BufRef,
  type Expr,
  type Extent,
  type Kernel,
  type Scalar,
  type Stmt,
} from '../../kernels/ir.js';
import { extentRange } from '../../kernels/extent.js';
import { binCode, castCode, cmpCode, unCode, type Code, type UnCode } from './ops.js';
import { constText, storageOf, WASM_TYPE } from './types.js';
import { renderGemm } from './gemm.js';
import {
  elementKey,
  exprKey,
  loadsIn,
  renderVector,
  repeatedIn,
  vectorizableReduction,
  vectorizableStores,
  storeGroups,
  type StoreGroup,
  vectorizableStoresAndReduction,
  type Reduction,
} from './vectorize.js';
import { vectorLanes, type Lanes } from './lanes.js';
import { chunkCount, freeNames, MIN_SPLIT, workOf } from './chunks.js';
import type { Address, Bound, KernelEmitter, ProgramContext } from './emitter.js';

const boundText = (b: Bound) => (typeof b === 'number' ? `(i32.const ${b})` : `(local.get ${b})`);

/** A loop split off its kernel (chunks.ts): a function taking (lo, hi) and the locals it reads. */
interface Outlined {
  id: string;
  params: string[];
  body: string;
}

/** The WAT statement renderer of one kernel (gemm.ts and gemm-simd.ts see it as a KernelEmitter). */
class WatEmitter implements KernelEmitter {
  /** every wasm local of the kernel; each of its functions declares them all (the optimizer drops unused ones) */
  private readonly locals: { id: string; type: string }[] = [];
  private readonly outlined: Outlined[] = [];
  /** the kernel function's id, set by render() */
  private id = '';
  /** rendering the body of an outlined function, where nothing is split off again */
  private outlining = false;
  private readonly names = new Map<string, { id: string; t: Scalar }>();
  /** IR names bound by loops: counters that only count up from 0 */
  private readonly loopVars = new Set<string>();
  /**
   * The local each shape symbol is read into, once at the start of every function that uses it: the dims
   * block does not change while a kernel runs, and V8 does not hoist the load out of loops itself.
   */
  private readonly dimLocals = new Map<string, { id: string; at: number }>();
  private labels = 0;

  constructor(
    readonly kernel: Kernel,
    readonly program: ProgramContext,
  ) {}

  /** A fresh wasm local of type t (for loop counters and temporaries). */
  temp(t: Scalar | 'v128', hint = 't'): string {
    const id = `$${this.locals.length}_${hint.replace(/[^A-Za-z0-9_]/g, '_')}`;
    this.locals.push({ id, type: t === 'v128' ? 'v128' : WASM_TYPE[t] });
    return id;
  }

  label(hint: string): string {
    return `$${hint}${this.labels++}`;
  }

  /** Whether an i32 index expression is provably ≥ 0: loop counters and sums/products of them. */
  private nonNegative(e: Expr): boolean {
    switch (e.k) {
      case 'const':
        return Number(e.v) >= 0;
      case 'var':
        return this.loopVars.has(e.name);
      case 'dim':
        return true; // the verifier holds shape symbols' bounds to 0 ≤ min
      case 'bin':
        return (
          ['add', 'mul', 'div', 'rem', 'shl', 'min', 'max'].includes(e.op) &&
          this.nonNegative(e.a) &&
          this.nonNegative(e.b)
        );
      default:
        return false;
    }
  }

  /** Bind an IR variable name to a fresh wasm local. */
  bind(name: string, t: Scalar): string {
    const id = this.temp(t, name);
    this.names.set(name, { id, t });
    return id;
  }

  private lookup(name: string, t: Scalar): string {
    const found = this.names.get(name);
    if (!found) throw new Error(`variable '${name}' is used before it is declared`);
    if (found.t !== t) throw new Error(`variable '${name}' is ${found.t} but used as ${t}`);
    return found.id;
  }

  /** Byte address of a scratch area of `bytes` bytes, valid until this kernel returns. */
  scratch(bytes: number): number {
    this.program.scratch.bytes = Math.max(this.program.scratch.bytes, bytes);
    return this.program.scratch.base;
  }

  useHelper(name: string): void {
    this.program.helpers.add(name);
  }

  private apply(code: Code | UnCode, args: string[]): string {
    if ('wrap' in code) return code.wrap(args[0]);
    if ('instr' in code) return `(${code.instr} ${args.join(' ')})`;
    this.useHelper(code.helper);
    return `(call $${code.helper} ${args.join(' ')})`;
  }

  /** Byte address of element `index` of `buf`, with constant parts folded into the `offset=` immediate. */
  address(buf: BufRef, index: Expr, what: string): Address {
    const base = this.program.offsets.get(buf.id);
    if (base === undefined)
      throw new Error(`${what} buffer #${buf.id} (${buf.dtype}) is not placed in the program`);
    const { bytes } = storageOf(buf.dtype, `${what} buffer #${buf.id}`);
    if (index.t !== 'i32') throw new Error(`${what} buffer #${buf.id}: index must be i32, found ${index.t}`);
    let constant = 0;
    const terms: Expr[] = [];
    const split = (e: Expr): void => {
      if (e.k === 'bin' && e.op === 'add') {
        split(e.a);
        split(e.b);
      } else if (e.k === 'const') constant += Number(e.v);
      else terms.push(e);
    };
    split(index);
    let offset = base + constant * bytes;
    if (constant < 0 || !terms.every((t) => this.nonNegative(t))) {
      // wasm adds the immediate to the dynamic address without wrapping, so a constant moved there is
      // only right when the dynamic part cannot be negative (e.g. `n - 1 - i` in a reversed Slice)
      if (constant !== 0) terms.push({ k: 'const', t: 'i32', v: constant });
      offset = base;
    }
    if (terms.length === 0) return { addr: '(i32.const 0)', offset };
    let elems = this.expr(terms[0]);
    for (const term of terms.slice(1)) elems = `(i32.add ${elems} ${this.expr(term)})`;
    const shift = Math.log2(bytes);
    return { addr: shift === 0 ? elems : `(i32.shl ${elems} (i32.const ${shift}))`, offset };
  }

  mapped(value: Expr, input: string, lanes: Lanes): string {
    const type = lanes.width === 4 ? 'v128' : 'f32';
    const local = this.temp(type, EPILOGUE_INPUT);
    const outer = this.names.get(EPILOGUE_INPUT);
    // bound as f32 for the scalar renderer; renderVector reads the variable as the v128 it is
    this.names.set(EPILOGUE_INPUT, { id: local, t: 'f32' });
    const text =
      lanes.width === 1
        ? this.expr(value)
        : renderVector(
            value,
            EPILOGUE_INPUT,
            (x) => this.expr(x),
            () => {
              throw new Error('internal: a gemm epilogue reads memory');
            },
            lanes,
            undefined,
            (name) => this.useHelper(name),
          );
    if (outer) this.names.set(EPILOGUE_INPUT, outer);
    else this.names.delete(EPILOGUE_INPUT);
    return `(block (result ${type}) (local.set ${local} ${input}) ${text})`;
  }

  expr(e: Expr): string {
    switch (e.k) {
      case 'const':
        return constText(e.t, e.v);
      case 'var':
        return `(local.get ${this.lookup(e.name, e.t)})`;
      case 'dim': {
        let local = this.dimLocals.get(e.name);
        if (!local) {
          const at = this.program.dims.get(e.name);
          if (at === undefined)
            throw new Error(`shape symbol '${e.name}' is not in the program's dims block`);
          local = { id: this.temp('i32', `dim_${e.name}`), at };
          this.dimLocals.set(e.name, local);
        }
        return `(local.get ${local.id})`;
      }
      case 'load': {
        const st = storageOf(e.buf.dtype, 'load from');
        const { addr, offset } = this.address(e.buf, e.index, 'load from');
        const raw = `(${st.load} offset=${offset} ${addr})`;
        if (!st.decode) return raw;
        this.useHelper(st.decode);
        return `(call $${st.decode} ${raw})`;
      }
      case 'bin':
        return this.apply(binCode(e.op, e.t, e.b), [this.expr(e.a), this.expr(e.b)]);
      case 'cmp':
        return this.apply(cmpCode(e.op, e.a.t), [this.expr(e.a), this.expr(e.b)]);
      case 'un':
        return this.apply(unCode(e.op, e.a.t), [this.expr(e.a)]);
      case 'cast':
        return this.apply(castCode(e.a.t, e.t, e.unsigned ?? false), [this.expr(e.a)]);
      case 'select':
        return `(select ${this.expr(e.a)} ${this.expr(e.b)} ${this.expr(e.cond)})`;
    }
  }

  store(buf: BufRef, index: Expr, valueText: string): string {
    const st = storageOf(buf.dtype, 'store to');
    const { addr, offset } = this.address(buf, index, 'store to');
    let value = valueText;
    if (st.encode) {
      this.useHelper(st.encode);
      value = `(call $${st.encode} ${value})`;
    }
    return `(${st.store} offset=${offset} ${addr} ${value})`;
  }

  /** `for (v = 0; v < n; v++) body` as a bottom-tested wasm loop (n > 0 is known statically). */
  countedLoop(counter: string, n: number, body: string): string {
    return this.rangeLoop(counter, 0, n, 1, body);
  }

  /**
   * `for (v = start; v < end; v += step) body`: bottom-tested when both bounds are static, else behind a
   * test that the loop runs at all.
   */
  rangeLoop(counter: string, start: Bound, end: Bound, step: number, body: string): string {
    if (typeof start !== 'number' || typeof end !== 'number') {
      const l = this.label('L');
      return `(local.set ${counter} ${boundText(start)})
(if (i32.lt_s (local.get ${counter}) ${boundText(end)}) (then
(loop ${l}
${body}
(br_if ${l} (i32.lt_s (local.tee ${counter} (i32.add (local.get ${counter}) (i32.const ${step}))) ${boundText(end)})))))`;
    }
    if (start >= end) return '';
    const init = `(local.set ${counter} (i32.const ${start}))`;
    if (start + step >= end) return `${init}\n${body}`;
    const l = this.label('L');
    return `${init}
(loop ${l}
${body}
(br_if ${l} (i32.lt_s (local.tee ${counter} (i32.add (local.get ${counter}) (i32.const ${step}))) (i32.const ${end}))))`;
  }

  /** `for (counter = lo; counter < hi; counter++) body` over the locals lo and hi, with lo < hi known. */
  dynamicLoop(counter: string, lo: string, hi: string, body: string): string {
    const l = this.label('L');
    return `(local.set ${counter} (local.get ${lo}))
(loop ${l}
${body}
(br_if ${l} (i32.lt_s (local.tee ${counter} (i32.add (local.get ${counter}) (i32.const 1))) (local.get ${hi}))))`;
  }

  /** How many chunks a loop of n iterations doing `work` (chunks.ts) should be split into here; < 2: none. */
  chunksFor(n: number, work: number): number {
    return this.outlining || !this.program.chunks ? 0 : chunkCount(n, work);
  }

  /**
   * A loop over [0, n) split into `chunks` calls of a new function of this kernel, `render(lo, hi)` being
   * its body over iterations [lo, hi) (lo, hi: its first two parameters, i32 locals) and `liveIns` the
   * locals it reads from the caller, passed on as its further parameters. Returns the calls. With a
   * run-time n the chunks' bounds are computed at run time, and a chunk may be empty.
   */
  splitLoop(
    hint: string,
    n: Bound,
    chunks: number,
    liveIns: string[],
    render: (lo: string, hi: string) => string,
  ): string {
    const lo = this.temp('i32', 'lo');
    const hi = this.temp('i32', 'hi');
    this.outlining = true;
    let body: string;
    try {
      body = render(lo, hi);
    } finally {
      this.outlining = false;
    }
    const id = `${this.id}.${hint}${this.outlined.length}`;
    this.outlined.push({ id, params: [lo, hi, ...liveIns], body });
    const args = liveIns.map((l) => ` (local.get ${l})`).join('');
    if (typeof n === 'number') {
      const bound = (c: number) => Math.floor((c * n) / chunks);
      return Array.from(
        { length: chunks },
        (_, c) => `(call ${id} (i32.const ${bound(c)}) (i32.const ${bound(c + 1)})${args})`,
      ).join('\n');
    }
    // chunk c starts at c·q + min(c, r), n = chunks·q + r: no product that could overflow
    const [q, r] = [this.temp('i32', 'q'), this.temp('i32', 'r')];
    const bound = (c: number) =>
      c === 0
        ? '(i32.const 0)'
        : `(i32.add (i32.mul (local.get ${q}) (i32.const ${c})) (select (i32.const ${c}) (local.get ${r}) (i32.lt_u (i32.const ${c}) (local.get ${r}))))`;
    return [
      `(local.set ${q} (i32.div_u (local.get ${n}) (i32.const ${chunks})))`,
      `(local.set ${r} (i32.rem_u (local.get ${n}) (i32.const ${chunks})))`,
      ...Array.from({ length: chunks }, (_, c) => `(call ${id} ${bound(c)} ${bound(c + 1)}${args})`),
    ].join('\n');
  }

  /**
   * A loop of the IR split into chunks when it is large enough and self-contained, else undefined. A
   * run-time extent (n a local) is split as its upper bound would be, the chunks' bounds computed at run
   * time.
   */
  private splitIrLoop(s: Extract<Stmt, { k: 'loop' }>, n: Bound): string | undefined {
    if (this.outlining || !this.program.chunks) return undefined;
    const want = chunkCount(Infinity, workOf([s], this.upperBound));
    const stores = vectorizableStores(s, this.region);
    // a vectorized loop splits in groups of four iterations, leaving the scalar tail in the kernel
    const most = typeof n === 'number' ? n : this.upperBound(s.n);
    const units = stores ? Math.floor(most / 4) : most;
    const chunks = Math.min(want, units);
    // too few iterations to give the chunks wanted (e.g. the batch loop): leave it to the loops inside
    if (want < 2 || chunks < Math.min(want, MIN_SPLIT)) return undefined;
    const { free, setsOuter } = freeNames(s);
    if (setsOuter) return undefined;
    const liveIns = free.map((name) => {
      const found = this.names.get(name);
      if (!found) throw new Error(`variable '${name}' is used before it is declared`);
      return found.id;
    });
    // the vectorized loop's groups of four: a run-time count is the whole fours of n
    const fours = typeof n === 'number' ? undefined : this.wholeFours(n);
    let count: Bound = units;
    if (typeof n !== 'number') count = stores ? this.temp('i32', 'groups') : n;
    const overRange = (counter: string, lo: string, hi: string, body: string) =>
      typeof n === 'number'
        ? this.dynamicLoop(counter, lo, hi, body)
        : this.rangeLoop(counter, lo, hi, 1, body);
    const calls = this.splitLoop('loop', count, chunks, liveIns, (lo, hi) => {
      const counter = this.bind(s.v, 'i32');
      this.loopVars.add(s.v);
      if (!stores) return overRange(counter, lo, hi, this.stmts(s.body));
      const group = this.temp('i32', 'g4');
      const first = `(local.set ${counter} (i32.shl (local.get ${group}) (i32.const 2)))`;
      const { pre, body } = this.vectorBody(s, stores);
      return `${pre}\n${overRange(group, lo, hi, `${first}\n${body}`)}`;
    });
    if (!stores) return calls;
    const counter = this.bind(s.v, 'i32');
    if (!fours) return [calls, this.rangeLoop(counter, units * 4, n, 1, this.stmts(s.body))].join('\n');
    return [
      fours.pre,
      `(local.set ${count} (i32.shr_u (local.get ${n}) (i32.const 2)))`,
      calls,
      this.rangeLoop(counter, fours.main, n, 1, this.stmts(s.body)),
    ].join('\n');
  }

  /** The most iterations a loop extent can ask for, over the shape symbols' bounds. */
  private upperBound = (n: Extent): number => extentRange(n, this.program.ranges).max;

  /**
   * A loop's extent as a Bound, and the code that must run first: a run-time extent is evaluated once
   * into a local, negative values counting as 0.
   */
  private extent(n: Extent): { pre: string; bound: Bound } {
    if (typeof n === 'number') return { pre: '', bound: n };
    const local = this.temp('i32', 'n');
    this.useHelper('max_s_i32');
    return { pre: `(local.set ${local} (call $max_s_i32 ${this.expr(n)} (i32.const 0)))`, bound: local };
  }

  /**
   * The start of the last, partial group of four (or `size`, a power of two) of a loop of `n` iterations
   * (a local when n is one).
   */
  private wholeFours(n: Bound, size = 4): { pre: string; main: Bound } {
    if (typeof n === 'number') return { pre: '', main: n - (n % size) };
    const main = this.temp('i32', 'main');
    return { pre: `(local.set ${main} (i32.and (local.get ${n}) (i32.const -${size})))`, main };
  }

  /** Bytes [start, end) of a placed buffer, for alias checks. */
  private region = (buf: BufRef): [number, number] | undefined => {
    const base = this.program.offsets.get(buf.id);
    if (base === undefined || buf.dtype === 'string') return undefined;
    return [base, base + buf.length * storageOf(buf.dtype, 'buffer').bytes];
  };

  /**
   * Renders `roots`, f32x4 expressions of loop `s` (see renderVector), in their order; `pre()` is what must
   * run once before the loop: the loop-invariant f32 operands met so far, splatted into v128 locals. An
   * operation repeated among the roots is computed once per iteration into a v128 local (local.tee where
   * it is first rendered, which is where it is first evaluated), then read from it. A load of an element
   * in `stored` (elementKey → v128 local) reads the vector this iteration stored there from that local.
   */
  private vectorRenderer(
    s: Extract<Stmt, { k: 'loop' }>,
    roots: Expr[],
    stored: ReadonlyMap<string, string> = new Map(),
  ): {
    render: (e: Expr) => string;
    pre: () => string;
  } {
    const vload = (buf: BufRef, index: Expr, stride: number) => {
      const forwarded = stored.get(elementKey(buf, index));
      if (forwarded) return `(local.get ${forwarded})`;
      const { addr, offset } = this.address(buf, index, 'load from');
      if (stride === 1) return `(v128.load offset=${offset} ${addr})`;
      // elements 0, s, 2s, 3s (s = 2 or 3) from [0..3] and [3s − 3..3s]: lanes 0, s of the first load,
      // 3 − s, 3 of the second (reading nothing past element 3s, the last one the four lanes need); one
      // shufps on x86
      const lanes = [0, stride, 4 + 3 - stride, 4 + 3].flatMap((lane) =>
        [0, 1, 2, 3].map((b) => 4 * lane + b),
      );
      return `(i8x16.shuffle ${lanes.join(' ')} (v128.load offset=${offset} ${addr}) (v128.load offset=${offset + 4 * (3 * stride - 3)} ${addr}))`;
    };
    const hoisted = new Map<string, string>();
    const splats: string[] = [];
    const invariant = (e: Expr) => {
      const key = exprKey(e);
      let id = hoisted.get(key);
      if (!id) {
        id = this.temp('v128', 'splat');
        hoisted.set(key, id);
        splats.push(`(local.set ${id} (f32x4.splat ${this.expr(e)}))`);
      }
      return `(local.get ${id})`;
    };
    const repeated = repeatedIn(roots, s.v);
    const computed = new Map<string, string>();
    const shared = (e: Expr, render: () => string) => {
      const key = exprKey(e);
      if (!repeated.has(key)) return render();
      const id = computed.get(key);
      if (id) return `(local.get ${id})`;
      const local = this.temp('v128', 'cse');
      const text = render();
      computed.set(key, local);
      return `(local.tee ${local} ${text})`;
    };
    const render = (e: Expr) =>
      renderVector(
        e,
        s.v,
        (x) => this.expr(x),
        vload,
        vectorLanes(this.program.relaxedSimd),
        invariant,
        (name) => this.useHelper(name),
        shared,
        () => this.temp('v128', 'leaf'),
      );
    return { render, pre: () => splats.join('\n') };
  }

  /**
   * The f32x4 body of a vectorized loop (four iterations from the loop's counter on), and `pre`, what must run
   * once before the loop: loop-invariant f32 operands splatted into v128 locals.
   */
  private vectorBody(
    s: Extract<Stmt, { k: 'loop' }>,
    stores: Extract<Stmt, { k: 'store' }>[],
  ): { pre: string; body: string } {
    const { render, pre } = this.vectorRenderer(
      s,
      stores.map((st) => st.value),
    );
    const body = storeGroups(stores, s.v)!
      .map((g) => {
        const { addr, offset } = this.address(g.stores[0].buf, g.stores[0].index, 'store to');
        if (g.stride === 1) return `(v128.store offset=${offset} ${addr} ${render(g.stores[0].value)})`;
        return this.interleavedStore(g, addr, offset, render);
      })
      .join('\n');
    return { pre: pre(), body };
  }

  /**
   * A group of `stride` interleaved stores (vectorize.ts, StoreGroup) for four iterations: the vectors of
   * its values (each distinct one computed once), interleaved by shuffles into stride consecutive vectors
   * from the first store's element on: a ×2 upsampling's [a0 b0 a1 b1] [a2 b2 a3 b3], a ×4's 4×4 transpose.
   */
  private interleavedStore(g: StoreGroup, addr: string, offset: number, render: (e: Expr) => string): string {
    const computed = new Map<string, string>();
    const sets: string[] = [];
    const vectors = g.stores.map((st) => {
      const key = exprKey(st.value);
      let id = computed.get(key);
      if (!id) {
        id = this.temp('v128', 'lanes');
        computed.set(key, id);
        sets.push(`(local.set ${id} ${render(st.value)})`);
      }
      return `(local.get ${id})`;
    });
    // lanes [0 1] of a and b interleaved (low), or [2 3] (high); i8x16.shuffle takes byte indices
    const bytes = (lanes: number[]) => lanes.flatMap((l) => [0, 1, 2, 3].map((b) => 4 * l + b)).join(' ');
    const zip = (a: string, b: string, high: boolean) =>
      `(i8x16.shuffle ${bytes(high ? [2, 6, 3, 7] : [0, 4, 1, 5])} ${a} ${b})`;
    // 64-bit halves: [a0 a1 b0 b1] (low) or [a2 a3 b2 b3] (high) of a and b
    const halves = (a: string, b: string, high: boolean) =>
      `(i8x16.shuffle ${bytes(high ? [2, 3, 6, 7] : [0, 1, 4, 5])} ${a} ${b})`;
    let out: string[];
    // one value (a nearest upsampling's): vector j holds lanes ⌊(4j + t) / stride⌋, t = 0..3, of it
    if (computed.size === 1) {
      const of = (j: number) => [0, 1, 2, 3].map((t) => Math.floor((4 * j + t) / g.stride));
      out = Array.from(
        { length: g.stride },
        (_, j) => `(i8x16.shuffle ${bytes(of(j))} ${vectors[0]} ${vectors[0]})`,
      );
    } else if (g.stride === 2) out = [zip(vectors[0], vectors[1], false), zip(vectors[0], vectors[1], true)];
    else {
      const pairs = [0, 2].flatMap((i) => [false, true].map((high) => zip(vectors[i], vectors[i + 1], high)));
      const [ab01, ab23, cd01, cd23] = pairs.map((p) => {
        const id = this.temp('v128', 'zip');
        sets.push(`(local.set ${id} ${p})`);
        return `(local.get ${id})`;
      });
      out = [
        halves(ab01, cd01, false),
        halves(ab01, cd01, true),
        halves(ab23, cd23, false),
        halves(ab23, cd23, true),
      ];
    }
    const at = this.temp('i32', 'at');
    return [
      ...sets,
      `(local.set ${at} ${addr})`,
      ...out.map((v, j) => `(v128.store offset=${offset + 16 * j} (local.get ${at}) ${v})`),
    ].join('\n');
  }

  /**
   * A reduction loop (vectorizableReduction) as four partial accumulators in a v128 (a sum four v128s, a
   * max or min two: chainedLoops), combined into the scalar accumulator after the main loop; the scalar loop does
   * the rest. With `stores` (vectorizableStoresAndReduction) each group of four stores them first, and the
   * term reads what it stored from the vector just computed. A sum is thereby added in another
   * order than the scalar loop's (partial sums per lane, then pairwise): it differs in the last bits, well
   * within the tolerances models are held to against onnxruntime (which reorders its sums too). max/min
   * are exact, and propagate NaN as the scalar f32.max/f32.min do; pmax passes over NaN terms as the
   * scalar select does, and only the sign of a zero maximum may differ.
   */
  private reductionLoop(
    s: Extract<Stmt, { k: 'loop' }>,
    red: Reduction,
    n: Bound,
    stores: Extract<Stmt, { k: 'store' }>[] = [],
  ): string {
    const counter = this.bind(s.v, 'i32');
    this.loopVars.add(s.v);
    const acc = this.lookup(red.name, 'f32');
    const vacc = this.temp('v128', 'acc');
    // the stored vectors the term reads (vectorizableStoresAndReduction) are kept in locals, not reloaded
    const read = new Set(loadsIn(red.term).map((l) => elementKey(l.buf, l.index)));
    const stored = new Map<string, string>();
    const { render, pre } = this.vectorRenderer(s, [...stores.map((st) => st.value), red.term], stored);
    const writes = stores.map((st) => {
      const { addr, offset } = this.address(st.buf, st.index, 'store to');
      const key = elementKey(st.buf, st.index);
      const value = render(st.value);
      if (!read.has(key)) return `(v128.store offset=${offset} ${addr} ${value})\n`;
      const local = this.temp('v128', 'stored');
      stored.set(key, local);
      return `(v128.store offset=${offset} ${addr} (local.tee ${local} ${value}))\n`;
    });
    const term = render(red.term);
    // identities: -0 for a sum (-0 + -0 stays -0), ∓inf for max/min
    const id = red.op === 'add' ? '-0' : red.op === 'min' ? 'inf' : '-inf';
    const lane = (i: number) => `(f32x4.extract_lane ${i} (local.get ${vacc}))`;
    // pmax's partial maxima hold no NaN (a NaN term never replaces the accumulator): f32.max combines them
    const op = (a: string, b: string) => `(f32.${red.op === 'pmax' ? 'max' : red.op} ${a} ${b})`;
    const { pre: split, main } = this.wholeFours(n);
    const step = (v: string) => `(local.set ${v} (f32x4.${red.op} (local.get ${v}) ${term}))`;
    const vectorLoops = stores.length
      ? [this.rangeLoop(counter, 0, main, 4, `${writes.join('')}${step(vacc)}`)]
      : this.chainedLoops(counter, n, main, vacc, red.op, red.op === 'add' ? 4 : 2, step);
    return [
      split,
      pre(),
      `(local.set ${vacc} (v128.const f32x4 ${id} ${id} ${id} ${id}))`,
      ...vectorLoops,
      `(local.set ${acc} ${op(`(local.get ${acc})`, op(op(lane(0), lane(1)), op(lane(2), lane(3))))})`,
      this.rangeLoop(counter, main, n, 1, this.stmts(s.body)),
    ].join('\n');
  }

  /**
   * The f32x4 loops of a reduction over [0, main) (whole fours), leaving the result in `vacc`: groups of
   * 4·chains into `chains` accumulators (`step` renders one group of four into the accumulator it is given,
   * at the counter), so that independent chains run side by side, then the last groups of four. A sum's
   * f32x4.add waits on the previous one (four cycles on x86-64): one chain held LayerNorm's and
   * ReduceMean's row loops at a quarter of the loads they can issue; max and min take several
   * instructions each (for NaN and −0), and are exact in any order.
   */
  private chainedLoops(
    counter: string,
    n: Bound,
    main: Bound,
    vacc: string,
    op: Reduction['op'],
    chains: number,
    step: (acc: string) => string,
  ): string[] {
    const others = Array.from({ length: chains - 1 }, () => this.temp('v128', 'acc'));
    const { pre: split, main: groups } = this.wholeFours(n, 4 * chains);
    const id = op === 'add' ? '-0' : op === 'min' ? 'inf' : '-inf';
    const next = `(local.set ${counter} (i32.add (local.get ${counter}) (i32.const 4)))`;
    // combined pairwise: ((a, b), (c, d)) for four chains
    const combined = (accs: string[]): string =>
      accs.length === 1
        ? `(local.get ${accs[0]})`
        : `(f32x4.${op} ${combined(accs.slice(0, accs.length >> 1))} ${combined(accs.slice(accs.length >> 1))})`;
    return [
      split,
      ...others.map((o) => `(local.set ${o} (v128.const f32x4 ${id} ${id} ${id} ${id}))`),
      this.rangeLoop(counter, 0, groups, 4, [vacc, ...others].map(step).join(`\n${next}\n`)),
      this.rangeLoop(counter, groups, main, 4, step(vacc)),
      `(local.set ${vacc} ${combined([vacc, ...others])})`,
    ];
  }

  /**
   * An f32x4 main loop over whole groups of four, then the scalar loop for the rest. Loop-invariant f32
   * operands are splatted into v128 locals once, before the main loop.
   */
  private vectorLoop(
    s: Extract<Stmt, { k: 'loop' }>,
    stores: Extract<Stmt, { k: 'store' }>[],
    n: Bound,
  ): string {
    const counter = this.bind(s.v, 'i32');
    this.loopVars.add(s.v);
    const { pre: split, main } = this.wholeFours(n);
    const { pre, body } = this.vectorBody(s, stores);
    return [
      split,
      pre,
      this.rangeLoop(counter, 0, main, 4, body),
      this.rangeLoop(counter, main, n, 1, this.stmts(s.body)),
    ].join('\n');
  }

  stmts(list: Stmt[]): string {
    return list.map((s) => this.stmt(s)).join('\n');
  }

  stmt(s: Stmt): string {
    switch (s.k) {
      case 'loop': {
        if (typeof s.n === 'number' && s.n <= 0) return '';
        const { pre, bound } = this.extent(s.n);
        const loop = (): string => {
          const split = this.splitIrLoop(s, bound);
          if (split !== undefined) return split;
          const stores = vectorizableStores(s, this.region);
          if (stores) return this.vectorLoop(s, stores, bound);
          const reduction = vectorizableReduction(s);
          if (reduction) return this.reductionLoop(s, reduction, bound);
          const fused = vectorizableStoresAndReduction(s, this.region);
          if (fused) return this.reductionLoop(s, fused.reduction, bound, fused.stores);
          const counter = this.bind(s.v, 'i32');
          this.loopVars.add(s.v);
          return this.rangeLoop(counter, 0, bound, 1, this.stmts(s.body));
        };
        return pre ? `${pre}\n${loop()}` : loop();
      }
      case 'local': {
        const value = this.expr(s.init);
        if (s.init.t !== s.t)
          throw new Error(`local '${s.name}' is ${s.t} but its initial value is ${s.init.t}`);
        return `(local.set ${this.bind(s.name, s.t)} ${value})`;
      }
      case 'set':
        return `(local.set ${this.lookup(s.name, s.value.t)} ${this.expr(s.value)})`;
      case 'store':
        return this.store(s.buf, s.index, this.expr(s.value));
      case 'if': {
        const otherwise = s.else && s.else.length ? ` (else ${this.stmts(s.else)})` : '';
        return `(if ${this.expr(s.cond)} (then ${this.stmts(s.then)})${otherwise})`;
      }
      case 'gemm':
        return renderGemm(s, this);
    }
  }

  /** The whole kernel as `(func $id ...)`. */
  render(id: string): string {
    this.id = id;
    const body = this.stmts(this.kernel.body);
    const type = new Map(this.locals.map((l) => [l.id, l.type]));
    // each function declares the kernel's locals its text uses (local ids are `$<number>_<hint>`)
    const func = (fid: string, params: string[], text: string): string => {
      const used = new Set(text.match(/\$\d+_[A-Za-z0-9_]*/g));
      const decl = [
        ...params.map((p) => `(param ${p} ${type.get(p)})`),
        ...this.locals
          .filter((l) => used.has(l.id) && !params.includes(l.id))
          .map((l) => `(local ${l.id} ${l.type})`),
      ];
      const dims = [...this.dimLocals.values()]
        .filter((d) => used.has(d.id))
        .map((d) => `(local.set ${d.id} (i32.load offset=${d.at} (i32.const 0)))\n`);
      return `(func ${fid}\n${decl.join(' ')}\n${dims.join('')}${text})`;
    };
    return [func(id, [], body), ...this.outlined.map((o) => func(o.id, o.params, o.body))].join('\n');
  }
}

export function renderKernel(kernel: Kernel, id: string, program: ProgramContext): string {
  try {
    return new WatEmitter(kernel, program).render(id);
  } catch (err) {
    throw new Error(`wasm codegen: kernel '${kernel.name}': ${(err as Error).message}`, { cause: err });
  }
}
