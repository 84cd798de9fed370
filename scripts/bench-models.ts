/**
 * Benchmark models shaped like real PyTorch / PaddlePaddle ONNX exports: decomposed ops (hard-swish as
 * `x * HardSigmoid(x)` or `Add → Clip → Div → Mul`, LayerNorm as ReduceMean/Sub/Pow/…, GELU in erf form),
 * BatchNormalization left unfolded in places, Shape → Gather → Unsqueeze → Concat → Reshape chains,
 * Resize by `scales` and by `sizes` computed from Shape, odd channel counts, symbolic input dims. The
 * weights are seeded random (He / LeCun scaled, so activations stay sane); only the graph shapes matter.
 *
 * Each builder takes parameters so the tests can build the same graph structure small
 * (tests/bench-models.test.ts); `npm run bench` writes the full-size models into `.kiln/bench-models/`,
 * keyed by a hash of this file and the ONNX builder, so they are regenerated when either changes.
 *
 *   npx tsx scripts/bench-models.ts     # (re)generate the cache and print the paths
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { buildModel, seededRandom, type AttrSpec, type NodeSpec } from '../tests/helpers/onnx-builder.js';
import { tensorFromNumbers, type HostTensor } from '../src/ir/tensor.js';
import type { DType } from '../src/ir/dtype.js';
import type { BenchInput } from './bench/feeds.js';

export { benchFeed, benchFeeds, type BenchInput } from './bench/feeds.js';

export interface BenchModel {
  name: string;
  bytes: Uint8Array;
  inputs: BenchInput[];
}

/** A graph under construction: nodes, initializers, fresh value names, seeded weights. */
export class Net {
  readonly nodes: NodeSpec[] = [];
  readonly initializers: { name: string; tensor: HostTensor }[] = [];
  private count = 0;
  private readonly rand: () => number;

  constructor(seed: number) {
    this.rand = seededRandom(seed);
  }

  fresh(hint: string): string {
    return `${hint}_${this.count++}`;
  }

  op(op: string, inputs: string[], attrs?: Record<string, AttrSpec>, hint = op.toLowerCase()): string {
    const out = this.fresh(hint);
    this.nodes.push({ op, inputs, outputs: [out], attrs, name: `${op}_${this.count}` });
    return out;
  }

  /** uniform in [-limit, limit) */
  uniform(dims: number[], limit: number, hint = 'w'): string {
    const n = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = (this.rand() * 2 - 1) * limit;
    return this.init({ dtype: 'float32', dims, data }, hint);
  }

  /** uniform in [lo, hi) */
  between(dims: number[], lo: number, hi: number, hint: string): string {
    const n = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = lo + this.rand() * (hi - lo);
    return this.init({ dtype: 'float32', dims, data }, hint);
  }

  init(tensor: HostTensor, hint: string): string {
    const name = this.fresh(hint);
    this.initializers.push({ name, tensor });
    return name;
  }

  /** A scalar or small constant as a Constant node, the way PyTorch's exporter writes literals. */
  constant(dtype: DType, dims: number[], values: number[]): string {
    return this.op('Constant', [], { value: { t: tensorFromNumbers(dtype, dims, values) } }, 'const');
  }

  f32(v: number): string {
    return this.constant('float32', [], [v]);
  }

  i64s(values: number[]): string {
    return this.constant('int64', [values.length], values);
  }

  /** Conv with He-uniform weights; a bias unless BN follows (exporters fold some BNs, leave others). */
  conv(
    x: string,
    cin: number,
    cout: number,
    o: {
      k?: number | [number, number];
      stride?: number | [number, number];
      group?: number;
      bias?: boolean;
    } = {},
  ): string {
    const [kh, kw] = typeof o.k === 'number' || o.k === undefined ? [o.k ?? 1, o.k ?? 1] : o.k;
    const [sh, sw] =
      typeof o.stride === 'number' || o.stride === undefined ? [o.stride ?? 1, o.stride ?? 1] : o.stride;
    const group = o.group ?? 1;
    const fanIn = (cin / group) * kh * kw;
    const w = this.uniform([cout, cin / group, kh, kw], Math.sqrt(6 / fanIn), 'conv.weight');
    const inputs = o.bias === false ? [x, w] : [x, w, this.uniform([cout], 0.1, 'conv.bias')];
    const ph = (kh - 1) >> 1;
    const pw = (kw - 1) >> 1;
    return this.op('Conv', inputs, {
      dilations: { ints: [1, 1] },
      group: { i: group },
      kernel_shape: { ints: [kh, kw] },
      pads: { ints: [ph, pw, ph, pw] },
      strides: { ints: [sh, sw] },
    });
  }

