/**
 * Exporter-shaped models that are NOT the bench's own (scripts/bench-models.ts), for the performance
 * survey (scripts/perf/survey.ts, issue #18): a tuning that only helps the bench models shows up here as
 * no change. Built with the bench's graph builder (`Net`), seeded random weights, full size by default;
 * each builder takes parameters so tests/survey-models.test.ts can build the same structure small.
 *
 * - pplcnet-cls: PP-LCNet-style classifier (Paddle): depthwise 3×3 / 5×5 at stride 2, SE with HardSigmoid
 *   (slope 0.2), HardSwish as x·HardSigmoid, channels 24/48/96/192/360, input 48×192.
 * - svtr-rec: SVTR-tiny-style recognizer: conv stem, transformer blocks on 960 then 480 tokens (decomposed
 *   LayerNorm, Shape→Gather→Concat→Reshape, Transpose, Softmax attention), a merging conv between the
 *   stages written as Transpose→Reshape back to NCHW, input 48×320.
 * - dbnet-mv3-det: MobileNetV3-large ×0.5 backbone + FPN with Resize nearest ×2 (scales) and bilinear
 *   (half_pixel, align_corners false) + ConvTranspose ×2 + Sigmoid, input 640×640.
 * - bert-mini: 4 post-LN layers, hidden 384, 12 heads of 32, sequence 96, GELU via Erf, additive mask via
 *   Unsqueeze/Cast/Sub/Mul (-10000), query pre-scaled and key permuted (0,2,3,1) as older HF exports do.
 * - tf-mobilenet: tf2onnx-style MobileNetV2 ×0.5: NHWC input with a Transpose, ReLU6 as Clip, Pad nodes
 *   before the stride-2 convs (pads 0 on the Conv), SAME-like explicit asymmetric pads elsewhere, input 160×160.
 *
 *   npx tsx scripts/perf/survey-models.ts [DIR]    # writes DIR/<name>.onnx (default .kiln/survey-models)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Net, dbHead, model, type Activation, type BenchModel } from '../bench-models.js';

const makeDivisible = (v: number) => Math.max(8, Math.round(v / 8) * 8);

/** Squeeze-excite as Paddle writes it: GAP → 1×1 conv → ReLU → 1×1 conv → HardSigmoid(0.2, 0.5) → Mul. */
function squeezeExcite(net: Net, x: string, c: number, reduce = 4): string {
  const mid = makeDivisible(c / reduce);
  const s = net.op('Relu', [net.conv(net.op('GlobalAveragePool', [x]), c, mid)]);
  const gate = net.op('HardSigmoid', [net.conv(s, mid, c)], { alpha: { f: 0.2 }, beta: { f: 0.5 } });
  return net.op('Mul', [x, gate]);
}

/** PP-LCNet-style text-line classifier, input 1×3×H×W (48×192). `blocks` trims the block list for tests. */
export function pplcnetCls(p: { height?: number; width?: number; blocks?: number } = {}): BenchModel {
  const [H, W] = [p.height ?? 48, p.width ?? 192];
  const net = new Net(1801);
  // kernel, in, out, stride, squeeze-excite (PP-LCNet's NET_CONFIG at scale 0.75, the last stage 360 wide)
  const config: [number, number, number, number, boolean][] = [
    [3, 16, 24, 1, false],
    [3, 24, 48, 2, false],
    [3, 48, 48, 1, false],
    [3, 48, 96, 2, false],
    [3, 96, 96, 1, false],
    [3, 96, 192, 2, false],
    [5, 192, 192, 1, false],
    [5, 192, 192, 1, false],
    [5, 192, 192, 1, false],
    [5, 192, 360, 2, true],
    [5, 360, 360, 1, true],
  ];
  let x = net.convBnAct('x', 3, 16, { k: 3, stride: 2, act: 'hardswish' });
  for (const [i, [k, cin, cout, stride, se]] of config.slice(0, p.blocks ?? config.length).entries()) {
    x = net.convBnAct(x, cin, cin, { k, stride, group: cin, unfoldedBn: i % 4 === 0, act: 'hardswish' });
    if (se) x = squeezeExcite(net, x, cin);
    x = net.convBnAct(x, cin, cout, { unfoldedBn: i % 4 === 2, act: 'hardswish' });
  }
  const c = config[Math.min(p.blocks ?? config.length, config.length) - 1][2];
  const head = 1280;
  x = net.act(net.conv(net.op('GlobalAveragePool', [x]), c, head), 'hardswish');
  const flat = net.op('Flatten', [x], { axis: { i: 1 } });
  const logits = net.op('Gemm', [flat, net.uniform([head, 2], Math.sqrt(3 / head)), net.uniform([2], 0.05)], {
    alpha: { f: 1 },
    beta: { f: 1 },
  });
  const probs = net.op('Softmax', [logits], { axis: { i: 1 } });
  return {
    name: 'pplcnet-cls',
    bytes: model(
      net,
      'pplcnet-cls',
      [{ name: 'x', dtype: 'float32', shape: ['batch', 3, H, W] }],
      [{ name: 'softmax_0.tmp_0', from: probs }],
    ),
    inputs: [{ name: 'x', dtype: 'float32', dims: [1, 3, H, W], fill: 'image' }],
  };
}

