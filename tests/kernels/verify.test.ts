/** The Kernel IR verifier names the kernel and the statement it rejects; shape symbols and run-time extents. */
import { describe, expect, it } from 'vitest';
import type { BufRef, Expr, GemmStmt, Kernel, ShapeSymbol, Stmt } from '../../src/kernels/ir.js';
import {
  add,
  bin,
  cast,
  dim,
  f32,
  i32,
  load,
  local,
  loop,
  mul,
  set,
  store,
  sub,
  v,
} from '../../src/kernels/build.js';
import { verifyKernel } from '../../src/kernels/verify.js';
import { interpretKernels, Memory } from '../../src/kernels/interpret.js';

const X: BufRef = { id: 0, dtype: 'float32', length: 8 };
const Y: BufRef = { id: 1, dtype: 'float32', length: 8 };
const I: BufRef = { id: 2, dtype: 'int64', length: 8 };
const kernel = (body: Stmt[]): Kernel => ({ name: 'k', body });
/** C = A·B with M = 2, N = K = n, every view row-major from element 0 */
const gemmOf = (a: BufRef, b: BufRef, c: BufRef, n: number): GemmStmt => {
  const view = (buf: BufRef) => ({ buf, offset: i32(0), rs: n, cs: 1 });
  return { k: 'gemm', M: 2, N: n, K: n, a: view(a), b: view(b), c: view(c), alpha: 1, beta: 0 };
};

