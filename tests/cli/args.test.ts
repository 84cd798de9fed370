import { describe, expect, it } from 'vitest';
import { parseCount, parseNumberList, splitAssignment } from '../../src/cli/args.js';
import { UsageError } from '../../src/cli/errors.js';
import { outputFileName, randomFeed, tensorNumbers } from '../../src/cli/tensors.js';

describe('CLI argument syntax', () => {
  it('splits NAME=FILE at the last =', () => {
    expect(splitAssignment('--input', 'a=b=c.npy', 'u')).toEqual(['a=b', 'c.npy']);
    expect(() => splitAssignment('--input', 'x.npy', 'u')).toThrow(UsageError);
    expect(() => splitAssignment('--input', '=x.npy', 'u')).toThrow(
      '--input expects NAME=VALUE, got "=x.npy"',
    );
  });

  it('parses dims and values, naming the bad part', () => {
    expect(parseNumberList('--shape', 'x=1,3', '1,3', 'u', true)).toEqual([1, 3]);
    expect(parseNumberList('--shape', 'x=', '', 'u', true)).toEqual([]);
    expect(parseNumberList('--const', 'k=0.5,-2', '0.5,-2', 'u', false)).toEqual([0.5, -2]);
    expect(() => parseNumberList('--shape', 'x=1,-3', '1,-3', 'u', true)).toThrow(
      '--shape "x=1,-3": "-3" is not a non-negative integer',
    );
    expect(() => parseNumberList('--const', 'k=1,,2', '1,,2', 'u', false)).toThrow('"" is not a number');
  });

  it('parses counts with defaults and bounds', () => {
    expect(parseCount('--runs', undefined, 50, 1, 'u')).toBe(50);
    expect(parseCount('--warmup', '0', 5, 0, 'u')).toBe(0);
    expect(() => parseCount('--runs', '2.5', 50, 1, 'u')).toThrow('--runs must be an integer ≥ 1, got "2.5"');
  });
});

describe('CLI tensors', () => {
  it('sanitizes output file names as DESIGN.md §3.3 says', () => {
    expect(outputFileName('gpu_0/softmax_1')).toBe('gpu_0_softmax_1.npy');
    expect(outputFileName('a b:c.d-e')).toBe('a_b_c.d-e.npy');
  });

  it('prints float16 bits and int64 as numbers', () => {
    expect(
      tensorNumbers({ dtype: 'float16', dims: [4], data: Uint16Array.of(0x3c00, 0xc000, 0x3555, 0x7c00) }),
    ).toEqual([1, -2, 0.333251953125, Infinity]);
    expect(tensorNumbers({ dtype: 'int64', dims: [2], data: BigInt64Array.of(-3n, 7n) })).toEqual([-3, 7]);
  });

  it('pseudo-random feeds are deterministic and in range', () => {
    const info = { name: 'x', dtype: 'float32' as const, shape: [4, 8] };
    const a = randomFeed(info, 1);
    expect(Array.from(a.data as Float32Array)).toEqual(Array.from(randomFeed(info, 1).data as Float32Array));
    expect(Array.from(a.data as Float32Array)).not.toEqual(
      Array.from(randomFeed(info, 2).data as Float32Array),
    );
    expect((a.data as Float32Array).every((v) => v >= -1 && v < 1)).toBe(true);
    const ids = randomFeed({ name: 'i', dtype: 'int64', shape: [16] }, 3).data as BigInt64Array;
    expect(ids.every((v) => v >= 0n && v < 4n)).toBe(true);
    const halves = tensorNumbers({
      ...randomFeed({ name: 'h', dtype: 'float16', shape: [64] }, 4),
      dtype: 'float16',
    } as never);
    expect(halves.every((v) => Math.abs(v) >= 2 ** -5 && Math.abs(v) < 2)).toBe(true);
  });
});
