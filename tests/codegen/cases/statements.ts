/**
 * Statements (loops, locals, set, if/else, select), kernel order, and loop nests of the shapes lowerings
 * produce (elementwise, transposed, reductions, scans, overlapping and narrow stores): the loop nests'
 * expected contents come from the Kernel IR interpreter.
 */
import {
  add,
  cmp,
  f32,
  i32,
  load,
  local,
  loop,
  mul,
  select,
  set,
  store,
  sub,
  v,
  when,
} from '../../../src/kernels/build.js';
import type { KernelCase } from './case.js';

/** out[i*4+j] = sum_{k<=j} (i+k), negated when i is odd. */
function nestedSums(): number[] {
  const out: number[] = [];
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 4; j++) {
      let acc = 0;
      for (let k = 0; k <= j; k++) acc += i + k;
      out.push(i % 2 ? -acc : acc);
    }
  return out;
}

const INPUT = [1, -2, 3, -4, 5];

/** Kernels named like graph nodes, so targets can check how they name entry points. */
export const INIT_ORDER_CASE: KernelCase = {
  name: 'init kernels run before run kernels, each in order',
  buffers: [{ dtype: 'int32', length: 2 }],
  program: ([B]) => ({
    init: [
      { name: 'a', body: [store(B, i32(0), i32(3))] },
      { name: 'a', body: [store(B, i32(0), mul(load(B, i32(0)), i32(10)))] },
    ],
    run: [
      { name: 'r/1', body: [store(B, i32(1), add(load(B, i32(0)), i32(1)))] },
      { name: 'r-2', body: [store(B, i32(1), mul(load(B, i32(1)), i32(2)))] },
    ],
  }),
  expect: { 0: [30, 62] },
};

export const ONE_TRIP_LOOPS_CASE: KernelCase = {
  name: 'one-trip loops around a fill and a loop reading it (as a Conv lowering nests them)',
  buffers: [
    { dtype: 'float32', length: 64 },
    { dtype: 'float32', length: 64 },
  ],
  program: ([A, B]) => [
    loop('n', 1, [
      loop('g', 1, [
        loop('i', 64, [store(A, add(v('i'), mul(v('n'), i32(64))), mul(f32(0.5), f32(3)))]),
        loop('j', 64, [store(B, add(v('j'), v('g')), add(load(A, v('j')), f32(1)))]),
      ]),
    ]),
  ],
  expect: { 0: new Array(64).fill(1.5), 1: new Array(64).fill(2.5) },
};

export const STATEMENT_CASES: KernelCase[] = [
  {
    name: 'nested loops, locals, set and if/else',
    buffers: [
      { dtype: 'int32', length: 12 },
      { dtype: 'int32', length: 1 },
    ],
    // a local accumulated across the whole nest, besides the per-element one
    program: ([O, T]) => [
      local('total', 'i32', i32(0)),
      loop('i', 3, [
        loop('j', 4, [
          local('acc', 'i32', i32(0)),
          loop('k', 4, [when(cmp('le', v('k'), v('j')), [set('acc', add(v('acc'), add(v('i'), v('k'))))])]),
          when(
            cmp('eq', { k: 'bin', t: 'i32', op: 'and', a: v('i'), b: i32(1) }, i32(1)),
            [store(O, add(mul(v('i'), i32(4)), v('j')), { k: 'un', t: 'i32', op: 'neg', a: v('acc') })],
            [store(O, add(mul(v('i'), i32(4)), v('j')), v('acc'))],
          ),
          set('total', add(v('total'), v('acc'))),
        ]),
      ]),
      store(T, i32(0), v('total')),
    ],
    expect: { 0: nestedSums(), 1: [60] },
  },
  {
    name: 'loops of 0 and 1 iterations, and sibling loops reusing a name',
    buffers: [{ dtype: 'int32', length: 4 }],
    program: ([O]) => [
      loop('i', 0, [store(O, i32(0), i32(99))]),
      loop('i', 1, [store(O, add(v('i'), i32(1)), i32(5))]),
      loop('i', 2, [store(O, add(v('i'), i32(2)), add(v('i'), i32(7)))]),
    ],
    expect: { 0: [0, 5, 7, 8] },
  },
  {
    name: 'select evaluates per element and negative constant index offsets stay correct',
    buffers: [
      { dtype: 'float32', data: INPUT },
      { dtype: 'float32', length: 12 },
    ],
    // element i + big - 100000: the constant part is too negative for wasm's offset immediate
    program: ([A, B]) => [
      local('big', 'i32', i32(100001)),
      loop('i', 4, [
        store(B, v('i'), select(cmp('gt', load(A, add(v('i'), i32(1))), f32(0)), load(A, v('i')), f32(-1))),
        store(B, add(v('i'), i32(4)), load(A, add(add(v('i'), i32(100001)), i32(-100000)))),
        store(B, add(v('i'), i32(8)), load(A, add(add(v('i'), v('big')), i32(-100000)))),
      ]),
    ],
    expect: { 1: [-1, -2, -1, -4, -2, 3, -4, 5, -2, 3, -4, 5] },
  },
  INIT_ORDER_CASE,
  ONE_TRIP_LOOPS_CASE,
];

