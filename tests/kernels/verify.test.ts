/** The Kernel IR verifier names the kernel and the statement it rejects. */
import { describe, expect, it } from 'vitest';
import type { BufRef, Kernel, Stmt } from '../../src/kernels/ir.js';
import { add, cast, f32, i32, load, local, loop, set, store, v } from '../../src/kernels/build.js';
import { verifyKernel } from '../../src/kernels/verify.js';

const X: BufRef = { id: 0, dtype: 'float32', length: 8 };
const Y: BufRef = { id: 1, dtype: 'float32', length: 8 };
const I: BufRef = { id: 2, dtype: 'int64', length: 8 };
const kernel = (body: Stmt[]): Kernel => ({ name: 'k', body });

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
      [
        {
          k: 'gemm',
          M: 2,
          N: 4,
          K: 4,
          a: { buf: X, offset: i32(0), rs: 4, cs: 1 },
          b: { buf: X, offset: i32(0), rs: 4, cs: 1 },
          c: { buf: Y, offset: i32(0), rs: 4, cs: 1 },
          alpha: 1,
          beta: 1,
        },
      ],
      /gemm B \(4×4 at 0, strides 4,1\) reaches outside buffer #0\[8\]/,
    ],
  ];
  for (const [what, body, message] of rejects)
    it(`rejects ${what}`, () => {
      expect(() => verifyKernel(kernel(body))).toThrow(message);
      expect(() => verifyKernel(kernel(body))).toThrow(/^kernel 'k': /);
    });
});