  /** An unfolded BatchNormalization (inference form, running statistics). */
  bn(x: string, c: number): string {
    return this.op(
      'BatchNormalization',
      [
        x,
        this.between([c], 0.6, 1.2, 'bn.weight'),
        this.uniform([c], 0.1, 'bn.bias'),
        this.uniform([c], 0.1, 'bn.running_mean'),
        this.between([c], 0.6, 1.4, 'bn.running_var'),
      ],
      { epsilon: { f: 1e-5 }, momentum: { f: 0.9 } },
    );
  }

  /** Conv then either an unfolded BN or a folded one (a biased conv), then an activation. */
  convBnAct(
    x: string,
    cin: number,
    cout: number,
    o: Parameters<Net['conv']>[3] & { unfoldedBn?: boolean; act?: Activation },
  ): string {
    const y = o.unfoldedBn
      ? this.bn(this.conv(x, cin, cout, { ...o, bias: false }), cout)
      : this.conv(x, cin, cout, { ...o, bias: true });
    return this.act(y, o.act ?? 'none');
  }

  act(x: string, a: Activation): string {
    switch (a) {
      case 'none':
        return x;
      case 'relu':
        return this.op('Relu', [x]);
      case 'hardswish': // torch.nn.Hardswish at opset < 14, Paddle's hard_swish: x * HardSigmoid(x)
        return this.op('Mul', [x, this.op('HardSigmoid', [x], { alpha: { f: 1 / 6 }, beta: { f: 0.5 } })]);
      case 'hardswish-decomposed': // x * relu6(x + 3) / 6, as traced from a hand-written hswish
        return this.op('Mul', [
          x,
          this.op('Div', [
            this.op('Clip', [this.op('Add', [x, this.f32(3)]), this.f32(0), this.f32(6)]),
            this.f32(6),
          ]),
        ]);
      case 'gelu-erf': // x * 0.5 * (1 + erf(x / sqrt(2))), as torch.nn.GELU exports before opset 20
        return this.op('Mul', [
          this.op('Mul', [
            x,
            this.op('Add', [this.op('Erf', [this.op('Div', [x, this.f32(Math.SQRT2)])]), this.f32(1)]),
          ]),
          this.f32(0.5),
        ]);
    }
  }

  /** Linear layer: MatMul with a [in, out] weight, then Add of the bias (how exporters write nn.Linear on 3-D inputs). */
  linear(x: string, cin: number, cout: number): string {
    const w = this.uniform([cin, cout], Math.sqrt(3 / cin), 'linear.weight');
    return this.op('Add', [this.op('MatMul', [x, w]), this.uniform([cout], 0.05, 'linear.bias')]);
  }

  /** LayerNorm over the last axis, decomposed as exporters before opset 17 (and Paddle) write it. */
  layerNorm(x: string, c: number, eps: number): string {
    const mean = this.op('ReduceMean', [x], { axes: { ints: [-1] }, keepdims: { i: 1 } });
    const d = this.op('Sub', [x, mean]);
    const variance = this.op('ReduceMean', [this.op('Pow', [d, this.f32(2)])], {
      axes: { ints: [-1] },
      keepdims: { i: 1 },
    });
    const normed = this.op('Div', [d, this.op('Sqrt', [this.op('Add', [variance, this.f32(eps)])])]);
    return this.op('Add', [
      this.op('Mul', [normed, this.between([c], 0.8, 1.2, 'ln.weight')]),
      this.uniform([c], 0.05, 'ln.bias'),
    ]);
  }

  /** `x.shape[axis]` as a 1-element int64 tensor: Shape → Gather → Unsqueeze, as traced from Python ints. */
  dim(x: string, axis: number): string {
    const shape = this.op('Shape', [x]);
    const scalar = this.op('Gather', [shape, this.constant('int64', [], [axis])], { axis: { i: 0 } });
    return this.op('Unsqueeze', [scalar, this.i64s([0])]);
  }

