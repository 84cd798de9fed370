/**
 * Kernels over sizes known only at run time (shape symbols in the Program's dims block), as data: each is
 * compiled once per target and run at several symbol values, against the Kernel IR interpreter. Buffers are
 * sized for the symbols' upper bounds; outputs start each run filled with a sentinel, so a kernel that
 * writes past its run-time extent differs from the interpreter.
 */
import type { PlacedBuffer, Program, ShapeSymbol, Stmt } from '../../../src/kernels/ir.js';
import {
  add,
  dim,
  f32,
  i32,
  load,
  local,
  loop,
  max,
  mul,
  set,
  store,
  sub,
  v,
} from '../../../src/kernels/build.js';
import { interpretKernels, Memory } from '../../../src/kernels/interpret.js';
import { gemm, view } from '../../../src/ops/nn/gemm-helpers.js';
import { place, programOf, typed, type Elements, type NumDType } from '../program.js';
import type { TypedArray } from '../../../src/ir/dtype.js';

export interface SymbolicCase {
  name: string;
  symbols: ShapeSymbol[];
  /** sized for the symbols' upper bounds; `input` buffers get fresh data each run, the others a sentinel */
  buffers: { dtype: NumDType; length: number; input?: boolean }[];
  body: (bufs: PlacedBuffer[]) => Stmt[];
  /** the symbol values to run at, one run each */
  runs: Record<string, number>[];
}

const d = dim;

export const SYMBOLIC_CASES: SymbolicCase[] = [
  {
    name: 'elementwise over a run-time length',
    symbols: [{ name: 'n', min: 1, max: 300 }],
    buffers: [
      { dtype: 'float32', length: 300, input: true },
      { dtype: 'float32', length: 300 },
      { dtype: 'int32', length: 300 },
    ],
    // y[i] = max(2·x[i] + 1, 0) (f32x4 on wasm, the tail when n % 4 ≠ 0); z[i] = 3·i + n
    body: ([X, Y, Z]) => [
      loop('i', d('n'), [store(Y, v('i'), max(add(mul(load(X, v('i')), f32(2)), f32(1)), f32(0)))]),
      loop('j', d('n'), [store(Z, v('j'), add(mul(v('j'), i32(3)), d('n')))]),
    ],
    runs: [{ n: 1 }, { n: 3 }, { n: 4 }, { n: 77 }, { n: 300 }],
  },
  {
    name: 'elementwise over a run-time length large enough to run in chunks',
    symbols: [{ name: 'n', min: 0, max: 1 << 18 }],
    buffers: [
      { dtype: 'float32', length: 1 << 18, input: true },
      { dtype: 'float32', length: 1 << 18 },
      { dtype: 'int32', length: 1 << 18 },
    ],
    body: ([X, Y, Z]) => [
      loop('i', d('n'), [store(Y, v('i'), max(add(mul(load(X, v('i')), f32(2)), f32(1)), f32(0)))]),
      loop('j', d('n'), [store(Z, v('j'), add(mul(v('j'), i32(3)), d('n')))]),
    ],
    runs: [{ n: 0 }, { n: 6 }, { n: 100003 }, { n: 1 << 18 }],
  },
  {
    name: 'row sums and maxima over run-time rows × cols',
    symbols: [
      { name: 'rows', min: 1, max: 40 },
      { name: 'cols', min: 1, max: 70 },
    ],
    buffers: [
      { dtype: 'float32', length: 40 * 70, input: true },
      { dtype: 'float32', length: 40 },
      { dtype: 'float32', length: 40 },
    ],
    body: ([X, S, M]) => [
      loop('r', d('rows'), [
        local('sum', 'f32', f32(0)),
        local('top', 'f32', f32(-Infinity)),
        loop('c', d('cols'), [
          set('sum', add(v('sum', 'f32'), load(X, add(mul(v('r'), d('cols')), v('c'))))),
        ]),
        loop('c2', d('cols'), [
          set('top', max(v('top', 'f32'), load(X, add(mul(v('r'), d('cols')), v('c2'))))),
        ]),
        store(S, v('r'), v('sum', 'f32')),
        store(M, v('r'), v('top', 'f32')),
      ]),
    ],
    runs: [
      { rows: 1, cols: 1 },
      { rows: 3, cols: 5 },
      { rows: 7, cols: 64 },
      { rows: 40, cols: 70 },
    ],
  },
  {
    name: '2-D transpose with run-time dims',
    symbols: [
      { name: 'h', min: 1, max: 20 },
      { name: 'w', min: 1, max: 33 },
    ],
    buffers: [
      { dtype: 'float32', length: 20 * 33, input: true },
      { dtype: 'float32', length: 20 * 33 },
    ],
    // out[j, i] = in[i, j]: in is h × w, out w × h
    body: ([X, Y]) => [
      loop('i', d('h'), [
        loop('j', d('w'), [
          store(Y, add(mul(v('j'), d('h')), v('i')), load(X, add(mul(v('i'), d('w')), v('j')))),
        ]),
      ]),
    ],
    runs: [
      { h: 1, w: 1 },
      { h: 2, w: 33 },
      { h: 5, w: 3 },
      { h: 20, w: 33 },
    ],
  },
  {
    name: 'writes whose run-time strides overlap (the last one wins, in loop order)',
    symbols: [
      { name: 'h', min: 1, max: 20 },
      { name: 'w', min: 1, max: 33 },
    ],
    buffers: [
      { dtype: 'float32', length: 20 * 33, input: true },
      { dtype: 'float32', length: 20 * 33 },
    ],
    // out[j·(h-1) + i] = in[i, j]: rows of h elements placed h-1 apart, so neighbours share one element
    body: ([X, Y]) => [
      loop('i', d('h'), [
        loop('j', d('w'), [
          store(Y, add(mul(v('j'), sub(d('h'), i32(1))), v('i')), load(X, add(mul(v('i'), d('w')), v('j')))),
        ]),
      ]),
    ],
    runs: [
      { h: 1, w: 5 },
      { h: 3, w: 4 },
      { h: 20, w: 33 },
    ],
  },
  {
    name: 'gemms whose operands lie at run-time row strides (every form: panels, streamed, rows over panels, dot)',
    symbols: [{ name: 'pad', min: 0, max: 24 }],
    // A 10×7, B 7×20, C 10×20 and a per-row bias, each row `pad` elements longer than the matrix
    buffers: [
      { dtype: 'float32', length: 1 + 10 * 31, input: true },
      { dtype: 'float32', length: 2 + 7 * 44, input: true },
      { dtype: 'float32', length: 10 * 25, input: true },
      { dtype: 'float32', length: 3 + 10 * 44 },
      { dtype: 'float32', length: 3 + 10 * 44 },
      { dtype: 'float32', length: 3 + 10 * 44 },
      { dtype: 'float32', length: 3 + 10 * 25 },
    ],
    body: ([A, B, bias, C1, C2, C3, C4]) => {
      const rs = (n: number) => add(d('pad'), i32(n));
      const a = view(A, i32(1), rs(7), 1);
      const b = view(B, i32(2), rs(20), 1);
      const c = (buf: PlacedBuffer) => view(buf, i32(3), rs(20), 1);
      return [
        gemm(10, 20, 7, a, b, c(C1), { bias: view(bias, i32(0), rs(1), 0) }),
        gemm(10, 20, 7, a, b, c(C2), { streamB: true }),
        // M > N: every panel packed first, each row block of A over all of them
        gemm(10, 8, 7, a, b, c(C3), { alpha: 0.5 }),
        // a matrix-vector product: the dot form, B's column contiguous in k
        gemm(10, 1, 7, a, view(B, i32(2), 1, 1), view(C4, i32(3), rs(1), 1)),
      ];
    },
    runs: [{ pad: 0 }, { pad: 1 }, { pad: 5 }, { pad: 24 }],
  },
];

