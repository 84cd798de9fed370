/** serve's datatype table and version; float16 conversion matches the reference; JSON data checks (shared with the runtime). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DATATYPE_OF } from '../../src/serve/datatypes.js';
import { SERVER_VERSION } from '../../src/serve/version.js';
import {
  flattenData,
  jsonFromTyped,
  MAX_DATA_DEPTH,
  quoted,
  typedFromBytes,
} from '../../src/serve/tensors.js';
import { halfBitsFromNumber, numberFromHalfBits, typedFromValues } from '../../src/runtime/element-values.js';
import { floatToHalf, halfToFloat } from '../../src/ir/float16.js';
import { ROOT } from './fixture.js';

const values = (data: ArrayLike<number | bigint>) => Array.from(data);

describe('serve tables', () => {
  it('names the protocol datatype of every numeric dtype', () => {
    expect(DATATYPE_OF).toEqual({
      bool: 'BOOL',
      uint8: 'UINT8',
      uint16: 'UINT16',
      uint32: 'UINT32',
      uint64: 'UINT64',
      int8: 'INT8',
      int16: 'INT16',
      int32: 'INT32',
      int64: 'INT64',
      float16: 'FP16',
      float32: 'FP32',
      float64: 'FP64',
    });
  });

  it("the server version is package.json's", () => {
    expect(SERVER_VERSION).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  });
});

describe('float16', () => {
  it('rounds like the reference for normals, subnormals, ties, overflow, infinities and NaN', () => {
    const values = [
      0,
      -0,
      1,
      -1,
      0.1,
      65504,
      65520,
      1e6,
      2 ** -24,
      2 ** -25,
      3 * 2 ** -26,
      6e-8,
      1 + 2 ** -11,
      1 + 3 * 2 ** -11,
      Infinity,
      -Infinity,
    ];
    for (let i = 0; i < 2000; i++) values.push(Math.sin(i) * 10 ** ((i % 12) - 6));
    for (const v of values) expect(halfBitsFromNumber(v), String(v)).toBe(floatToHalf(v));
    expect(halfBitsFromNumber(NaN) & 0x7c00).toBe(0x7c00);
    for (let bits = 0; bits < 0x10000; bits += 7)
      expect(Object.is(numberFromHalfBits(bits), halfToFloat(bits))).toBe(true);
  });
});

describe('tensor data', () => {
  it('checks integer ranges per datatype', () => {
    expect(values(typedFromValues('t', 'uint8', [0, 255]))).toEqual([0, 255]);
    expect(() => typedFromValues('t', 'uint8', [256])).toThrow(
      /t: element 0 is 256, expected an integer in \[0, 255\]/,
    );
    expect(() => typedFromValues('t', 'int16', [1.5])).toThrow(/expected an integer/);
    expect(() => typedFromValues('t', 'uint32', [-1])).toThrow(/\[0, 4294967295\]/);
    expect(() => typedFromValues('t', 'int64', [2 ** 60])).toThrow(/expected an integer in/);
    expect(() => typedFromValues('t', 'bool', [1])).toThrow(/expected true or false/);
    expect(values(typedFromValues('t', 'uint64', [2 ** 53 - 1]))).toEqual([2n ** 53n - 1n]);
  });

  it('carries non-finite floats as strings both ways', () => {
    const data = typedFromValues('t', 'float32', ['NaN', 'Infinity', '-Infinity', 2]);
    expect(values(data)).toEqual([NaN, Infinity, -Infinity, 2]);
    expect(jsonFromTyped('float32', data)).toEqual(['NaN', 'Infinity', '-Infinity', 2]);
    expect(() => typedFromValues('t', 'float64', ['inf'])).toThrow(/expected a number/);
  });

  it('flattens nested data row-major up to MAX_DATA_DEPTH arrays deep, and refuses deeper', () => {
    expect(flattenData('t', [1, [2, [3, [4]]], [], [[5], 6]])).toEqual([1, 2, 3, 4, 5, 6]);
    const nested = (depth: number) => {
      let data: unknown = [7, 8];
      for (let d = 1; d < depth; d++) data = [data, [9]];
      return data;
    };
    expect(flattenData('t', nested(MAX_DATA_DEPTH))).toEqual([
      7,
      8,
      ...new Array(MAX_DATA_DEPTH - 1).fill(9),
    ]);
    expect(() => flattenData('input "x"', nested(MAX_DATA_DEPTH + 1))).toThrow(
      `input "x": "data" nests arrays more than ${MAX_DATA_DEPTH} deep`,
    );
  });

  it('quotes request values in messages without walking nested ones, and cuts long ones', () => {
    expect(quoted('FLOAT')).toBe('"FLOAT"');
    expect(quoted([1, -64])).toBe('[1,-64]');
    expect(quoted(undefined)).toBe('nothing');
    expect(quoted([[1]])).toBe('an array');
    expect(quoted({ a: 1 })).toBe('an object');
    expect(quoted(new Array(17).fill(0))).toBe('an array');
    expect(quoted('x'.repeat(200))).toBe(`"${'x'.repeat(78)}…`);
  });

  it('binary BOOL bytes become 0 or 1', () => {
    expect(values(typedFromBytes('bool', Uint8Array.of(0, 7, 1, 255)))).toEqual([0, 1, 1, 1]);
  });
});