  /** Reshape to a shape assembled at run time from dims and literals (the exporters' Concat chain). */
  reshapeTo(x: string, parts: (string | number)[]): string {
    const pieces = parts.map((p) => (typeof p === 'number' ? this.i64s([p]) : p));
    return this.op('Reshape', [x, this.op('Concat', pieces, { axis: { i: 0 } })]);
  }

  transpose(x: string, perm: number[]): string {
    return this.op('Transpose', [x], { perm: { ints: perm } });
  }
}

export type Activation = 'none' | 'relu' | 'hardswish' | 'hardswish-decomposed' | 'gelu-erf';

/** The finished ONNX file (opset 13): graph outputs renamed as exporters name them. */
export function model(
  net: Net,
  name: string,
  inputs: { name: string; dtype: DType; shape: (number | string)[] }[],
  outputs: { name: string; from: string }[],
): Uint8Array {
  // rename the producing values to the output names, as exporters name graph outputs
  for (const { name: out, from } of outputs)
    for (const n of net.nodes) n.outputs = n.outputs.map((o) => (o === from ? out : o));
  for (const n of net.nodes) n.inputs = n.inputs.map((i) => outputs.find((o) => o.from === i)?.name ?? i);
  return buildModel({
    name,
    opset: 13,
    inputs,
    outputs: outputs.map((o) => ({ name: o.name, dtype: 'float32' as DType })),
    initializers: net.initializers,
    nodes: net.nodes,
  });
}

const makeDivisible = (v: number) => Math.max(8, Math.round(v / 8) * 8);

/**
 * MobileNetV3-small as a text-line orientation classifier (PaddleOCR cls style), input 1×3×48×192.
 * `blocks` trims the inverted-residual list for small test variants.
 */
export function mobilenetV3Cls(p: { height?: number; width?: number; blocks?: number } = {}): BenchModel {
  const [H, W] = [p.height ?? 48, p.width ?? 192];
  const net = new Net(101);
  // kernel, expanded channels, out channels, squeeze-excite, activation, stride (torchvision's small config)
  const config: [number, number, number, boolean, Activation, number][] = [
    [3, 16, 16, true, 'relu', 2],
    [3, 72, 24, false, 'relu', 2],
    [3, 88, 24, false, 'relu', 1],
    [5, 96, 40, true, 'hardswish', 2],
    [5, 240, 40, true, 'hardswish', 1],
    [5, 240, 40, true, 'hardswish-decomposed', 1],
    [5, 120, 48, true, 'hardswish', 1],
    [5, 144, 48, true, 'hardswish-decomposed', 1],
    [5, 288, 96, true, 'hardswish', 2],
    [5, 576, 96, true, 'hardswish', 1],
    [5, 576, 96, true, 'hardswish-decomposed', 1],
  ];
  const blocks = config.slice(0, p.blocks ?? config.length);
  let x = net.convBnAct('x', 3, 16, { k: 3, stride: 2, unfoldedBn: true, act: 'hardswish' });
  let c = 16;
  for (const [i, [k, exp, out, se, act, stride]] of blocks.entries()) {
    const unfoldedBn = i % 3 === 0; // most BNs folded into the conv, some left as exported from training
    const input = x;
    let h = exp === c ? x : net.convBnAct(x, c, exp, { unfoldedBn, act });
    h = net.convBnAct(h, exp, exp, { k, stride, group: exp, unfoldedBn, act });
    if (se) {
      const squeeze = makeDivisible(exp / 4);
      const s = net.op('GlobalAveragePool', [h]);
      const r = net.op('Relu', [net.conv(s, exp, squeeze)]);
      // Paddle's hardsigmoid has slope 0.2; torch's has 1/6: both appear in exported models
      const alpha = i % 2 ? 0.2 : 1 / 6;
      const gate = net.op('HardSigmoid', [net.conv(r, squeeze, exp)], {
        alpha: { f: alpha },
        beta: { f: 0.5 },
      });
      h = net.op('Mul', [h, gate]);
    }
    h = net.convBnAct(h, exp, out, { unfoldedBn, act: 'none' });
    x = stride === 1 && c === out ? net.op('Add', [input, h]) : h;
    c = out;
  }
  const last = 576;
  x = net.convBnAct(x, c, last, { unfoldedBn: true, act: 'hardswish' });
  const pooled = net.op('Flatten', [net.op('GlobalAveragePool', [x])], { axis: { i: 1 } });
  const classes = 4;
  const logits = net.op(
    'Gemm',
    [pooled, net.uniform([classes, last], Math.sqrt(3 / last)), net.uniform([classes], 0.05)],
    { alpha: { f: 1 }, beta: { f: 1 }, transB: { i: 1 } },
  );
  const probs = net.op('Softmax', [logits], { axis: { i: 1 } });
  return {
    name: 'mobilenetv3-cls',
    bytes: model(
      net,
      'mobilenetv3-cls',
      [{ name: 'x', dtype: 'float32', shape: ['batch', 3, H, W] }],
      [{ name: 'softmax_0.tmp_0', from: probs }],
    ),
    inputs: [{ name: 'x', dtype: 'float32', dims: [1, 3, H, W], fill: 'image' }],
  };
}

