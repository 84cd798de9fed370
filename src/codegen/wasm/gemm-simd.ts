/**
 * Register-tiled SIMD f32 GEMM, two forms.
 * Broadcast form (unit column strides in B and C): rows×cols micro-tiles per lane table (BROADCAST_TILES),
 * k innermost, A[m,k] broadcast, B row segments with v128.load. N tails use narrower and scalar tiles (a
 * single packed tail column the dot form, see packedPanels), the M tail one tile of the remaining rows.
 * Accumulation order per element is k = 0..K-1, as in the scalar fallback, so both give identical results
 * (except with relaxed fused multiply-add).
 * Dot form (B transposed: unit row stride in B, unit column stride in A): 2×4 tiles of dot products (4×1 for a
 * matrix-vector product). A is broadcast with
 * v128.load32_splat, one instruction (vbroadcastss) instead of a load plus a shuffle: about 3× faster here.
 */
import type { GemmStmt, MatView } from '../../kernels/ir.js';
import type { KernelEmitter } from './emitter.js';
import { clampActivation, SCALAR_LANES, vectorLanes, type Lanes } from './lanes.js';
import { B_PANEL } from '../../kernels/b-panels.js';
import { startTouches, touchLines, touchLinesPerBlock, type TouchLocals } from './panel-touch.js';

/** `(op offset=k ptr)` when k is a valid immediate, else the byte offset added dynamically. */
function mem(op: string, ptr: string, bytes: number, ...rest: string[]): string {
  const tail = rest.length ? ' ' + rest.join(' ') : '';
  if (bytes >= 0) return `(${op} offset=${bytes} (local.get ${ptr})${tail})`;
  return `(${op} (i32.add (local.get ${ptr}) (i32.const ${bytes}))${tail})`;
}

/** `ptr += bytes`: a number, or a rendered i32 expression (a run-time row stride). */
const advance = (ptr: string, bytes: number | string): string =>
  bytes === 0
    ? ''
    : `(local.set ${ptr} (i32.add (local.get ${ptr}) ${typeof bytes === 'number' ? `(i32.const ${bytes})` : bytes}))`;

const F32 = 4;

/** Rows of a tile below its first (the most any tile has: BROADCAST_TILES, MATRIX_VECTOR_ROWS). */
const ROW_OFFSETS = 3;

/**
 * The broadcast form's micro-tile per lane table: rows × cols outputs (cols a multiple of 4) in
 * rows·cols/4 f32x4 accumulators, which with the B vectors and the A broadcast must fit in x86-64's 16
 * xmm registers. TurboFan unrolls the k loop once and, in the copy that holds the loop's stack check,
 * loads every row's A broadcast before the multiply-adds, so rows·cols/4 + cols/4 + rows registers are live
 * at once, and SIMD128 needs one more for each product before its add: 4×8 takes 14 of the 15 V8
 * allocates (15 in SIMD128), and 5×8 or 6×8 spill accumulators to the stack every iteration (relaxed,
 * 256³: 20 and 22 GFLOP/s against 53 for 4×8; Node 20, one thread, Zen 4).
 * Relaxed takes 3×12 (15 registers) for its 9 independent multiply-add chains: a core with 4-cycle FMA
 * latency on two ports needs 8 in flight just to stay busy, and 4×8's 8 leave no slack (a relaxed_madd
 * loop on an Intel Xeon, AVX-512 class, ran 56.5 GFLOP/s with 8 accumulators, 63.4 with 9; there relaxed
 * 3×12 ran 1–21 % above 4×8 on conv- and BERT-shaped gemms, CPU-clock medians of interleaved runs on a
 * loaded machine; on Zen 4 earlier, the same as 4×8 within 3 %). SIMD128 keeps 4×8: its 3×12 needs a 16th
 * register for the product and, with a bias, spilled an accumulator every k step (128×1536×384: 30
 * GFLOP/s against 37.5), and 2×12 lost 12 % where M > N.
 * What else kept relaxed gemms below ~85 % of peak was a one-column tail as slow as a whole tile (N = 49:
 * now the dot form, packedPanels) and K·N of B outgrowing the caches (256×192×K at K = 2304 gets 0.77× the
 * GFLOP/s of K = 256), which no tile shape fixes.
 */
interface Tile {
  rows: number;
  cols: number;
}