/** One pre-LN transformer block on [batch, tokens, dim], attention written out as Paddle's SVTR exports it. */
function svtrBlock(net: Net, seq: string, dim: number, heads: number): string {
  const headDim = dim / heads;
  const n1 = net.layerNorm(seq, dim, 1e-6);
  const qkv = net.linear(n1, dim, 3 * dim);
  const split = net.transpose(net.reshapeTo(qkv, [net.dim(qkv, 0), -1, 3, heads, headDim]), [2, 0, 3, 1, 4]);
  const pick = (i: number) => net.op('Gather', [split, net.constant('int64', [], [i])], { axis: { i: 0 } });
  const [q, k, v] = [pick(0), pick(1), pick(2)];
  const scores = net.op('MatMul', [
    net.op('Mul', [q, net.f32(headDim ** -0.5)]),
    net.transpose(k, [0, 1, 3, 2]),
  ]);
  const attn = net.op('MatMul', [net.op('Softmax', [scores], { axis: { i: -1 } }), v]);
  const merged = net.reshapeTo(net.transpose(attn, [0, 2, 1, 3]), [net.dim(attn, 0), -1, dim]);
  seq = net.op('Add', [seq, net.linear(merged, dim, dim)]);
  const n2 = net.layerNorm(seq, dim, 1e-6);
  return net.op('Add', [seq, net.linear(net.act(net.linear(n2, dim, 4 * dim), 'gelu-erf'), 4 * dim, dim)]);
}

/** [b, c, h, w] → [b, h·w, c]: flatten(2) + transpose, the batch and channels read from Shape. */
const toTokens = (net: Net, x: string) =>
  net.transpose(net.reshapeTo(x, [net.dim(x, 0), net.dim(x, 1), -1]), [0, 2, 1]);

/** SVTR-tiny-style recognizer, input 1×3×48×W. `blocks` is the number of transformer blocks per stage. */
export function svtrRec(p: { width?: number; blocks?: number; height?: number } = {}): BenchModel {
  const [H, W] = [p.height ?? 48, p.width ?? 320];
  const blocks = p.blocks ?? 2;
  const net = new Net(1802);
  const [d1, d2, classes] = [64, 128, 97];
  // patch embedding: two 3×3 stride-2 convs with BN + GELU → H/4 × W/4
  let x = net.act(net.bn(net.conv('x', 3, d1 / 2, { k: 3, stride: 2, bias: false }), d1 / 2), 'gelu-erf');
  x = net.act(net.bn(net.conv(x, d1 / 2, d1, { k: 3, stride: 2, bias: false }), d1), 'gelu-erf');
  const [h1, w1] = [H / 4, W / 4];
  let seq = toTokens(net, x);
  for (let b = 0; b < blocks; b++) seq = svtrBlock(net, seq, d1, 2);
  // merging: tokens back to [b, c, h, w] (Transpose → Reshape with literals), 3×3 conv stride (2, 1)
  x = net.reshapeTo(net.transpose(seq, [0, 2, 1]), [0, d1, h1, w1]);
  x = net.conv(x, d1, d2, { k: 3, stride: [2, 1] });
  seq = net.layerNorm(toTokens(net, x), d2, 1e-6);
  for (let b = 0; b < blocks; b++) seq = svtrBlock(net, seq, d2, 4);
  // to one row: [b, c, h, w] → AvgPool over the height → tokens of width W/4
  x = net.reshapeTo(net.transpose(net.layerNorm(seq, d2, 1e-6), [0, 2, 1]), [0, d2, h1 / 2, w1]);
  x = net.op('AveragePool', [x], { kernel_shape: { ints: [h1 / 2, 2] }, strides: { ints: [h1 / 2, 2] } });
  seq = toTokens(net, net.act(net.conv(x, d2, 192), 'hardswish'));
  const probs = net.op('Softmax', [net.linear(seq, 192, classes)], { axis: { i: 2 } });
  return {
    name: 'svtr-rec',
    bytes: model(
      net,
      'svtr-rec',
      [{ name: 'x', dtype: 'float32', shape: ['batch', 3, H, 'width'] }],
      [{ name: 'softmax_5.tmp_0', from: probs }],
    ),
    inputs: [{ name: 'x', dtype: 'float32', dims: [1, 3, H, W], fill: 'image' }],
  };
}