/**
 * DBNet text detector (PaddleOCR det style): ResNet-18-ish backbone, FPN, DB head; input 1×3×640×640,
 * ≈ 3.5 GFLOP. `blocksPerStage` shrinks it for tests; the size must be a multiple of 32.
 */
export function dbnetDet(p: { size?: number; blocksPerStage?: number } = {}): BenchModel {
  const S = p.size ?? 640;
  const perStage = p.blocksPerStage ?? 2;
  const net = new Net(202);
  const widths = [16, 40, 88, 184];
  let x = net.convBnAct('x', 3, widths[0], { k: 3, stride: 2, unfoldedBn: true, act: 'relu' });
  x = net.op('MaxPool', [x], {
    kernel_shape: { ints: [3, 3] },
    pads: { ints: [1, 1, 1, 1] },
    strides: { ints: [2, 2] },
  });
  let c = widths[0];
  const features: string[] = [];
  for (const [stage, width] of widths.entries()) {
    for (let b = 0; b < perStage; b++) {
      const stride = stage > 0 && b === 0 ? 2 : 1;
      const h = net.convBnAct(x, c, width, { k: 3, stride, unfoldedBn: true, act: 'relu' });
      const y = net.convBnAct(h, width, width, { k: 3, unfoldedBn: true, act: 'none' });
      const shortcut =
        stride === 1 && c === width ? x : net.convBnAct(x, c, width, { stride, unfoldedBn: true });
      x = net.op('Relu', [net.op('Add', [y, shortcut])]);
      c = width;
    }
    features.push(x);
  }
  // FPN: 1×1 laterals, top-down upsampling + Add
  const inner = 48;
  const [in2, in3, in4, in5] = features.map((f, i) => net.conv(f, widths[i], inner, { bias: false }));
  const emptyRoi = net.init({ dtype: 'float32', dims: [0], data: new Float32Array(0) }, 'roi');
  const upByScale = (v: string, scale: number) =>
    net.op('Resize', [v, emptyRoi, net.constant('float32', [4], [1, 1, scale, scale])], {
      coordinate_transformation_mode: { s: 'asymmetric' },
      mode: { s: 'nearest' },
      nearest_mode: { s: 'floor' },
    });
  // F.interpolate(v, size=like.shape[2:]): sizes = Concat(Shape(v)[:2], Shape(like)[2:])
  const upLike = (v: string, like: string) => {
    const nc = net.op('Slice', [net.op('Shape', [v]), net.i64s([0]), net.i64s([2]), net.i64s([0])]);
    const hw = net.op('Slice', [net.op('Shape', [like]), net.i64s([2]), net.i64s([4]), net.i64s([0])]);
    const sizes = net.op('Concat', [nc, hw], { axis: { i: 0 } });
    return net.op('Resize', [v, '', '', sizes], {
      coordinate_transformation_mode: { s: 'asymmetric' },
      mode: { s: 'nearest' },
      nearest_mode: { s: 'floor' },
    });
  };
  const out4 = net.op('Add', [in4, upByScale(in5, 2)]);
  const out3 = net.op('Add', [in3, upLike(out4, in3)]);
  const out2 = net.op('Add', [in2, upByScale(out3, 2)]);
  const q = inner / 4;
  const p5 = upByScale(net.conv(in5, inner, q, { k: 3, bias: false }), 8);
  const p4 = upByScale(net.conv(out4, inner, q, { k: 3, bias: false }), 4);
  const p3 = upByScale(net.conv(out3, inner, q, { k: 3, bias: false }), 2);
  const p2 = net.conv(out2, inner, q, { k: 3, bias: false });
  const fuse = net.op('Concat', [p5, p4, p3, p2], { axis: { i: 1 } });
  return dbHead(net, 'dbnet-det', fuse, inner, S);
}