const BROADCAST_TILES: Record<'simd128' | 'relaxed', Tile> = {
  simd128: { rows: 4, cols: 8 },
  relaxed: { rows: 3, cols: 12 },
};

/**
 * Rows per dot-form block of a matrix-vector product: each B vector loaded serves this many rows. 4 rows took
 * 0.56–0.78× the time of 2 on squeeze-excite shapes (576×1×144, 144×1×576, 240×1×64); 8 spilled (1.4–1.6×).
 */
const MATRIX_VECTOR_ROWS = 4;

if (Object.values(BROADCAST_TILES).some((t) => t.cols % B_PANEL !== 0))
  throw new Error('internal: a broadcast tile is not a whole number of packed B panels');

/**
 * Whether the broadcast form runs `g` panel by panel with `tile` (packedPanels): a B packed at compile time
 * always; otherwise packing a panel costs about one tile's worth of B loads and pays off once two row
 * blocks reuse it.
 */
const panelsWith = (g: GemmStmt, { rows, cols }: Tile): boolean =>
  g.packedB === true || (g.M >= 2 * rows && g.N >= cols);

/**
 * `g`'s B in panels `cols` wide (packedPanels): the whole panels, the tail's columns and the width they are
 * packed to (one column contiguous in k for the dot form, when A's rows are), and the scratch bytes that
 * packing B at run time takes.
 */
function panelsOf(g: GemmStmt, cols: number) {
  const streamed = g.streamB === true;
  const panels = Math.floor(g.N / cols);
  const panelBytes = g.K * cols * F32;
  const rowsOuter = !streamed && g.M > g.N;
  const tail = streamed ? 0 : g.N % cols;
  const dotTail = tail === 1 && g.a.cs === 1;
  const tailWidth = dotTail ? 1 : Math.ceil(tail / 4) * 4;
  const scratchBytes =
    streamed || g.packedB ? 0 : rowsOuter ? panels * panelBytes + g.K * tailWidth * F32 : panelBytes;
  return { panels, panelBytes, rowsOuter, tail, tailWidth, scratchBytes };
}

/**
 * Scratch bytes for `g`'s panels packed at run time, in whichever module needs most: model.wasm and
 * model.relaxed.wasm must declare the same memory (the manifest's memory.totalBytes), and their tiles differ.
 */
const panelScratchBytes = (g: GemmStmt): number =>
  Math.max(
    0,
    ...Object.values(BROADCAST_TILES)
      .filter((tile) => panelsWith(g, tile))
      .map((tile) => panelsOf(g, tile.cols).scratchBytes),
  );

/**
 * Which SIMD form fits the strides, if any: C needs unit column stride either way. A matrix-vector
 * product (N = 1, e.g. a squeeze-excite 1×1 conv on a 1×1 map) whose A rows and B column are both
 * contiguous in k takes the dot form, vectorized over k: the broadcast form has only its one column to
 * vectorize over and would run scalar.
 */
export function simdGemmForm(g: GemmStmt): 'broadcast' | 'dot' | undefined {
  if (g.c.cs !== 1) return undefined;
  if (g.N === 1 && g.K >= 4 && g.a.cs === 1 && g.b.rs === 1) return 'dot';
  if (g.b.cs === 1) return 'broadcast';
  if (g.a.cs === 1 && g.b.rs === 1) return 'dot';
  return undefined;
}