/** DBNet with a MobileNetV3-large ×0.5 backbone (PaddleOCR det_mv3_db), input 1×3×S×S; S a multiple of 32. */
export function dbnetMv3Det(p: { size?: number } = {}): BenchModel {
  const S = p.size ?? 640;
  const net = new Net(1803);
  // kernel, expanded, out, SE, activation, stride: torchvision's large config at scale 0.5
  const large: [number, number, number, boolean, Activation, number][] = [
    [3, 16, 16, false, 'relu', 1],
    [3, 64, 24, false, 'relu', 2],
    [3, 72, 24, false, 'relu', 1],
    [5, 72, 40, true, 'relu', 2],
    [5, 120, 40, true, 'relu', 1],
    [3, 240, 80, false, 'hardswish', 2],
    [3, 200, 80, false, 'hardswish', 1],
    [3, 480, 112, true, 'hardswish', 1],
    [5, 672, 160, true, 'hardswish', 2],
    [5, 960, 160, true, 'hardswish', 1],
  ];
  let x = net.convBnAct('x', 3, 8, { k: 3, stride: 2, unfoldedBn: true, act: 'hardswish' });
  let c = 8;
  const features: { v: string; c: number }[] = [];
  for (const [i, [k, e, o, se, act, stride]] of large.entries()) {
    // DBNet reads the backbone at 1/4, 1/8, 1/16 (before each later stride-2 block) and 1/32 (the end)
    if (stride === 2 && i > 1) features.push({ v: x, c });
    const [exp, out] = [makeDivisible(e / 2), makeDivisible(o / 2)];
    const input = x;
    let h = exp === c ? x : net.convBnAct(x, c, exp, { unfoldedBn: true, act });
    h = net.convBnAct(h, exp, exp, { k, stride, group: exp, unfoldedBn: true, act });
    if (se) h = squeezeExcite(net, h, exp);
    h = net.convBnAct(h, exp, out, { unfoldedBn: true });
    x = stride === 1 && c === out ? net.op('Add', [input, h]) : h;
    c = out;
  }
  features.push({ v: x, c });
  // FPN (PaddleOCR DBFPN, 96 inner channels): nearest ×2 by scales, one bilinear step (align_corners false)
  const inner = 96;
  const [in2, in3, in4, in5] = features.map((f) => net.conv(f.v, f.c, inner, { bias: false }));
  const emptyRoi = net.init({ dtype: 'float32', dims: [0], data: new Float32Array(0) }, 'roi');
  const up = (v: string, scale: number, mode: 'nearest' | 'linear') =>
    net.op('Resize', [v, emptyRoi, net.constant('float32', [4], [1, 1, scale, scale])], {
      coordinate_transformation_mode: { s: mode === 'nearest' ? 'asymmetric' : 'half_pixel' },
      mode: { s: mode },
      nearest_mode: { s: 'floor' },
    });
  const out4 = net.op('Add', [in4, up(in5, 2, 'nearest')]);
  const out3 = net.op('Add', [in3, up(out4, 2, 'linear')]);
  const out2 = net.op('Add', [in2, up(out3, 2, 'nearest')]);
  const q = inner / 4;
  const p5 = up(net.conv(in5, inner, q, { k: 3, bias: false }), 8, 'nearest');
  const p4 = up(net.conv(out4, inner, q, { k: 3, bias: false }), 4, 'nearest');
  const p3 = up(net.conv(out3, inner, q, { k: 3, bias: false }), 2, 'linear');
  const p2 = net.conv(out2, inner, q, { k: 3, bias: false });
  const fuse = net.op('Concat', [p5, p4, p3, p2], { axis: { i: 1 } });
  return dbHead(net, 'dbnet-mv3-det', fuse, inner, S);
}