/**
 * DBNet's head (the probability branch) over the fused FPN maps: 3×3 conv + BN + Relu, two stride-2
 * ConvTransposes (the second to one channel), Sigmoid; the model's input is 1×3×S×S.
 */
export function dbHead(net: Net, name: string, fuse: string, inner: number, S: number): BenchModel {
  const q = inner / 4;
  let h = net.convBnAct(fuse, inner, q, { k: 3, unfoldedBn: true, act: 'relu' });
  const convT = (v: string, cin: number, cout: number) =>
    net.op(
      'ConvTranspose',
      [v, net.uniform([cin, cout, 2, 2], Math.sqrt(6 / (cin * 4))), net.uniform([cout], 0.1)],
      {
        kernel_shape: { ints: [2, 2] },
        strides: { ints: [2, 2] },
      },
    );
  h = net.op('Relu', [net.bn(convT(h, q, q), q)]);
  const maps = net.op('Sigmoid', [convT(h, q, 1)]);
  return {
    name,
    bytes: model(
      net,
      name,
      [{ name: 'x', dtype: 'float32', shape: ['batch', 3, 'height', 'width'] }],
      [{ name: 'sigmoid_0.tmp_0', from: maps }],
    ),
    inputs: [{ name: 'x', dtype: 'float32', dims: [1, 3, S, S], fill: 'image' }],
  };
}

/**
 * Text recognizer (PP-OCRv3 / SVTR-lite style): conv stages with depthwise convs and hard-swish, an
 * AvgPool to one row, the Shape → Reshape → Transpose to a sequence, `blocks` transformer blocks (dim
 * 120, 8 heads of 15, SVTR's 5-D qkv reshape), a 97-class MatMul and Softmax. Input 1×3×48×320 (T = 40).
 */
