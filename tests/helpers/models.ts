/** Small real-shaped models the repo builds itself: an MLP, a CNN and an attention block. */
import { buildModel, randomTensor, seededRandom } from './onnx-builder.js';
import { tensorFromNumbers, type HostTensor } from '../../src/ir/tensor.js';

export function mlpModel(): Uint8Array {
  const r = seededRandom(1);
  return buildModel({
    name: 'mlp',
    inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 64] }],
    outputs: [{ name: 'probs', dtype: 'float32', shape: ['batch', 10] }],
    initializers: [
      { name: 'w1', tensor: randomTensor([64, 128], r, 0.2) },
      { name: 'b1', tensor: randomTensor([128], r, 0.1) },
      { name: 'w2', tensor: randomTensor([10, 128], r, 0.2) },
      { name: 'b2', tensor: randomTensor([10], r, 0.1) },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['x', 'w1'], outputs: ['h0'] },
      { op: 'Add', inputs: ['h0', 'b1'], outputs: ['h1'] },
      { op: 'Relu', inputs: ['h1'], outputs: ['h2'] },
      { op: 'Gemm', inputs: ['h2', 'w2', 'b2'], outputs: ['logits'], attrs: { transB: { i: 1 } } },
      { op: 'Softmax', inputs: ['logits'], outputs: ['probs'], attrs: { axis: { i: -1 } } },
    ],
  });
}

export function cnnModel(): Uint8Array {
  const r = seededRandom(2);
  return buildModel({
    name: 'cnn',
    inputs: [{ name: 'image', dtype: 'float32', shape: [1, 3, 32, 32] }],
    outputs: [{ name: 'probs', dtype: 'float32', shape: [1, 10] }],
    initializers: [
      { name: 'c1w', tensor: randomTensor([8, 3, 3, 3], r, 0.3) },
      { name: 'c1b', tensor: randomTensor([8], r, 0.1) },
      { name: 'c2w', tensor: randomTensor([16, 8, 3, 3], r, 0.2) },
      { name: 'bn_scale', tensor: randomTensor([16], r, 1) },
      { name: 'bn_bias', tensor: randomTensor([16], r, 0.1) },
      { name: 'bn_mean', tensor: randomTensor([16], r, 0.1) },
      {
        name: 'bn_var',
        tensor: tensorFromNumbers(
          'float32',
          [16],
          Array.from({ length: 16 }, () => 0.5 + r()),
        ),
      },
      { name: 'fcw', tensor: randomTensor([10, 16], r, 0.3) },
      { name: 'fcb', tensor: randomTensor([10], r, 0.1) },
    ],
    nodes: [
      {
        op: 'Conv',
        inputs: ['image', 'c1w', 'c1b'],
        outputs: ['c1'],
        attrs: { pads: { ints: [1, 1, 1, 1] } },
      },
      { op: 'Relu', inputs: ['c1'], outputs: ['r1'] },
      {
        op: 'MaxPool',
        inputs: ['r1'],
        outputs: ['p1'],
        attrs: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } },
      },
      {
        op: 'Conv',
        inputs: ['p1', 'c2w'],
        outputs: ['c2'],
        attrs: { strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] } },
      },
      {
        op: 'BatchNormalization',
        inputs: ['c2', 'bn_scale', 'bn_bias', 'bn_mean', 'bn_var'],
        outputs: ['bn'],
      },
      { op: 'Relu', inputs: ['bn'], outputs: ['r2'] },
      { op: 'GlobalAveragePool', inputs: ['r2'], outputs: ['gap'] },
      { op: 'Flatten', inputs: ['gap'], outputs: ['flat'] },
      { op: 'Gemm', inputs: ['flat', 'fcw', 'fcb'], outputs: ['logits'], attrs: { transB: { i: 1 } } },
      { op: 'Softmax', inputs: ['logits'], outputs: ['probs'], attrs: { axis: { i: 1 } } },
    ],
  });
}

