/**
 * 2-D float32 Convs with C·kh·kw ≤ 64, or over ≤ 4 channels up to 7×7, as im2col fused into the gemm's B
 * panels (src/ops/nn/conv-panels.ts), against onnxruntime-node: C 1/3/4, M 5/7/10/13/16/24 (gemm row tails),
 * kernel 3/4/5/7, odd H/W (a narrower last panel, widths not a multiple of 4), stride 1/2, pad 0/1/2/3,
 * dilation 2, N = 2, bias or none, fused Relu/Clip, output rows wider than a panel, pads read as zeros
 * without a padded copy (asymmetric, and wider than the kernel reaches); panels whose width is
 * not a multiple of the gemm's 8-column tile run as whole tiles, the last one overlapping. The SIMD128 module runs
 * here; the relaxed-SIMD one (fused multiply-add) in a child process with Node 20's flag
 * (tests/runtime/relaxed-child.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  panelColumnSpans,
  panelConvFits,
  panelConvRows,
  TILE_COLUMNS,
} from '../../src/ops/nn/conv-panels.js';
import { i32 } from '../../src/kernels/build.js';
import type { BufRef, GemmStmt } from '../../src/kernels/ir.js';
import { forEachStmt } from '../../src/kernels/walk.js';
import type { ConvGeometry } from '../../src/ops/nn/conv-geometry.js';
import {
  convModel,
  expectConvMatchesOrt,
  expectRelaxedConvMatchesOrt,
  type ConvCase,
} from '../helpers/conv-case.js';

const cases: Record<string, ConvCase> = {
  'C3 → 16, 3×3 s2 p1, bias, relu (a first layer)': {
    x: [1, 3, 23, 37],
    m: 16,
    k: 3,
    stride: 2,
    pads: [1, 1, 1, 1],
    bias: true,
    act: 'relu',
  },
  'C1 → 5, 3×3 s1 p0, no bias': { x: [1, 1, 13, 11], m: 5, k: 3 },
  'C4 → 24, 3×3 s1 p1, clip, N=2': { x: [2, 4, 15, 17], m: 24, k: 3, pads: [1, 1, 1, 1], act: 'clip' },
  'C3 → 16, 3×3 dilation 2 p1, asymmetric pads, bias': {
    x: [1, 3, 19, 21],
    m: 16,
    k: 3,
    dilation: 2,
    pads: [1, 0, 2, 1],
    bias: true,
  },
  'C3 → 24, 3×3 s2 p0, N=2, relu': { x: [2, 3, 17, 25], m: 24, k: 3, stride: 2, act: 'relu' },
  'C3 → 13, 7×7 s2 p3 (K = 147, a ResNet-style first layer), width 27': {
    x: [1, 3, 29, 53],
    m: 13,
    k: 7,
    stride: 2,
    pads: [3, 3, 3, 3],
    bias: true,
    act: 'relu',
  },
  'C3 → 10, 5×5 s1 p2 (K = 75), width 19, clip': {
    x: [1, 3, 11, 19],
    m: 10,
    k: 5,
    pads: [2, 2, 2, 2],
    bias: true,
    act: 'clip',
  },
  'C1 → 7, 5×5 s2 p1, several rows per panel with a tail panel': {
    x: [1, 1, 31, 13],
    m: 7,
    k: 5,
    stride: 2,
    pads: [1, 1, 1, 1],
  },
  'C3 → 13, 3×3 s2 p1 over 151×153 (output rows wider than a panel), relu': {
    x: [1, 3, 151, 153],
    m: 13,
    k: 3,
    stride: 2,
    pads: [1, 1, 1, 1],
    bias: true,
    act: 'relu',
  },
  'C4 → 5, 4×4 s2 p1 (K = 64), fewer positions than a panel': {
    x: [1, 4, 7, 7],
    m: 5,
    k: 4,
    stride: 2,
    pads: [1, 1, 1, 1],
    bias: true,
  },
  'C3 → 16, 3×3 s2, asymmetric pads (0, 1, 1, 0) over 97×131 (odd: the last column reads the padding)': {
    x: [1, 3, 97, 131],
    m: 16,
    k: 3,
    stride: 2,
    pads: [0, 1, 1, 0],
    bias: true,
    act: 'relu',
  },
  'C1 → 5, 3×3 s1 p3 (whole output rows and columns read only the padding), N=2': {
    x: [2, 1, 9, 10],
    m: 5,
    k: 3,
    pads: [3, 3, 3, 3],
    bias: true,
  },
};

const modelOf = (c: ConvCase) => convModel(c, c.x[1] * 31 + c.k + c.m, Math.sqrt(2 / (c.x[1] * c.k * c.k)));

describe('panel-gathered Conv matches onnxruntime (SIMD128)', () => {
  for (const [name, c] of Object.entries(cases)) it(name, () => expectConvMatchesOrt(c, modelOf(c)));
});

describe('panel-gathered Conv matches onnxruntime (relaxed SIMD, child process)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-conv-panels-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  Object.entries(cases).forEach(([name, c], i) =>
    it(name, () => expectRelaxedConvMatchesOrt(c, modelOf(c), dir, `case${i}`)),
  );
});

describe('panelConvFits', () => {
  const geometry = (C: number, k: number, group = 1, rank = 2): ConvGeometry => ({
    N: 1,
    C,
    M: 16,
    group,
    inSpatial: new Array<number>(rank).fill(32),
    window: {
      kernel: new Array<number>(rank).fill(k),
      strides: new Array<number>(rank).fill(2),
      dilations: new Array<number>(rank).fill(1),
      padBegin: new Array<number>(rank).fill(0),
      padEnd: new Array<number>(rank).fill(0),
      out: new Array<number>(rank).fill(Math.floor((32 - k) / 2) + 1),
    },
  });
  it('takes 2-D ungrouped convs with C·kh·kw ≤ 64, or over ≤ 4 channels up to 7×7, and leaves the rest to im2col', () => {
    expect(panelConvFits(geometry(3, 3))).toBe(true);
    expect(panelConvFits(geometry(7, 3))).toBe(true);
    expect(panelConvFits(geometry(4, 4))).toBe(true);
    expect(panelConvFits(geometry(3, 5))).toBe(true);
    expect(panelConvFits(geometry(3, 7))).toBe(true);
    expect(panelConvFits(geometry(4, 7))).toBe(true);
    expect(panelConvFits(geometry(8, 3))).toBe(false);
    expect(panelConvFits(geometry(5, 5))).toBe(false);
    expect(panelConvFits(geometry(3, 9))).toBe(false);
    expect(panelConvFits(geometry(16, 1))).toBe(false);
    expect(panelConvFits(geometry(4, 3, 2))).toBe(false);
    expect(panelConvFits(geometry(3, 3, 1, 1))).toBe(false);
    expect(panelConvFits(geometry(3, 3, 1, 3))).toBe(false);
  });
});

describe('panel gemms run whole TILE_COLUMNS-column tiles', () => {
  it('splits a panel into whole tiles, the last overlapping the one before, and leaves narrow or whole ones alone', () => {
    const whole = 111 - (111 % TILE_COLUMNS);
    expect(panelColumnSpans(111)).toEqual([
      [0, whole],
      [111 - TILE_COLUMNS, TILE_COLUMNS],
    ]);
    expect(panelColumnSpans(TILE_COLUMNS + 1)).toEqual([
      [0, TILE_COLUMNS],
      [1, TILE_COLUMNS],
    ]);
    expect(panelColumnSpans(9 * TILE_COLUMNS)).toEqual([[0, 9 * TILE_COLUMNS]]);
    expect(panelColumnSpans(TILE_COLUMNS - 1)).toEqual([[0, TILE_COLUMNS - 1]]);
  });

  it("SqueezeNet's first conv (111 wide, 3×3 stride 2 over RGB) gives its gemms no tail columns", () => {
    let id = 0;
    const buf = (length: number): BufRef => ({ id: id++, dtype: 'float32', length });
    const g: ConvGeometry = {
      N: 1,
      C: 3,
      M: 64,
      group: 1,
      inSpatial: [224, 224],
      window: {
        kernel: [3, 3],
        strides: [2, 2],
        dilations: [1, 1],
        padBegin: [0, 0],
        padEnd: [0, 0],
        out: [111, 111],
      },
    };
    const rows = panelConvRows(g, buf(3 * 224 * 224), buf(64 * 27), buf(64), buf, undefined);
    const gemms: GemmStmt[] = [];
    for (const s of rows.rows(i32(0), i32(0), 111, { buf: buf(64 * 111 * 111), at: i32(0), ld: 111 * 111 }))
      forEachStmt(s, (t) => void (t.k === 'gemm' && gemms.push(t)));
    expect(gemms.map((t) => t.N)).toEqual([111 - (111 % TILE_COLUMNS), TILE_COLUMNS]);
    expect(gemms.every((t) => t.N % TILE_COLUMNS === 0)).toBe(true);
  });
});