export function crnnRec(p: { width?: number; blocks?: number } = {}): BenchModel {
  const W = p.width ?? 320;
  const net = new Net(303);
  const [dim, heads, classes] = [120, 8, 97];
  const headDim = dim / heads;
  let x = net.convBnAct('x', 3, 32, { k: 3, stride: 2, unfoldedBn: true, act: 'hardswish' });
  // depthwise-separable stages; strides (2,1) keep the width for the sequence, as PP-OCR's rec backbones do
  const stages: [number, number | [number, number], Activation][] = [
    [64, 1, 'hardswish'],
    [96, 2, 'hardswish'],
    [120, [2, 1], 'hardswish-decomposed'],
    [184, [2, 1], 'relu'],
  ];
  let c = 32;
  for (const [i, [out, stride, act]] of stages.entries()) {
    x = net.convBnAct(x, c, c, { k: 3, stride, group: c, unfoldedBn: i % 2 === 0, act });
    x = net.convBnAct(x, c, out, { unfoldedBn: true, act });
    c = out;
  }
  // 3 × W/4 → 1 × W/8
  x = net.op('AveragePool', [x], { kernel_shape: { ints: [3, 2] }, strides: { ints: [3, 2] } });
  x = net.convBnAct(x, c, dim, { unfoldedBn: true, act: 'hardswish' });
  // x.flatten(2).transpose(1, 2) with the batch and channel read from the shape
  let seq = net.transpose(net.reshapeTo(x, [net.dim(x, 0), net.dim(x, 1), -1]), [0, 2, 1]);
  for (let b = 0; b < (p.blocks ?? 2); b++) {
    const n1 = net.layerNorm(seq, dim, 1e-6);
    const qkv = net.linear(n1, dim, 3 * dim);
    // qkv.reshape((0, -1, 3, heads, head_dim)).transpose((2, 0, 3, 1, 4))
    const split = net.transpose(
      net.reshapeTo(qkv, [net.dim(qkv, 0), -1, 3, heads, headDim]),
      [2, 0, 3, 1, 4],
    );
    const pick = (i: number) => net.op('Gather', [split, net.constant('int64', [], [i])], { axis: { i: 0 } });
    const [q, k, v] = [pick(0), pick(1), pick(2)];
    const scores = net.op('Mul', [
      net.op('MatMul', [q, net.transpose(k, [0, 1, 3, 2])]),
      net.f32(headDim ** -0.5),
    ]);
    const attn = net.op('MatMul', [net.op('Softmax', [scores], { axis: { i: -1 } }), v]);
    const merged = net.reshapeTo(net.transpose(attn, [0, 2, 1, 3]), [net.dim(attn, 0), -1, dim]);
    seq = net.op('Add', [seq, net.linear(merged, dim, dim)]);
    const n2 = net.layerNorm(seq, dim, 1e-6);
    seq = net.op('Add', [seq, net.linear(net.act(net.linear(n2, dim, 2 * dim), 'gelu-erf'), 2 * dim, dim)]);
  }
  const logits = net.linear(net.layerNorm(seq, dim, 1e-6), dim, classes);
  const probs = net.op('Softmax', [logits], { axis: { i: 2 } });
  return {
    name: 'crnn-rec',
    bytes: model(
      net,
      'crnn-rec',
      [{ name: 'x', dtype: 'float32', shape: ['batch', 3, 48, 'width'] }],
      [{ name: 'softmax_2.tmp_0', from: probs }],
    ),
    inputs: [{ name: 'x', dtype: 'float32', dims: [1, 3, 48, W], fill: 'image' }],
  };
}

/**
 * BERT encoder as Hugging Face's exporter writes MiniLM-L6 (6 layers, hidden 384, 12 heads, FFN 1536;
 * ≈ 2.9 GFLOP at sequence 128, ~90 MB of weights): embeddings by Gather (position and token-type ids
 * sliced from buffers by the sequence length), the additive mask from attention_mask, post-LN layers.
 */