/** BERT-style encoder as older Hugging Face exports write it (see the file comment). */
export function bertMini(
  p: { sequence?: number; layers?: number; hidden?: number; heads?: number; vocab?: number } = {},
): BenchModel {
  const [S, layers, hidden, heads, vocab] = [
    p.sequence ?? 96,
    p.layers ?? 4,
    p.hidden ?? 384,
    p.heads ?? 12,
    p.vocab ?? 8000,
  ];
  const headDim = hidden / heads;
  const net = new Net(1804);
  const ids = 'input_ids';
  const positions = net.init(
    { dtype: 'int64', dims: [1, S], data: BigInt64Array.from({ length: S }, (_, i) => BigInt(i)) },
    'position_ids',
  );
  const embed = (table: string, indices: string) => net.op('Gather', [table, indices], { axis: { i: 0 } });
  let x = net.op('Add', [
    embed(net.uniform([vocab, hidden], 0.05, 'word_embeddings'), ids),
    embed(net.uniform([S, hidden], 0.05, 'position_embeddings'), positions),
  ]);
  x = net.layerNorm(x, hidden, 1e-12);
  const mask4 = net.op('Cast', [net.op('Unsqueeze', ['attention_mask', net.i64s([1, 2])])], { to: { i: 1 } });
  const bias = net.op('Mul', [net.op('Sub', [net.f32(1), mask4]), net.f32(-10000)]);
  const split = (v: string) => net.reshapeTo(v, [net.dim(v, 0), net.dim(v, 1), heads, headDim]);
  for (let l = 0; l < layers; l++) {
    const q = net.transpose(
      split(net.op('Mul', [net.linear(x, hidden, hidden), net.f32(headDim ** -0.5)])),
      [0, 2, 1, 3],
    );
    const kT = net.transpose(split(net.linear(x, hidden, hidden)), [0, 2, 3, 1]);
    const v = net.transpose(split(net.linear(x, hidden, hidden)), [0, 2, 1, 3]);
    const probs = net.op('Softmax', [net.op('Add', [net.op('MatMul', [q, kT]), bias])], { axis: { i: 3 } });
    const ctx = net.transpose(net.op('MatMul', [probs, v]), [0, 2, 1, 3]);
    const merged = net.reshapeTo(ctx, [net.dim(ctx, 0), net.dim(ctx, 1), hidden]);
    x = net.layerNorm(net.op('Add', [net.linear(merged, hidden, hidden), x]), hidden, 1e-12);
    const upProj = net.act(net.linear(x, hidden, hidden * 4), 'gelu-erf');
    x = net.layerNorm(net.op('Add', [net.linear(upProj, hidden * 4, hidden), x]), hidden, 1e-12);
  }
  return {
    name: 'bert-mini',
    bytes: model(
      net,
      'bert-mini',
      [
        { name: 'input_ids', dtype: 'int64', shape: ['batch', S] },
        { name: 'attention_mask', dtype: 'int64', shape: ['batch', S] },
      ],
      [{ name: 'last_hidden_state', from: x }],
    ),
    inputs: [
      { name: 'input_ids', dtype: 'int64', dims: [1, S], fill: 'ids', vocab },
      { name: 'attention_mask', dtype: 'int64', dims: [1, S], fill: 'mask' },
    ],
  };
}