export function attentionModel(): Uint8Array {
  const r = seededRandom(3);
  const [S, D, H] = [8, 32, 4];
  const dh = D / H;
  const shape = (name: string, v: number[]) => ({ name, tensor: tensorFromNumbers('int64', [v.length], v) });
  return buildModel({
    name: 'attention',
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, S, D] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, S, D] }],
    initializers: [
      { name: 'wq', tensor: randomTensor([D, D], r, 0.3) },
      { name: 'wk', tensor: randomTensor([D, D], r, 0.3) },
      { name: 'wv', tensor: randomTensor([D, D], r, 0.3) },
      { name: 'wo', tensor: randomTensor([D, D], r, 0.3) },
      { name: 'scale', tensor: tensorFromNumbers('float32', [], [1 / Math.sqrt(dh)]) },
      shape('heads', [1, S, H, dh]),
      shape('merged', [1, S, D]),
      { name: 'gamma', tensor: randomTensor([D], r, 1) },
      { name: 'beta', tensor: randomTensor([D], r, 0.1) },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['x', 'wq'], outputs: ['q0'] },
      { op: 'MatMul', inputs: ['x', 'wk'], outputs: ['k0'] },
      { op: 'MatMul', inputs: ['x', 'wv'], outputs: ['v0'] },
      { op: 'Reshape', inputs: ['q0', 'heads'], outputs: ['q1'] },
      { op: 'Reshape', inputs: ['k0', 'heads'], outputs: ['k1'] },
      { op: 'Reshape', inputs: ['v0', 'heads'], outputs: ['v1'] },
      { op: 'Transpose', inputs: ['q1'], outputs: ['q'], attrs: { perm: { ints: [0, 2, 1, 3] } } },
      { op: 'Transpose', inputs: ['k1'], outputs: ['kt'], attrs: { perm: { ints: [0, 2, 3, 1] } } },
      { op: 'Transpose', inputs: ['v1'], outputs: ['v'], attrs: { perm: { ints: [0, 2, 1, 3] } } },
      { op: 'MatMul', inputs: ['q', 'kt'], outputs: ['s0'] },
      { op: 'Mul', inputs: ['s0', 'scale'], outputs: ['s1'] },
      { op: 'Softmax', inputs: ['s1'], outputs: ['p'], attrs: { axis: { i: -1 } } },
      { op: 'MatMul', inputs: ['p', 'v'], outputs: ['o0'] },
      { op: 'Transpose', inputs: ['o0'], outputs: ['o1'], attrs: { perm: { ints: [0, 2, 1, 3] } } },
      { op: 'Reshape', inputs: ['o1', 'merged'], outputs: ['o2'] },
      { op: 'MatMul', inputs: ['o2', 'wo'], outputs: ['o3'] },
      { op: 'Add', inputs: ['o3', 'x'], outputs: ['res'] },
      {
        op: 'LayerNormalization',
        inputs: ['res', 'gamma', 'beta'],
        outputs: ['y'],
        attrs: { axis: { i: -1 } },
      },
    ],
  });
}

/**
 * A BERT-style encoder layer exported with dynamic `batch` and `seq` axes: token embedding (Gather),
 * the decomposed LayerNorm, multi-head attention with an attention mask ([batch, seq] of 0/1, int64),
 * an erf-GELU feed-forward block and LayerNormalization. With `exporterShapes` the attention's Reshape
 * targets come from the tensors' shapes as PyTorch exports them (Shape → Gather → Unsqueeze → Concat).
 */
