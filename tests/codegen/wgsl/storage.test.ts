/** Loads and stores of every supported storage dtype: word bitcasts, narrow bit fields, exact float16. */
import { describe, expect, it } from 'vitest';
import { add, i32, load, loop, store, v } from '../../../src/kernels/build.js';
import type { Stmt } from '../../../src/kernels/ir.js';
import { place, programOf, typed, type NumDType } from '../harness.js';
import { floatToHalf } from '../../helpers/float16.js';
import { expectClose, runBoth } from './harness.js';

const CASES: { dtype: NumDType; values: number[] }[] = [
  { dtype: 'int8', values: [0, 1, -1, 127, -128] },
  { dtype: 'uint8', values: [0, 1, 255, 128, 7] },
  { dtype: 'bool', values: [0, 1, 1, 0] },
  { dtype: 'int16', values: [0, -1, 32767, -32768, 5] },
  { dtype: 'uint16', values: [0, 65535, 32768] },
  { dtype: 'int32', values: [0, -1, 2147483647, -2147483648] },
  { dtype: 'uint32', values: [0, 4294967295, 2147483648] },
  { dtype: 'float32', values: [0, -0, 1.5, NaN, -Infinity, 3.4e38, 1e-45] },
  // half bits: zero, -0, one, subnormals, max, inf, NaN
  { dtype: 'float16', values: [0, 0x8000, 0x3c00, 0x0001, 0x83ff, 0x7bff, 0x7c00, 0xfc00, 0x7e00] },
];

describe('wgsl storage dtypes', () => {
  it('every dtype round-trips through its compute type, with odd lengths and offsets inside words', async () => {
    const specs = CASES.flatMap((c) => [
      { dtype: c.dtype, length: c.values.length },
      { dtype: c.dtype, length: c.values.length + 1 },
    ]);
    const bufs = place(specs);
    const program = programOf(bufs, []);
    // copy A[i] to B[i + 1]: the stores start one element into a word
    program.run = CASES.map((c, k) => ({
      name: c.dtype,
      body: [
        loop('i', c.values.length, [store(bufs[2 * k + 1], add(v('i'), i32(1)), load(bufs[2 * k], v('i')))]),
      ],
    }));
    const inputs = CASES.map((c, k) => ({ buf: bufs[2 * k], data: typed(c.dtype, c.values) }));
    const outputs = CASES.map((_, k) => bufs[2 * k + 1]);
    const { results } = await runBoth(program, inputs, outputs);
    CASES.forEach((c, k) => expectClose(results[k], [0, ...(inputs[k].data as Float32Array)], {}, c.dtype));
  });

  it('narrow stores wrap and narrow loads sign- or zero-extend, like the wasm generator', async () => {
    const vals = Int32Array.from([300, -1, 65537, -129, 5]);
    const bufs = place([
      { dtype: 'int32', length: 5 },
      { dtype: 'int8', length: 5 },
      { dtype: 'uint8', length: 5 },
      { dtype: 'int16', length: 5 },
      { dtype: 'uint16', length: 5 },
      { dtype: 'int32', length: 20 },
    ]);
    const [A, B, C, D, E, R] = bufs;
    const program = programOf(bufs, [
      loop(
        'i',
        5,
        [B, C, D, E].map((buf) => store(buf, v('i'), load(A, v('i')))),
      ),
      loop(
        'i',
        5,
        [B, C, D, E].map((buf, j) => store(R, add(v('i'), i32(5 * j)), load(buf, v('i')))),
      ),
    ] as Stmt[]);
    const { results, wasm } = await runBoth(program, [{ buf: A, data: vals }], bufs.slice(1));
    results.forEach((out, i) => expectClose(out, wasm[i], {}, bufs[i + 1].dtype));
    expect(Array.from(results[0])).toEqual([44, -1, 1, 127, 5]);
  });

  it('float16 stores round to nearest even and saturate to infinity', async () => {
    const values = [
      0,
      -0,
      1,
      1 / 3,
      65504,
      65520,
      1e6,
      -1e6,
      6e-8,
      2e-8,
      3e-8,
      1.00048828125,
      1.00146484375,
      NaN,
    ];
    const bufs = place([
      { dtype: 'float32', length: values.length },
      { dtype: 'float16', length: values.length },
    ]);
    const program = programOf(bufs, [
      loop('i', values.length, [store(bufs[1], v('i'), load(bufs[0], v('i')))]),
    ]);
    const { results } = await runBoth(
      program,
      [{ buf: bufs[0], data: Float32Array.from(values) }],
      [bufs[1]],
    );
    expect(Array.from(results[0])).toEqual(values.map((x) => floatToHalf(Math.fround(x))));
  });
});