export function renderSimdGemm(g: GemmStmt, e: KernelEmitter, form: 'broadcast' | 'dot'): string {
  const pointer = (view: MatView, hint: string): [string, string] => {
    const local = e.temp('i32', hint);
    const { addr, offset } = e.address(view.buf, view.offset, `gemm ${hint}`);
    return [local, `(local.set ${local} (i32.add ${addr} (i32.const ${offset})))`];
  };
  const [aBase, setA] = pointer(g.a, 'a');
  const [bBase, setB] = pointer(g.b, 'b');
  const [cBase, setC] = pointer(g.c, 'c');
  const [biasBase, setBias] = g.bias ? pointer(g.bias, 'bias') : ['', ''];
  /** the residual shares C's strides: it is read at C's address plus this local's bytes */
  const [residualDelta, setResidual] = g.residual ? pointer(g.residual, 'residual_delta') : ['', ''];
  const setResidualDelta =
    setResidual &&
    `${setResidual} (local.set ${residualDelta} (i32.sub (local.get ${residualDelta}) (local.get ${cBase})))`;
  /** B lies in panels already (packed at compile time): the panel loops read it in place */
  const prepacked = g.packedB === true;
  /**
   * Row strides known only at run time (a shape expression): evaluated once into a local of bytes, with
   * locals for rows 1..ROW_OFFSETS of a tile beside it; the split-off loops read them as live-ins.
   */
  const strideLocals: string[] = [];
  const setStrides: string[] = [];
  const runTimeStrides = new Map<MatView, string[]>();
  for (const [view, hint] of [
    [g.a, 'a'],
    [g.b, 'b'],
    [g.c, 'c'],
    [g.bias, 'bias'],
  ] as const) {
    if (!view || typeof view.rs === 'number') continue;
    const rows = Array.from({ length: ROW_OFFSETS + 1 }, (_, r) =>
      r ? e.temp('i32', `${hint}_rs${r}`) : '',
    );
    setStrides.push(
      `(local.set ${rows[1]} (i32.shl ${e.expr(view.rs)} (i32.const 2)))`,
      ...rows
        .slice(2)
        .map((l, i) => `(local.set ${l} (i32.add (local.get ${rows[i + 1]}) (local.get ${rows[1]})))`),
    );
    runTimeStrides.set(view, rows);
    strideLocals.push(...rows.slice(1));
  }
  /** bytes from a row of `view` to the row `rows` further: a number, or a rendered i32 expression */
  const rowsBytes = (view: MatView, rows: number): number | string => {
    if (typeof view.rs === 'number') return rows * view.rs * F32;
    const local = runTimeStrides.get(view)![1];
    return rows === 1 ? `(local.get ${local})` : `(i32.mul (local.get ${local}) (i32.const ${rows}))`;
  };
  const bytesExpr = (bytes: number | string) => (typeof bytes === 'number' ? `(i32.const ${bytes})` : bytes);
  /** `op` at row r of a tile whose row 0 starts at `ptr`, `bytes` into the row */
  const rowMem = (op: string, ptr: string, view: MatView, r: number, bytes: number, ...rest: string[]) => {
    const rows = runTimeStrides.get(view);
    if (!rows || r === 0)
      return mem(op, ptr, (typeof view.rs === 'number' ? r * view.rs * F32 : 0) + bytes, ...rest);
    const tail = rest.length ? ' ' + rest.join(' ') : '';
    return `(${op} offset=${bytes} (i32.add (local.get ${ptr}) (local.get ${rows[r]}))${tail})`;
  };
  const [aRow, cRow, biasRow, pa, pb, bCol, cCol, biasCol] = [
    'a_row',
    'c_row',
    'bias_row',
    'pa',
    'pb',
    'b_col',
    'c_col',
    'bias_col',
  ].map((h) => e.temp('i32', h));
  const vector = vectorLanes(e.program.relaxedSimd);
  const microTile = BROADCAST_TILES[vector.feature];
  const { rows: tileRows, cols: panel } = microTile;
  /** acc += a·b over locals */
  const madd = (acc: string, a: string, b: string): string =>
    `(local.set ${acc} ${vector.madd(`(local.get ${acc})`, `(local.get ${a})`, `(local.get ${b})`)})`;

  const epilogue = (
    lanes: Lanes,
    acc: string,
    bias: string | undefined,
    residual: string | undefined,
  ): string => {
    let v = g.alpha === 1 ? acc : `(${lanes.mul} ${acc} ${lanes.splat(g.alpha)})`;
    if (bias)
      v = `(${lanes.add} ${v} ${g.beta === 1 ? bias : `(${lanes.mul} ${bias} ${lanes.splat(g.beta)})`})`;
    if (residual) v = `(${lanes.add} ${v} ${residual})`;
    v = clampActivation(g.act, v, lanes);
    if (g.act?.op === 'map') v = e.mapped(g.act.value, v, lanes);
    return v;
  };

  /** `lanes.width` bias values starting at row r, column col of the current tile. */
  const biasAt = (lanes: Lanes, r: number, col: number): string | undefined => {
    const bias = g.bias;
    if (!bias) return undefined;
    const at = (op: string, c: number) => rowMem(op, biasCol, bias, r, (col + c) * bias.cs * F32);
    if (lanes.width === 1 || bias.cs === 0) {
      const one = at('f32.load', 0);
      return lanes.width === 1 ? one : `(f32x4.splat ${one})`;
    }
    if (bias.cs === 1) return at('v128.load', 0);
    let v = `(f32x4.splat ${at('f32.load', 0)})`;
    for (let c = 1; c < 4; c++) v = `(f32x4.replace_lane ${c} ${v} ${at('f32.load', c)})`;
    return v;
  };

  /** `lanes.width` residual values at row r, column col of the current tile: C's address + the delta. */
  const residualAt = (lanes: Lanes, r: number, col: number): string | undefined => {
    if (!g.residual) return undefined;
    const rows = runTimeStrides.get(g.c);
    const at = `(i32.add (local.get ${cCol}) (local.get ${residualDelta}))`;
    if (rows && r > 0) return `(${lanes.load} offset=${col * F32} (i32.add ${at} (local.get ${rows[r]})))`;
    return `(${lanes.load} offset=${(typeof g.c.rs === 'number' ? r * g.c.rs : 0) * F32 + col * F32} ${at})`;
  };

  const store = (lanes: Lanes, r: number, col: number, acc: string): string =>
    rowMem(
      lanes.store,
      cCol,
      g.c,
      r,
      col * F32,
      epilogue(lanes, acc, biasAt(lanes, r, col), residualAt(lanes, r, col)),
    );

  const grid = <T>(rows: number, cols: number, make: (r: number, c: number) => T): T[][] =>
    Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (__, c) => make(r, c)));

  /** The k loop of a tile: `step` is one k step; unrolling it measured slower under V8 (register spills). */
  const kLoop = (step: string[], bStride: number | string): string =>
    e.countedLoop(
      e.temp('i32', 'k'),
      g.K,
      [...step, advance(pa, g.a.cs * F32), advance(pb, bStride)].join('\n'),
    );

  /**
   * Broadcast form (B rows contiguous): rows × cols outputs with cols/4 f32x4 accumulators per row;
   * A[m,k] broadcast by v128.load32_splat, B[k, n..n+3] by v128.load. cols = 1 is the scalar tail.
   * `b` is where the tile's B columns start and `bStride` the bytes from one k to the next (a packed
   * panel or B itself), `vectorBytes` those from one 4-column vector of a row to the next (B_PANEL·K
   * floats in a B packed at compile time). Only the first `valid` columns are stored (a zero-padded tail
   * panel). The tile's outputs start `first` columns right of cCol.
   */
  const broadcastTile = (
    rows: number,
    cols: number,
    b: string,
    bStride: number | string,
    valid = cols,
    first = 0,
    vectorBytes = 16,
  ): string => {
    const start = `(local.set ${pa} (local.get ${aRow})) (local.set ${pb} ${b})`;
    const aAt = (op: string, r: number) => rowMem(op, pa, g.a, r, 0);
    if (cols === 1) {
      const acc = grid(rows, 1, () => e.temp('f32', 'acc')).flat();
      const bs = e.temp('f32', 'b');
      const step = [
        `(local.set ${bs} ${mem('f32.load', pb, 0)})`,
        ...acc.map(
          (c, r) =>
            `(local.set ${c} ${SCALAR_LANES.madd(`(local.get ${c})`, aAt('f32.load', r), `(local.get ${bs})`)})`,
        ),
      ];
      return [
        ...acc.map((c) => `(local.set ${c} (f32.const 0))`),
        start,
        kLoop(step, bStride),
        ...acc.map((c, r) => store(SCALAR_LANES, r, first, `(local.get ${c})`)),
      ].join('\n');
    }
    const acc = grid(rows, cols / 4, () => e.temp('v128', 'acc'));
    const bv = acc[0].map(() => e.temp('v128', 'bv'));
    const av = e.temp('v128', 'a');
    const step = [
      ...bv.map((bj, j) => `(local.set ${bj} ${mem('v128.load', pb, j * vectorBytes)})`),
      ...acc.flatMap((row, r) => [
        `(local.set ${av} ${aAt('v128.load32_splat', r)})`,
        ...row.map((c, j) => madd(c, av, bv[j])),
      ]),
    ];
    return [
      ...acc.flat().map((c) => `(local.set ${c} (v128.const i32x4 0 0 0 0))`),
      start,
      kLoop(step, bStride),
      ...acc.flatMap((row, r) =>
        row.map((c, j) =>
          j * 4 + 4 <= valid
            ? store(vector, r, first + j * 4, `(local.get ${c})`)
            : Array.from({ length: Math.max(0, valid - j * 4) }, (_, l) =>
                store(SCALAR_LANES, r, first + j * 4 + l, `(f32x4.extract_lane ${l} (local.get ${c}))`),
              ).join('\n'),
        ),
      ),
    ].join('\n');
  };

  /**
   * Dot form (A rows and B columns contiguous in k, e.g. B transposed): each output is a dot product,
   * vectorized over k four at a time, reduced across lanes, then the k tail added in scalar. `b` is where
   * the tile's first B column starts.
   */
  const dotTile = (rows: number, cols: number, b = `(local.get ${bCol})`): string => {
    const acc = grid(rows, cols, () => e.temp('v128', 'acc'));
    const sum = grid(rows, cols, () => e.temp('f32', 'sum'));
    const av = acc.map(() => e.temp('v128', 'a'));
    const bv = acc[0].map(() => e.temp('v128', 'bv'));
    const kBody = [
      ...bv.map((b, c) => `(local.set ${b} ${mem('v128.load', pb, c * g.b.cs * F32)})`),
      ...acc.flatMap((row, r) => [
        `(local.set ${av[r]} ${rowMem('v128.load', pa, g.a, r, 0)})`,
        ...row.map((x, c) => madd(x, av[r], bv[c])),
      ]),
      advance(pa, 16),
      advance(pb, 16),
    ];
    const lane = (x: string, i: number) => `(f32x4.extract_lane ${i} (local.get ${x}))`;
    const reduce = acc.flatMap((row, r) =>
      row.map(
        (x, c) =>
          `(local.set ${sum[r][c]} (f32.add (f32.add ${lane(x, 0)} ${lane(x, 1)}) (f32.add ${lane(x, 2)} ${lane(x, 3)})))`,
      ),
    );
    const kTail = Array.from({ length: g.K % 4 }, (_, k) =>
      sum.flatMap((row, r) =>
        row.map(
          (s, c) =>
            `(local.set ${s} (f32.add (local.get ${s}) (f32.mul ${rowMem('f32.load', pa, g.a, r, k * F32)} ${mem('f32.load', pb, c * g.b.cs * F32 + k * F32)})))`,
        ),
      ),
    ).flat();
    return [
      ...acc.flat().map((x) => `(local.set ${x} (v128.const i32x4 0 0 0 0))`),
      `(local.set ${pa} (local.get ${aRow})) (local.set ${pb} ${b})`,
      e.countedLoop(e.temp('i32', 'k4'), Math.floor(g.K / 4), kBody.join('\n')),
      ...reduce,
      ...kTail,
      ...sum.flatMap((row, r) => row.map((s, c) => store(SCALAR_LANES, r, c, `(local.get ${s})`))),
    ].join('\n');
  };

  const rowsPerBlock = form === 'broadcast' ? tileRows : g.N === 1 ? MATRIX_VECTOR_ROWS : 2;
  const tile = (rows: number, cols: number): string =>
    form === 'broadcast'
      ? broadcastTile(rows, cols, `(local.get ${bCol})`, rowsBytes(g.b, 1))
      : dotTile(rows, cols);
  /** pointer state at row block i (i: an i32 expression) of `rows` rows each */
  const rowsAt = (rows: number, i: string): string => {
    const at = (ptr: string, base: string, view: MatView) =>
      `(local.set ${ptr} (i32.add (local.get ${base}) (i32.mul ${i} ${bytesExpr(rowsBytes(view, rows))})))`;
    return [at(aRow, aBase, g.a), at(cRow, cBase, g.c), g.bias ? at(biasRow, biasBase, g.bias) : ''].join(
      ' ',
    );
  };
  /** the locals a split-off loop reads from the kernel (chunks.ts): the views' start pointers */
  const liveIns = [
    aBase,
    bBase,
    cBase,
    ...(g.bias ? [biasBase] : []),
    ...(g.residual ? [residualDelta] : []),
    ...strideLocals,
  ];
  /**
   * `count` iterations of `body` starting from the pointer state `at(0)`, leaving the state `at(count)`;
   * split into chunks (functions taking an iteration range) when the work is large.
   */
  const counted = (
    hint: string,
    count: number,
    work: number,
    at: (i: string) => string,
    body: () => string,
    ins = liveIns,
  ): string => {
    const chunks = e.chunksFor(count, work);
    if (chunks < 2)
      return [at('(i32.const 0)'), e.countedLoop(e.temp('i32', hint), count, body())].join('\n');
    const counter = e.temp('i32', hint);
    const calls = e.splitLoop(hint, count, chunks, ins, (lo, hi) =>
      [at(`(local.get ${lo})`), e.dynamicLoop(counter, lo, hi, body())].join('\n'),
    );
    return [calls, at(`(i32.const ${count})`)].join('\n');
  };

  /** Columns [first, N) of a block of rows, in tiles of the given widths (widest first, the last one is 1). */
  const rowBlock = (rows: number, first: number, widths: number[]): string => {
    const step = (cols: number) =>
      [
        advance(bCol, cols * g.b.cs * F32),
        advance(cCol, cols * F32),
        g.bias ? advance(biasCol, cols * g.bias.cs * F32) : '',
      ].join(' ');
    /** column pointers at tile j of width w from column `first` on */
    const columnsAt = (w: number) => (j: string) => {
      const at = (ptr: string, base: string, stride: number) =>
        `(local.set ${ptr} (i32.add (local.get ${base}) (i32.add (i32.const ${first * stride * F32}) (i32.mul ${j} (i32.const ${w * stride * F32})))))`;
      return [at(bCol, bBase, g.b.cs), at(cCol, cRow, 1), g.bias ? at(biasCol, biasRow, g.bias.cs) : ''].join(
        ' ',
      );
    };
    const parts: string[] = [];
    let left = g.N - first;
    widths.forEach((w, i) => {
      const count = Math.floor(left / w);
      left -= count * w;
      const body = () => `${tile(rows, w)}\n${step(w)}`;
      // the widest tiles' loop splits when the row blocks do not (e.g. a matrix-vector product, M = 1)
      if (i === 0)
        parts.push(
          counted('cols', count, rows * count * w * g.K, columnsAt(w), body, [
            aRow,
            bBase,
            cRow,
            ...(g.bias ? [biasRow] : []),
            ...strideLocals,
          ]),
        );
      else parts.push(e.countedLoop(e.temp('i32', `n${w}`), count, body()));
    });
    parts.push(
      advance(aRow, rowsBytes(g.a, rows)),
      advance(cRow, rowsBytes(g.c, rows)),
      g.bias ? advance(biasRow, rowsBytes(g.bias, rows)) : '',
    );
    return parts.join('\n');
  };
  const rowBlocks = (first: number, widths: number[]): string =>
    [
      counted(
        'mb',
        Math.floor(g.M / rowsPerBlock),
        (g.M - (g.M % rowsPerBlock)) * (g.N - first) * g.K,
        (i) => rowsAt(rowsPerBlock, i),
        () => rowBlock(rowsPerBlock, first, widths),
      ),
      g.M % rowsPerBlock ? rowBlock(g.M % rowsPerBlock, first, widths) : '',
    ].join('\n');

  /** reserved in both modules alike, whether this one packs panels or not (panelScratchBytes) */
  const scratchBytes = form === 'broadcast' ? panelScratchBytes(g) : 0;
  const scratch = scratchBytes ? e.scratch(scratchBytes) : 0;
  /**
   * Broadcast form with packed B panels: B's columns in K×cols panels (cols the tile's width) copied into
   * contiguous scratch (one cache-friendly stream instead of K rows far apart). The operand the loops
   * stream repeatedly should be the smaller one, which stays in cache: when B is smaller (M > N) every
   * panel is packed first and each row block of A runs over all of them; otherwise one panel is packed at a time and every row block of A
   * runs over it. The remaining N % cols columns are packed zero-padded into one more panel, 4 to cols wide,
   * whose tiles store only the real columns; streamed B (read in place) leaves them to the plain row blocks.
   * A single remaining column (N = 49, a 7×7 map) is packed as one column contiguous in k and runs in the
   * dot form instead when A's rows are contiguous in k: a 4-wide tail tile would use one lane in four and,
   * with its 3 or 4 accumulators, take about as long as a whole tile.
   * A B packed at compile time (`packedB`, kernels/b-panels.ts) is read where it lies, its tail panel
   * unpadded: the tile's lanes past the tail read the next row's floats (past the last row, at most 3
   * floats beyond the weight, still inside the memory that the regions after the weights take) and are
   * never stored. Run panel by panel, each row block also touches a few lines of the next panel, so that
   * the weights (evicted between runs) arrive from DRAM while the current panel runs (panel-touch.ts).
   */
  const packedPanels = (streamed: boolean): string => {
    const { panels, panelBytes, rowsOuter, tail, tailWidth } = panelsOf(g, panel);
    const [src, dst, bPanel, cPanel, biasPanel, pp] = [
      'src',
      'dst',
      'b_panel',
      'c_panel',
      'bias_panel',
      'pp',
    ].map((h) => e.temp('i32', h));
    /**
     * copies the `width` columns at bPanel to dst onwards, columns from `valid` on as zeros, leaving dst just
     * past them and bPanel at the next columns
     */
    const packOf = (width: number, valid = width) =>
      [
        `(local.set ${src} (local.get ${bPanel}))`,
        e.countedLoop(
          e.temp('i32', 'pk'),
          g.K,
          [
            ...Array.from({ length: Math.ceil(width / 4) }, (_, j) =>
              j * 4 + 4 <= valid
                ? mem('v128.store', dst, j * 16, mem('v128.load', src, j * 16))
                : Array.from({ length: Math.min(4, width - j * 4) }, (__, l) => {
                    const c = j * 4 + l;
                    return mem(
                      'f32.store',
                      dst,
                      c * F32,
                      c < valid ? mem('f32.load', src, c * F32) : '(f32.const 0)',
                    );
                  }).join('\n'),
            ),
            advance(src, rowsBytes(g.b, 1)),
            advance(dst, width * F32),
          ].join('\n'),
        ),
        advance(bPanel, width * F32),
      ].join('\n');
    const pack = packOf(panel);
    const nextPanel = [advance(cCol, panel * F32), g.bias ? advance(biasCol, panel * g.bias.cs * F32) : ''];
    /**
     * a tile over a panel of `width` columns, the first `valid` real; a one-column panel (see panelsOf) in
     * the dot form. In a B packed at compile time the tile's 4-column vectors come from consecutive
     * B_PANEL-wide panels, each contiguous in k, and its last `valid` % B_PANEL columns from the narrower
     * tail panel, whose rows lie that many floats apart (a tile of their own).
     */
    const tileAt = (rows: number, at: string, width = panel, valid = width) => {
      if (width === 1) return dotTile(rows, 1, at);
      if (!prepacked) return broadcastTile(rows, width, at, width * F32, valid);
      const part = valid % B_PANEL;
      const whole = valid - part;
      const panelsBytes = g.K * whole * F32;
      return [
        whole ? broadcastTile(rows, whole, at, B_PANEL * F32, whole, 0, g.K * B_PANEL * F32) : '',
        part
          ? broadcastTile(
              rows,
              B_PANEL,
              `(i32.add ${at} (i32.const ${panelsBytes}))`,
              part * F32,
              part,
              whole,
            )
          : '',
      ].join('\n');
    };
    const startPanels = [
      prepacked ? '' : `(local.set ${bPanel} (local.get ${bBase})) (local.set ${dst} (i32.const ${scratch}))`,
      `(local.set ${cPanel} (local.get ${cBase}))`,
      g.bias ? `(local.set ${biasPanel} (local.get ${biasBase}))` : '',
    ];
    if (rowsOuter) {
      const rowBlockOverPanels = (rows: number) =>
        [
          `(local.set ${cCol} (local.get ${cRow}))`,
          `(local.set ${pp} ${prepacked ? `(local.get ${bBase})` : `(i32.const ${scratch})`})`,
          g.bias ? `(local.set ${biasCol} (local.get ${biasRow}))` : '',
          e.countedLoop(
            e.temp('i32', 'np'),
            panels,
            [tileAt(rows, `(local.get ${pp})`), advance(pp, panelBytes), ...nextPanel].join('\n'),
          ),
          tail ? tileAt(rows, `(local.get ${pp})`, tailWidth, tail) : '',
          advance(aRow, rowsBytes(g.a, rows)),
          advance(cRow, rowsBytes(g.c, rows)),
          g.bias ? advance(biasRow, rowsBytes(g.bias, rows)) : '',
        ].join('\n');
      return [
        ...startPanels,
        prepacked ? '' : e.countedLoop(e.temp('i32', 'pn'), panels, pack),
        tail && !prepacked ? packOf(tailWidth, tail) : '',
        counted(
          'mb',
          Math.floor(g.M / tileRows),
          (g.M - (g.M % tileRows)) * panels * panel * g.K,
          (i) => rowsAt(tileRows, i),
          () => rowBlockOverPanels(tileRows),
        ),
        g.M % tileRows ? rowBlockOverPanels(g.M % tileRows) : '',
      ].join('\n');
    }
    /** touches of the next panel while a whole one runs (panel-touch.ts): B packed at compile time only */
    const lines = prepacked ? touchLinesPerBlock(panelBytes, Math.floor(g.M / tileRows)) : 0;
    const touch: TouchLocals | undefined = lines
      ? { next: e.temp('i32', 'touch'), last: e.temp('i32', 'touch_last') }
      : undefined;
    const panelRows = (rows: number, width: number, valid: number) =>
      [
        touch && valid === panel && rows === tileRows ? touchLines(touch, lines) : '',
        streamed
          ? broadcastTile(rows, panel, `(local.get ${bPanel})`, rowsBytes(g.b, 1))
          : tileAt(rows, prepacked ? `(local.get ${bPanel})` : `(i32.const ${scratch})`, width, valid),
        advance(aRow, rowsBytes(g.a, rows)),
        advance(cCol, rowsBytes(g.c, rows)),
        g.bias ? advance(biasCol, rowsBytes(g.bias, rows)) : '',
      ].join('\n');
    /** one panel of `width` columns (the first `valid` of them real) through every row block */
    const bodyOf = (width: number, valid: number) =>
      [
        streamed || prepacked ? '' : `(local.set ${dst} (i32.const ${scratch}))\n${packOf(width, valid)}`,
        `(local.set ${aRow} (local.get ${aBase})) (local.set ${cCol} (local.get ${cPanel}))`,
        g.bias ? `(local.set ${biasCol} (local.get ${biasPanel}))` : '',
        touch && valid === panel ? startTouches(touch, lines, bBase, bPanel, panels, panelBytes) : '',
        e.countedLoop(e.temp('i32', 'mb'), Math.floor(g.M / tileRows), panelRows(tileRows, width, valid)),
        g.M % tileRows ? panelRows(g.M % tileRows, width, valid) : '',
        streamed ? advance(bPanel, width * F32) : prepacked ? advance(bPanel, g.K * width * F32) : '',
        advance(cPanel, width * F32),
        g.bias ? advance(biasPanel, width * g.bias.cs * F32) : '',
      ].join('\n');
    /** pointer state at panel i */
    const panelAt = (i: string): string => {
      const at = (ptr: string, base: string, bytes: number) =>
        `(local.set ${ptr} (i32.add (local.get ${base}) (i32.mul ${i} (i32.const ${bytes}))))`;
      return [
        at(bPanel, bBase, prepacked ? panelBytes : panel * F32),
        at(cPanel, cBase, panel * F32),
        g.bias ? at(biasPanel, biasBase, panel * g.bias.cs * F32) : '',
      ].join(' ');
    };
    return [
      counted('np', panels, panels * panel * g.M * g.K, panelAt, () => bodyOf(panel, panel)),
      tail ? bodyOf(tailWidth, tail) : '',
    ].join('\n');
  };

  // Row blocks that would each sweep all of B instead run panel by panel: each B panel is packed into
  // a contiguous stream, or (streamB) read in place, and stays in L1 while every row block of A runs over it.
  /** tile widths for the columns left of a narrower tile */
  const narrower = (w: number) => [8, 4, 1].filter((x) => x < w);
  if (prepacked && form !== 'broadcast') throw new Error('internal: a packed B outside the broadcast form');
  const panelled = form === 'broadcast' && panelsWith(g, microTile);
  const streamed = g.streamB === true;
  /** columns the panels cover: all of them unless B is streamed in place */
  const full = !panelled ? 0 : streamed ? g.N - (g.N % panel) : g.N;
  return [
    ...setStrides,
    setA,
    setB,
    setC,
    setBias,
    setResidualDelta,
    panelled ? packedPanels(streamed) : '',
    full < g.N
      ? rowBlocks(full, form === 'dot' ? [4, 1] : panelled ? narrower(panel) : [panel, ...narrower(panel)])
      : '',
  ].join('\n');
}