export function encoderModel(options: { exporterShapes?: boolean } = {}): Uint8Array {
  const r = seededRandom(4);
  const [V, D, H, F] = [50, 32, 4, 64];
  const dh = D / H;
  const w = (name: string, dims: number[], scale: number) => ({ name, tensor: randomTensor(dims, r, scale) });
  const ints = (name: string, v: number[]) => ({ name, tensor: tensorFromNumbers('int64', [v.length], v) });
  const scalar = (name: string, v: number) => ({ name, tensor: tensorFromNumbers('float32', [], [v]) });
  const linear = (x: string, wName: string, bName: string, y: string) => [
    { op: 'MatMul', inputs: [x, wName], outputs: [`${y}_mm`] },
    { op: 'Add', inputs: [`${y}_mm`, bName], outputs: [y] },
  ];
  /** `y` = Concat(x.shape[0], x.shape[1], tail): the target of a Reshape keeping batch and seq. */
  const leadingDims = (x: string, tail: string, y: string) =>
    options.exporterShapes
      ? [
          { op: 'Shape', inputs: [x], outputs: [`${y}_shape`] },
          { op: 'Gather', inputs: [`${y}_shape`, 'zero'], outputs: [`${y}_b`], attrs: { axis: { i: 0 } } },
          { op: 'Gather', inputs: [`${y}_shape`, 'one_i'], outputs: [`${y}_s`], attrs: { axis: { i: 0 } } },
          { op: 'Unsqueeze', inputs: [`${y}_b`, 'axis0'], outputs: [`${y}_b1`] },
          { op: 'Unsqueeze', inputs: [`${y}_s`, 'axis0'], outputs: [`${y}_s1`] },
          { op: 'Concat', inputs: [`${y}_b1`, `${y}_s1`, tail], outputs: [y], attrs: { axis: { i: 0 } } },
        ]
      : [{ op: 'Concat', inputs: ['keep2', tail], outputs: [y], attrs: { axis: { i: 0 } } }];
  const heads = (x: string, y: string, perm: number[]) => [
    ...leadingDims(x, 'heads_tail', `${y}_target`),
    { op: 'Reshape', inputs: [x, `${y}_target`], outputs: [`${y}_r`] },
    { op: 'Transpose', inputs: [`${y}_r`], outputs: [y], attrs: { perm: { ints: perm } } },
  ];
  const scalarInt = (name: string, v: number) => ({ name, tensor: tensorFromNumbers('int64', [], [v]) });
  return buildModel({
    name: 'encoder',
    inputs: [
      { name: 'input_ids', dtype: 'int64', shape: ['batch', 'seq'] },
      { name: 'attention_mask', dtype: 'int64', shape: ['batch', 'seq'] },
    ],
    outputs: [{ name: 'hidden', dtype: 'float32', shape: ['batch', 'seq', D] }],
    initializers: [
      w('word_emb', [V, D], 1),
      w('wq', [D, D], 0.3),
      w('bq', [D], 0.1),
      w('wk', [D, D], 0.3),
      w('bk', [D], 0.1),
      w('wv', [D, D], 0.3),
      w('bv', [D], 0.1),
      w('wo', [D, D], 0.3),
      w('bo', [D], 0.1),
      w('w1', [D, F], 0.3),
      w('b1', [F], 0.1),
      w('w2', [F, D], 0.3),
      w('b2', [D], 0.1),
      w('g0', [D], 1),
      w('beta0', [D], 0.1),
      w('g1', [D], 1),
      w('beta1', [D], 0.1),
      w('g2', [D], 1),
      w('beta2', [D], 0.1),
      ints('mask_axes', [1, 2]),
      ints('keep2', [0, 0]),
      ints('heads_tail', [H, dh]),
      ints('merged_tail', [D]),
      ints('axis0', [0]),
      scalarInt('zero', 0),
      scalarInt('one_i', 1),
      scalar('one', 1),
      scalar('two', 2),
      scalar('half', 0.5),
      scalar('eps', 1e-5),
      scalar('neg', -10000),
      scalar('sqrt_dh', Math.sqrt(dh)),
      scalar('sqrt2', Math.SQRT2),
    ],
    nodes: [
      { op: 'Gather', inputs: ['word_emb', 'input_ids'], outputs: ['emb'] },
      // LayerNorm as exporters decompose it
      { op: 'ReduceMean', inputs: ['emb'], outputs: ['mu'], attrs: { axes: { ints: [-1] } } },
      { op: 'Sub', inputs: ['emb', 'mu'], outputs: ['centered'] },
      { op: 'Pow', inputs: ['centered', 'two'], outputs: ['sq'] },
      { op: 'ReduceMean', inputs: ['sq'], outputs: ['var'], attrs: { axes: { ints: [-1] } } },
      { op: 'Add', inputs: ['var', 'eps'], outputs: ['var_eps'] },
      { op: 'Sqrt', inputs: ['var_eps'], outputs: ['std'] },
      { op: 'Div', inputs: ['centered', 'std'], outputs: ['normed'] },
      { op: 'Mul', inputs: ['normed', 'g0'], outputs: ['scaled'] },
      { op: 'Add', inputs: ['scaled', 'beta0'], outputs: ['x0'] },
      // additive attention mask: [batch, 1, 1, seq], 0 where attended, -10000 where masked
      { op: 'Unsqueeze', inputs: ['attention_mask', 'mask_axes'], outputs: ['mask4'] },
      { op: 'Cast', inputs: ['mask4'], outputs: ['maskf'], attrs: { to: { i: 1 } } },
      { op: 'Sub', inputs: ['one', 'maskf'], outputs: ['inverted'] },
      { op: 'Mul', inputs: ['inverted', 'neg'], outputs: ['mask_add'] },
      ...linear('x0', 'wq', 'bq', 'q0'),
      ...linear('x0', 'wk', 'bk', 'k0'),
      ...linear('x0', 'wv', 'bv', 'v0'),
      ...heads('q0', 'q', [0, 2, 1, 3]),
      ...heads('k0', 'kt', [0, 2, 3, 1]),
      ...heads('v0', 'v', [0, 2, 1, 3]),
      { op: 'MatMul', inputs: ['q', 'kt'], outputs: ['s0'] },
      { op: 'Div', inputs: ['s0', 'sqrt_dh'], outputs: ['s1'] },
      { op: 'Add', inputs: ['s1', 'mask_add'], outputs: ['s2'] },
      { op: 'Softmax', inputs: ['s2'], outputs: ['p'], attrs: { axis: { i: -1 } } },
      { op: 'MatMul', inputs: ['p', 'v'], outputs: ['ctx0'] },
      { op: 'Transpose', inputs: ['ctx0'], outputs: ['ctx1'], attrs: { perm: { ints: [0, 2, 1, 3] } } },
      ...leadingDims('ctx1', 'merged_tail', 'merged_target'),
      { op: 'Reshape', inputs: ['ctx1', 'merged_target'], outputs: ['ctx2'] },
      ...linear('ctx2', 'wo', 'bo', 'attn'),
      { op: 'Add', inputs: ['attn', 'x0'], outputs: ['res1'] },
      {
        op: 'LayerNormalization',
        inputs: ['res1', 'g1', 'beta1'],
        outputs: ['x1'],
        attrs: { axis: { i: -1 }, epsilon: { f: 1e-5 } },
      },
      ...linear('x1', 'w1', 'b1', 'h0'),
      // GELU, erf form
      { op: 'Div', inputs: ['h0', 'sqrt2'], outputs: ['h_scaled'] },
      { op: 'Erf', inputs: ['h_scaled'], outputs: ['h_erf'] },
      { op: 'Add', inputs: ['h_erf', 'one'], outputs: ['h_erf1'] },
      { op: 'Mul', inputs: ['h0', 'h_erf1'], outputs: ['h_prod'] },
      { op: 'Mul', inputs: ['h_prod', 'half'], outputs: ['h1'] },
      ...linear('h1', 'w2', 'b2', 'ffn'),
      { op: 'Add', inputs: ['ffn', 'x1'], outputs: ['res2'] },
      {
        op: 'LayerNormalization',
        inputs: ['res2', 'g2', 'beta2'],
        outputs: ['hidden'],
        attrs: { axis: { i: -1 }, epsilon: { f: 1e-5 } },
      },
    ],
  });
}