/** tf2onnx-style MobileNetV2 ×0.5 on an NHWC input 1×S×S×3 (see the file comment). */
export function tfMobilenet(p: { size?: number; blocks?: number } = {}): BenchModel {
  const S = p.size ?? 160;
  const net = new Net(1805);
  const relu6 = (v: string) => net.op('Clip', [v, net.f32(0), net.f32(6)]);
  /** TF's SAME padding: a Pad node before stride-2 convs, asymmetric explicit pads on stride-1 ones */
  const conv = (v: string, cin: number, cout: number, k: number, stride: number, group = 1) => {
    const w = net.uniform([cout, cin / group, k, k], Math.sqrt(6 / ((cin / group) * k * k)), 'conv.weight');
    const lo = (k - 1) >> 1;
    const hi = k - 1 - lo;
    const attrs = {
      group: { i: group },
      kernel_shape: { ints: [k, k] },
      strides: { ints: [stride, stride] },
    };
    if (stride === 2 && k > 1) {
      // SAME at stride 2 on an even size pads k - 2 in all: half (rounded down) before, the rest after
      const before = (k - 2) >> 1;
      const after = k - 2 - before;
      const padded = net.op('Pad', [v, net.i64s([0, 0, before, before, 0, 0, after, after])], {
        mode: { s: 'constant' },
      });
      return net.op('Conv', [padded, w, net.uniform([cout], 0.1, 'conv.bias')], {
        ...attrs,
        pads: { ints: [0, 0, 0, 0] },
      });
    }
    return net.op('Conv', [v, w, net.uniform([cout], 0.1, 'conv.bias')], {
      ...attrs,
      pads: { ints: [lo, lo, hi, hi] },
    });
  };
  // expansion, out, repeats, stride (MobileNetV2 at width 0.5)
  const config: [number, number, number, number][] = [
    [1, 8, 1, 1],
    [6, 16, 2, 2],
    [6, 16, 3, 2],
    [6, 32, 4, 2],
    [6, 48, 3, 1],
    [6, 80, 3, 2],
    [6, 160, 1, 1],
  ];
  let x = net.transpose('input_1', [0, 3, 1, 2]);
  x = relu6(conv(x, 3, 16, 3, 2));
  let c = 16;
  let count = 0;
  for (const [t, out, n, s] of config)
    for (let i = 0; i < n && count < (p.blocks ?? Infinity); i++, count++) {
      const stride = i === 0 ? s : 1;
      const exp = c * t;
      let h = t === 1 ? x : relu6(conv(x, c, exp, 1, 1));
      h = relu6(conv(h, exp, exp, 3, stride, exp));
      h = conv(h, exp, out, 1, 1);
      x = stride === 1 && c === out ? net.op('Add', [x, h]) : h;
      c = out;
    }
  x = relu6(conv(x, c, 640, 1, 1));
  // tf2onnx keeps NHWC: back to channels-last before the pool, ReduceMean over H and W
  const pooled = net.op('ReduceMean', [net.transpose(x, [0, 2, 3, 1])], {
    axes: { ints: [1, 2] },
    keepdims: { i: 0 },
  });
  const logits = net.op('Add', [
    net.op('MatMul', [pooled, net.uniform([640, 100], Math.sqrt(3 / 640))]),
    net.uniform([100], 0.05),
  ]);
  const probs = net.op('Softmax', [logits], { axis: { i: -1 } });
  return {
    name: 'tf-mobilenet',
    bytes: model(
      net,
      'tf-mobilenet',
      [{ name: 'input_1', dtype: 'float32', shape: ['unk__0', S, S, 3] }],
      [{ name: 'predictions', from: probs }],
    ),
    inputs: [{ name: 'input_1', dtype: 'float32', dims: [1, S, S, 3], fill: 'image' }],
  };
}

/** The survey's variants at full size. */
export const SURVEY_MODELS: Record<string, () => BenchModel> = {
  'pplcnet-cls': () => pplcnetCls(),
  'svtr-rec': () => svtrRec(),
  'dbnet-mv3-det': () => dbnetMv3Det(),
  'bert-mini': () => bertMini(),
  'tf-mobilenet': () => tfMobilenet(),
};

/** Write every variant (or those named) into `dir`; returns name → file and inputs. */
export function writeSurveyModels(
  dir: string,
  names: string[] = Object.keys(SURVEY_MODELS),
): Record<string, { path: string; inputs: BenchModel['inputs'] }> {
  mkdirSync(dir, { recursive: true });
  const out: Record<string, { path: string; inputs: BenchModel['inputs'] }> = {};
  for (const name of names) {
    const m = SURVEY_MODELS[name]();
    const path = join(dir, `${name}.onnx`);
    writeFileSync(path, m.bytes);
    out[name] = { path, inputs: m.inputs };
  }
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename))
  for (const [name, { path }] of Object.entries(
    writeSurveyModels(process.argv[2] ?? resolve(import.meta.dirname, '../../.kiln/survey-models')),
  ))
    console.log(`${name}\t${path}`);