/** The case as one Program: its buffers placed one after another, then the dims block. */
export function programOfSymbolic(c: SymbolicCase): {
  program: Program;
  bufs: PlacedBuffer[];
  dimsBuf: PlacedBuffer;
} {
  const all = place([...c.buffers, { dtype: 'int32', length: c.symbols.length }]);
  const bufs = all.slice(0, -1);
  const dimsBuf = all[all.length - 1];
  const program: Program = {
    ...programOf(all, c.body(bufs)),
    buffers: bufs,
    dims: { offset: dimsBuf.offset, symbols: c.symbols },
  };
  return { program, bufs, dimsBuf };
}

/** What one run writes before it starts: every buffer's contents (inputs from `seed`), and the dims. */
export function runInputs(c: SymbolicCase, values: Record<string, number>, seed: number): TypedArray[] {
  const data = c.buffers.map((b, i) =>
    typed(
      b.dtype,
      Array.from({ length: b.length }, (_, j) =>
        b.input ? Math.fround(Math.abs(Math.sin(seed + i * 7 + j))) : -7,
      ),
    ),
  );
  return [
    ...data,
    typed(
      'int32',
      c.symbols.map((s) => values[s.name]),
    ),
  ];
}

/** Every buffer of the case after the Kernel IR interpreter ran it from `inputs` (runInputs). */
export function interpretSymbolic(
  c: SymbolicCase,
  program: Program,
  bufs: PlacedBuffer[],
  inputs: TypedArray[],
  values: Record<string, number>,
): Elements[] {
  const mem = new Memory();
  bufs.forEach((b, i) => mem.bufs.set(b.id, inputs[i].slice()));
  interpretKernels(program.run, mem, values);
  return bufs.map((b) => mem.get(b));
}