const ramp = (n: number) => Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i) * 3));

export const LOOP_NESTS = {
  elementwise: {
    name: 'elementwise over 1000 elements',
    buffers: [
      { dtype: 'float32', data: ramp(1000) },
      { dtype: 'float32', length: 1000 },
    ],
    program: ([X, Y]) => [loop('i', 1000, [store(Y, v('i'), add(mul(load(X, v('i')), f32(2)), f32(1)))])],
  },
  inPlace: {
    name: 'in-place update at the same index',
    buffers: [{ dtype: 'float32', data: ramp(130) }],
    program: ([X]) => [loop('i', 130, [store(X, v('i'), mul(load(X, v('i')), f32(3)))])],
  },
  transposed: {
    name: 'transposed 2-D nest (30 × 50)',
    buffers: [
      { dtype: 'float32', data: ramp(1500) },
      { dtype: 'float32', length: 1500 },
    ],
    program: ([X, Y]) => [
      loop('i', 30, [
        loop('j', 50, [
          store(Y, add(mul(v('j'), i32(30)), v('i')), load(X, add(mul(v('i'), i32(50)), v('j')))),
        ]),
      ]),
    ],
  },
  rowReduction: {
    name: 'row reduction (300 rows of 7)',
    buffers: [
      { dtype: 'float32', data: ramp(300 * 7) },
      { dtype: 'float32', length: 300 },
    ],
    program: ([X, Y]) => [
      loop('r', 300, [
        local('acc', 'f32', f32(0)),
        loop('k', 7, [set('acc', add(v('acc', 'f32'), load(X, add(mul(v('r'), i32(7)), v('k')))))]),
        store(Y, v('r'), v('acc', 'f32')),
      ]),
    ],
  },
  scan: {
    name: 'scan reading what earlier iterations wrote',
    buffers: [
      { dtype: 'float32', data: ramp(200) },
      { dtype: 'float32', length: 201 },
    ],
    program: ([X, Y]) => [
      loop('i', 200, [store(Y, add(v('i'), i32(1)), add(load(Y, v('i')), load(X, v('i'))))]),
    ],
  },
  overlapping: {
    name: 'overlapping stores of neighbouring iterations',
    buffers: [
      { dtype: 'float32', data: ramp(100) },
      { dtype: 'float32', length: 101 },
    ],
    program: ([X, Y]) => [
      loop('i', 100, [
        store(Y, v('i'), load(X, v('i'))),
        store(Y, add(v('i'), i32(1)), mul(load(X, v('i')), f32(2))),
      ]),
    ],
  },
  reversed: {
    name: 'reversed stores (negative coefficient)',
    buffers: [
      { dtype: 'float32', data: ramp(100) },
      { dtype: 'float32', length: 100 },
    ],
    program: ([X, Y]) => [loop('i', 100, [store(Y, sub(i32(99), v('i')), load(X, v('i')))])],
  },
  narrow: {
    name: 'narrow int8 stores sharing words',
    buffers: [{ dtype: 'int8', length: 100 }],
    program: ([B]) => [loop('i', 100, [store(B, v('i'), v('i'))])],
  },
} satisfies Record<string, KernelCase>;

export const LOOP_NEST_CASES: KernelCase[] = Object.values(LOOP_NESTS);