/** Token ids and a mask that hides the last two positions of every row (when there are three or more). */
export function encoderFeeds(batch: number, seq: number): Record<string, HostTensor> {
  const r = seededRandom(batch * 1000 + seq);
  const n = batch * seq;
  return {
    input_ids: {
      dtype: 'int64',
      dims: [batch, seq],
      data: BigInt64Array.from({ length: n }, () => BigInt(Math.floor(r() * 50))),
    },
    attention_mask: {
      dtype: 'int64',
      dims: [batch, seq],
      data: BigInt64Array.from({ length: n }, (_, i) => (seq < 3 || i % seq < seq - 2 ? 1n : 0n)),
    },
  };
}

/**
 * Attention's two products with the sequence inside them: scores = Q·Kᵀ ([b,2,s,24]·[b,2,24,s] → [b,2,s,s],
 * N = s) and context = scores·V ([b,2,s,s]·[b,2,s,24], K = s), which run on the gemm with staged operands.
 */
export const attentionProductsModel = (): Uint8Array =>
  buildModel({
    inputs: [
      { name: 'q', dtype: 'float32', shape: ['batch', 2, 'seq', 24] },
      { name: 'kt', dtype: 'float32', shape: ['batch', 2, 24, 'seq'] },
      { name: 'v', dtype: 'float32', shape: ['batch', 2, 'seq', 24] },
    ],
    outputs: [
      { name: 'scores', dtype: 'float32', shape: ['batch', 2, 'seq', 'seq'] },
      { name: 'context', dtype: 'float32', shape: ['batch', 2, 'seq', 24] },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['q', 'kt'], outputs: ['scores'] },
      { op: 'MatMul', inputs: ['scores', 'v'], outputs: ['context'] },
    ],
  });

export const attentionProductsFeeds = (batch: number, seq: number): Record<string, HostTensor> => {
  const r = seededRandom(seq * 10 + batch);
  return {
    q: randomTensor([batch, 2, seq, 24], r),
    kt: randomTensor([batch, 2, 24, seq], r),
    v: randomTensor([batch, 2, seq, 24], r),
  };
};