export function bertEncoder(
  p: { sequence?: number; layers?: number; hidden?: number; heads?: number; vocab?: number } = {},
): BenchModel {
  const [S, layers, hidden, heads, vocab] = [
    p.sequence ?? 128,
    p.layers ?? 6,
    p.hidden ?? 384,
    p.heads ?? 12,
    p.vocab ?? 30522,
  ];
  const [ffn, maxPositions] = [hidden * 4, 512];
  const headDim = hidden / heads;
  const net = new Net(404);
  const ids = 'input_ids';
  const seqLen = net.dim(ids, 1);
  const positionIds = net.init(
    tensorFromNumbers('int64', [1, maxPositions], [...Array(maxPositions).keys()]),
    'position_ids',
  );
  const tokenTypeIds = net.init(
    tensorFromNumbers('int64', [1, maxPositions], new Array(maxPositions).fill(0)),
    'token_type_ids',
  );
  const sliceSeq = (buffer: string) =>
    net.op('Slice', [buffer, net.i64s([0]), seqLen, net.i64s([1]), net.i64s([1])]);
  const embed = (table: string, indices: string) => net.op('Gather', [table, indices], { axis: { i: 0 } });
  let x = net.op('Add', [
    net.op('Add', [
      embed(net.uniform([vocab, hidden], 0.05, 'word_embeddings'), ids),
      embed(net.uniform([2, hidden], 0.05, 'token_type_embeddings'), sliceSeq(tokenTypeIds)),
    ]),
    embed(net.uniform([maxPositions, hidden], 0.05, 'position_embeddings'), sliceSeq(positionIds)),
  ]);
  x = net.layerNorm(x, hidden, 1e-12);
  // extended mask: (1 - mask[:, None, None, :].float()) * torch.finfo(float32).min
  const mask4 = net.op('Cast', [net.op('Unsqueeze', ['attention_mask', net.i64s([1, 2])])], { to: { i: 1 } });
  const bias = net.op('Mul', [net.op('Sub', [net.f32(1), mask4]), net.f32(-3.4028234663852886e38)]);
  const toHeads = (v: string) =>
    net.transpose(net.reshapeTo(v, [net.dim(v, 0), net.dim(v, 1), heads, headDim]), [0, 2, 1, 3]);
  for (let l = 0; l < layers; l++) {
    const q = toHeads(net.linear(x, hidden, hidden));
    const k = toHeads(net.linear(x, hidden, hidden));
    const v = toHeads(net.linear(x, hidden, hidden));
    const scores = net.op('Div', [
      net.op('MatMul', [q, net.transpose(k, [0, 1, 3, 2])]),
      net.f32(Math.sqrt(headDim)),
    ]);
    const probs = net.op('Softmax', [net.op('Add', [scores, bias])], { axis: { i: -1 } });
    const ctx = net.transpose(net.op('MatMul', [probs, v]), [0, 2, 1, 3]);
    const merged = net.reshapeTo(ctx, [net.dim(ctx, 0), net.dim(ctx, 1), hidden]);
    x = net.layerNorm(net.op('Add', [net.linear(merged, hidden, hidden), x]), hidden, 1e-12);
    const up = net.act(net.linear(x, hidden, ffn), 'gelu-erf');
    x = net.layerNorm(net.op('Add', [net.linear(up, ffn, hidden), x]), hidden, 1e-12);
  }
  return {
    name: 'bert-enc',
    bytes: model(
      net,
      'bert-enc',
      [
        { name: 'input_ids', dtype: 'int64', shape: ['batch', 'sequence'] },
        { name: 'attention_mask', dtype: 'int64', shape: ['batch', 'sequence'] },
      ],
      [{ name: 'last_hidden_state', from: x }],
    ),
    inputs: [
      { name: 'input_ids', dtype: 'int64', dims: [1, S], fill: 'ids', vocab },
      { name: 'attention_mask', dtype: 'int64', dims: [1, S], fill: 'mask' },
    ],
  };
}

/** The four generated benchmark models at full size. */
export const BENCH_MODELS: Record<string, () => BenchModel> = {
  'mobilenetv3-cls': () => mobilenetV3Cls(),
  'dbnet-det': () => dbnetDet(),
  'crnn-rec': () => crnnRec(),
  'bert-enc': () => bertEncoder(),
};

const root = resolve(import.meta.dirname, '..');

/** The cache folder for this version of the generator: `.kiln/bench-models/<hash>`. */
function cacheDir(): string {
  const hash = createHash('sha256');
  for (const f of ['scripts/bench-models.ts', 'tests/helpers/onnx-builder.ts'])
    hash.update(readFileSync(join(root, f)));
  return join(root, '.kiln/bench-models', hash.digest('hex').slice(0, 16));
}

/** Write the models missing from the cache; returns name → { path, inputs }. */
export function ensureBenchModels(
  names: string[] = Object.keys(BENCH_MODELS),
  log: (line: string) => void = () => {},
): Record<string, { path: string; inputs: BenchInput[] }> {
  const dir = cacheDir();
  mkdirSync(dir, { recursive: true });
  // models from older versions of the generator (BERT alone is ~90 MB) go
  for (const old of readdirSync(dirname(dir)))
    if (join(dirname(dir), old) !== dir) rmSync(join(dirname(dir), old), { recursive: true, force: true });
  const out: Record<string, { path: string; inputs: BenchInput[] }> = {};
  for (const name of names) {
    const path = join(dir, `${name}.onnx`);
    const meta = join(dir, `${name}.json`);
    if (!existsSync(path) || !existsSync(meta)) {
      log(`${name}: generating ${path}`);
      const m = BENCH_MODELS[name]();
      writeFileSync(`${path}.tmp`, m.bytes);
      renameSync(`${path}.tmp`, path);
      writeFileSync(meta, JSON.stringify(m.inputs));
    }
    out[name] = { path, inputs: JSON.parse(readFileSync(meta, 'utf8')) as BenchInput[] };
  }
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename))
  for (const [name, { path }] of Object.entries(ensureBenchModels(undefined, (l) => console.error(l))))
    console.log(`${name}\t${path}`);