describe('verifyKernel', () => {
  it('accepts a well-formed kernel', () => {
    expect(() =>
      verifyKernel(
        kernel([
          loop('i', 8, [local('acc', 'f32', load(X, v('i'))), set('acc', add(v('acc', 'f32'), f32(1)))]),
          loop('j', 8, [store(Y, v('j'), f32(0))]),
        ]),
      ),
    ).not.toThrow();
  });

  const rejects: [string, Stmt[], RegExp][] = [
    [
      'a variable used before it is declared',
      [store(Y, v('i'), f32(0))],
      /body\[0\] store: variable 'i' is used before/,
    ],
    [
      'a loop variable used after its loop',
      [loop('i', 8, []), store(Y, v('i'), f32(0))],
      /body\[1\] store: variable 'i'/,
    ],
    [
      'a name declared twice',
      [loop('i', 2, []), loop('i', 2, [])],
      /body\[1\] loop i: 'i' is declared twice/,
    ],
    [
      'a variable used at another type',
      [loop('i', 8, [store(Y, v('i', 'f32'), f32(0))])],
      /'i' is i32 but used as f32/,
    ],
    [
      'a store of the wrong type',
      [loop('i', 8, [store(I, v('i'), f32(1))])],
      /store of f32 into int64 buffer #2/,
    ],
    [
      'a constant index outside the buffer',
      [store(Y, i32(8), f32(0))],
      /constant index 8 outside buffer #1 \(float32\[8\]\)/,
    ],
    ['a negative loop extent', [loop('i', -1, [])], /extent -1/],
    [
      'mixed operand types',
      [store(Y, i32(0), { k: 'bin', t: 'f32', op: 'add', a: f32(1), b: i32(1) })],
      /add of f32 and i32/,
    ],
    ['a set of an undeclared local', [set('acc', f32(0))], /set of undeclared 'acc'/],
    [
      'a local initialised with another type',
      [local('n', 'i32', f32(0))],
      /local 'n' is i32 but its initial value is f32/,
    ],
    ['a float index', [store(Y, cast('f32', i32(0)), f32(0))], /store index into buffer #1 is f32/],
    [
      'a gemm view outside its buffer',
      [gemmOf(X, X, Y, 4)],
      /gemm B \(4×4 at 0, strides 4,1\) reaches outside buffer #0\[8\]/,
    ],
  ];
  for (const [what, body, message] of rejects)
    it(`rejects ${what}`, () => {
      expect(() => verifyKernel(kernel(body))).toThrow(message);
      expect(() => verifyKernel(kernel(body))).toThrow(/^kernel 'k': /);
    });
});

describe('verifyKernel: shape symbols', () => {
  const SYMBOLS: ShapeSymbol[] = [
    { name: 'n', min: 1, max: 8 },
    { name: 'm', min: 0, max: 100000 },
  ];
  const gemmOfM = (M: Expr): Stmt => ({
    k: 'gemm',
    M: M as unknown as number,
    N: 1,
    K: 1,
    a: { buf: X, offset: i32(0), rs: 1, cs: 1 },
    b: { buf: X, offset: i32(0), rs: 1, cs: 1 },
    c: { buf: Y, offset: i32(0), rs: 1, cs: 1 },
    alpha: 1,
    beta: 1,
  });

  it('accepts run-time extents and dims in index arithmetic over declared symbols', () => {
    const body = [
      loop('i', dim('n'), [store(Y, sub(dim('n'), add(v('i'), i32(1))), load(X, v('i')))]),
      loop('j', bin('div', add(dim('m'), i32(3)), i32(4)), []),
    ];
    expect(() => verifyKernel(kernel(body), SYMBOLS)).not.toThrow();
  });

  const rejects: [string, Stmt[], RegExp][] = [
    [
      'a dim of an undeclared symbol',
      [store(Y, dim('seq'), f32(0))],
      /body\[0\] store: shape symbol 'seq' is not declared/,
    ],
    ['an extent that loads', [loop('i', load(I, i32(0)), [])], /body\[0\] loop i: .*not a shape expression/],
    [
      'an extent that reads a loop variable',
      [loop('i', 2, [loop('j', v('i'), [])])],
      /body\[0\]\.body\[0\] loop j: extent is not a shape expression: .*not var/,
    ],
    [
      'an extent dividing by what may be 0',
      [loop('i', bin('div', dim('n'), dim('m')), [])],
      /div of n by m may see a negative dividend or a divisor < 1/,
    ],
    [
      'an extent beyond i32',
      [loop('i', mul(dim('m'), dim('m')), [])],
      /extent m\*m reaches 0\.\.10000000000, beyond i32/,
    ],
    [
      'a gemm of a run-time size',
      [gemmOfM(dim('n'))],
      /gemm M is a run-time size; gemm sizes must be static/,
    ],
  ];
  for (const [what, body, message] of rejects)
    it(`rejects ${what}`, () => expect(() => verifyKernel(kernel(body), SYMBOLS)).toThrow(message));

  it('rejects symbols declared twice or with bounds that are not 0 ≤ min ≤ max < 2^31', () => {
    expect(() => verifyKernel(kernel([]), [SYMBOLS[0], SYMBOLS[0]])).toThrow(
      /shape symbol 'n' is declared twice/,
    );
    expect(() => verifyKernel(kernel([]), [{ name: 'x', min: 5, max: 4 }])).toThrow(/'x' has bounds 5\.\.4/);
    expect(() => verifyKernel(kernel([]), [{ name: 'x', min: -1, max: 4 }])).toThrow(
      /'x' has bounds -1\.\.4/,
    );
  });

  it('the interpreter runs a run-time extent from the values given, and names a symbol without one', () => {
    const mem = new Memory();
    const body = [loop('i', dim('n'), [store(Y, v('i'), f32(2))])];
    interpretKernels([kernel(body)], mem, { n: 3 });
    expect([...mem.get(Y)]).toEqual([2, 2, 2, 0, 0, 0, 0, 0]);
    expect(() => interpretKernels([kernel(body)], mem)).toThrow(/shape symbol 'n' has no value/);
  });
});

describe('verifyKernel: the signature', () => {
  const W: BufRef = { id: 3, dtype: 'float32', length: 8 };
  const signed = (body: Stmt[], dims: string[] = []): Kernel => ({
    name: 'signed',
    body,
    signature: {
      buffers: [
        { buf: X, role: 'input', shape: [2, 4] },
        { buf: W, role: 'weight', shape: [8] },
        { buf: Y, role: 'output', shape: [8] },
      ],
      dims,
    },
  });
  const copy = loop('i', 8, [store(Y, v('i'), add(load(X, v('i')), load(W, v('i'))))]);

  it('accepts a kernel that reads its inputs and weights and writes its output', () => {
    expect(() => verifyKernel(signed([copy]))).not.toThrow();
  });

  it.each<[string, Kernel, RegExp]>([
    [
      'a buffer the signature lacks',
      signed([loop('i', 8, [store(Y, v('i'), cast('f32', load(I, v('i'))))])]),
      /kernel 'signed': body\[0\].body\[0\] store: buffer #2 \(int64\[8\]\) is not in the kernel's signature/,
    ],
    [
      'a store into an input',
      signed([copy, store(X, i32(0), f32(0))]),
      /kernel 'signed': body\[1\] store: stores into buffer #0, which the kernel only reads \(its input\)/,
    ],
    [
      'a gemm writing a weight',
      signed([gemmOf(X, Y, W, 2)]),
      /body\[0\] gemm: stores into buffer #3, which the kernel only reads \(its weight\)/,
    ],
    [
      'a buffer used at another length than its parameter',
      signed([store({ ...Y, length: 4 }, i32(0), f32(0))]),
      /buffer #1 is used as float32\[4\] but the signature has float32\[8\]/,
    ],
    [
      'a shape that does not match the buffer',
      { ...signed([]), signature: { buffers: [{ buf: X, role: 'input', shape: [3] }], dims: [] } },
      /kernel 'signed': signature: input buffer #0 has shape \[3\] but 8 elements/,
    ],
    [
      'a dim outside the signature',
      signed([loop('i', dim('n'), [])]),
      /shape symbol 'n' is not among the kernel's dims/,
    ],
  ])('rejects %s, naming the kernel and the statement', (_, k, message) => {
    expect(() => verifyKernel(k, [{ name: 'n', min: 0, max: 8 }])).toThrow(message);
  });
});
