/** Loop, Scan and If are unrolled at compile time: hand-built models through the whole compiler. */
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { loadModel } from '../../src/runtime/index.js';
import { parseOnnxModel } from '../../src/frontend/onnx/index.js';
import { specialize } from '../../src/passes/specialize.js';
import { MAX_UNROLLED_ITERATIONS } from '../../src/passes/unroll.js';
import { tensorFromNumbers, type HostTensor } from '../../src/ir/tensor.js';
import type { Graph } from '../../src/ir/graph.js';
import {
  buildModel,
  encodeModel,
  modelProto,
  type GraphSpec,
  type ModelSpec,
} from '../helpers/onnx-builder.js';
import '../../src/ops/index.js';
import { evaluateProgram } from '../../src/codegen/wasm/evaluate.js';
import { ortMismatches } from '../helpers/ort-oracle.js';
import { nodeGpu } from '../webgpu/fixture.js';

const f32 = (dims: number[], values: number[]) => tensorFromNumbers('float32', dims, values);
const i64 = (dims: number[], values: number[]) => tensorFromNumbers('int64', dims, values);
const bool = (value: boolean) => tensorFromNumbers('bool', [], [value ? 1 : 0]);

async function compileAndRun(
  spec: ModelSpec,
  feeds: Record<string, HostTensor>,
  consts: Record<string, HostTensor> = {},
): Promise<Record<string, { dims: number[]; data: number[] }>> {
  const files = await compileModel(buildModel(spec), { consts });
  const model = await loadModel(files, { backend: 'wasm' });
  try {
    const out = await model.run(feeds as never);
    return Object.fromEntries(
      Object.entries(out).map(([name, t]) => [name, { dims: t.dims, data: Array.from(t.data, Number) }]),
    );
  } finally {
    model.dispose();
  }
}

/** acc += table[i] for i < M; scan output: every acc, doubled. Opset 13 (Unsqueeze takes axes as input). */
function accumulateLoop(opts: { opset?: number; untypedBody?: boolean } = {}): ModelSpec {
  const typed = !opts.untypedBody;
  const body: GraphSpec = {
    inputs: [
      { name: 'i', dtype: 'int64', shape: [] },
      { name: 'cond_in', dtype: 'bool', shape: [] },
      typed ? { name: 'acc_in', dtype: 'float32', shape: [2] } : { name: 'acc_in' },
    ],
    outputs: [
      { name: 'cond_in', dtype: 'bool', shape: [] },
      typed ? { name: 'acc_out', dtype: 'float32', shape: [2] } : { name: 'acc_out' },
      // untyped: an element type without a shape (unknown rank), allowed in subgraphs
      typed ? { name: 'doubled', dtype: 'float32', shape: [2] } : { name: 'doubled', dtype: 'float32' },
    ],
    initializers: [{ name: 'two', tensor: f32([], [2]) }],
    nodes: [
      { op: 'Gather', inputs: ['table', 'i'], outputs: ['row'], attrs: { axis: { i: 0 } } },
      { op: 'Add', inputs: ['acc_in', 'row'], outputs: ['acc_out'] },
      { op: 'Mul', inputs: ['acc_out', 'two'], outputs: ['doubled'] },
    ],
  };
  return {
    opset: opts.opset ?? 13,
    inputs: [
      { name: 'M', dtype: 'int64', shape: [] },
      { name: 'acc', dtype: 'float32', shape: [2] },
    ],
    outputs: [
      { name: 'final', dtype: 'float32', shape: [2] },
      { name: 'all', dtype: 'float32', shape: ['n', 2] },
    ],
    initializers: [
      { name: 'table', tensor: f32([5, 2], [1, 10, 2, 20, 3, 30, 4, 40, 5, 50]) },
      { name: 'true', tensor: bool(true) },
    ],
    nodes: [
      {
        op: 'Loop',
        name: 'loop',
        inputs: ['M', 'true', 'acc'],
        outputs: ['final', 'all'],
        attrs: { body: { g: body } },
      },
    ],
  };
}

describe('Loop', () => {
  it('unrolls a loop with a compile-time trip count: carried values and stacked scan outputs', async () => {
    const out = await compileAndRun(accumulateLoop(), { acc: f32([2], [0.5, -1]) }, { M: i64([], [3]) });
    expect(out.final).toEqual({ dims: [2], data: [6.5, 59] });
    expect(out.all).toEqual({ dims: [3, 2], data: [3, 18, 7, 58, 13, 118] });
  });

  it('stacks with Unsqueeze attributes before opset 13 and binds untyped body values', async () => {
    const spec = accumulateLoop({ opset: 11, untypedBody: true });
    const out = await compileAndRun(spec, { acc: f32([2], [0, 0]) }, { M: i64([], [2]) });
    expect(out.final).toEqual({ dims: [2], data: [3, 30] });
    expect(out.all).toEqual({ dims: [2, 2], data: [2, 20, 6, 60] });
  });

  it('parses untyped subgraph inputs and outputs as placeholders marked untyped', () => {
    const g = parseOnnxModel(buildModel(accumulateLoop({ untypedBody: true })));
    const body = g.nodes[0].attrs.body as Graph;
    expect(body.inputs.map((i) => i.untyped)).toEqual([undefined, undefined, true]);
    expect(body.outputs.map((o) => [o.dtype, o.untyped])).toEqual([
      ['bool', undefined],
      ['float32', true],
      ['float32', true],
    ]);
  });

  it('keeps requiring types on the main graph inputs (outputs are inferred)', () => {
    const spec = accumulateLoop();
    const untypedInput = spec.inputs.map((vi, k) => (k === 0 ? ({ name: vi.name } as never) : vi));
    expect(() => parseOnnxModel(buildModel({ ...spec, inputs: untypedInput }))).toThrow(
      /main graph: input "\w+" has no type/,
    );
    const untypedOutput = buildModel({ ...spec, outputs: [{ name: 'final' } as never] });
    expect(parseOnnxModel(untypedOutput).outputs[0]).toMatchObject({ name: 'final', untyped: true });
  });

  it('runs zero iterations: initial values pass through, scan outputs are empty', () => {
    const graph = specialize(parseOnnxModel(buildModel(accumulateLoop())), {
      evaluate: evaluateProgram,
      consts: { M: i64([], [0]) },
    });
    expect(graph.types.get('final')).toEqual({ dtype: 'float32', shape: [2] });
    expect(graph.initializers.get('all')?.dims).toEqual([0, 2]);
    const untyped = parseOnnxModel(buildModel(accumulateLoop({ untypedBody: true })));
    expect(() => specialize(untyped, { evaluate: evaluateProgram, consts: { M: i64([], [0]) } })).toThrow(
      /runs zero iterations, so the shape of scan output 0 \("doubled"\) must come from the body's declaration/,
    );
  });

  it('unrolls a while loop whose condition the body computes', async () => {
    // x = 1; while (x < limit) x = x * 3; the scan output records x before each step.
    const body: GraphSpec = {
      inputs: [{ name: 'i', dtype: 'int64', shape: [] }, { name: 'c' }, { name: 'x_in' }],
      outputs: [{ name: 'keep_going' }, { name: 'x_out' }, { name: 'seen' }],
      initializers: [
        { name: 'three', tensor: i64([], [3]) },
        { name: 'limit', tensor: i64([], [100]) },
      ],
      nodes: [
        { op: 'Mul', inputs: ['x_in', 'three'], outputs: ['x_out'] },
        { op: 'Less', inputs: ['x_out', 'limit'], outputs: ['keep_going'] },
        { op: 'Add', inputs: ['x_in', 'bias'], outputs: ['seen'] },
      ],
    };
    const out = await compileAndRun(
      {
        inputs: [{ name: 'bias', dtype: 'int64', shape: [] }],
        outputs: [
          { name: 'x', dtype: 'int64', shape: [] },
          { name: 'trace', dtype: 'int64', shape: ['n'] },
        ],
        initializers: [
          { name: 'one', tensor: i64([], [1]) },
          { name: 'go', tensor: bool(true) },
        ],
        nodes: [
          { op: 'Loop', inputs: ['', 'go', 'one'], outputs: ['x', 'trace'], attrs: { body: { g: body } } },
        ],
      },
      { bias: i64([], [1000]) },
    );
    expect(out.x).toEqual({ dims: [], data: [243] });
    expect(out.trace).toEqual({ dims: [5], data: [1001, 1003, 1009, 1027, 1081] });
  });

  it('renames body values that a nested If refers to, and lets it read outer-scope values', async () => {
    // acc = acc + (i even ? acc_in*1 + y : acc_in*1 - y), over 4 iterations
    const branch = (op: string): GraphSpec => ({
      inputs: [],
      outputs: [{ name: `${op}_out` }],
      nodes: [{ op, inputs: ['scaled', 'y'], outputs: [`${op}_out`] }],
    });
    const body: GraphSpec = {
      inputs: [{ name: 'i', dtype: 'int64', shape: [] }, { name: 'c' }, { name: 'a' }],
      outputs: [{ name: 'c' }, { name: 'a_out' }],
      initializers: [
        { name: 'two', tensor: i64([], [2]) },
        { name: 'zero', tensor: i64([], [0]) },
        { name: 'one', tensor: f32([], [1]) },
      ],
      nodes: [
        { op: 'Mod', inputs: ['i', 'two'], outputs: ['rem'] },
        { op: 'Equal', inputs: ['rem', 'zero'], outputs: ['even'] },
        { op: 'Mul', inputs: ['a', 'one'], outputs: ['scaled'] },
        {
          op: 'If',
          inputs: ['even'],
          outputs: ['a_out'],
          attrs: { then_branch: { g: branch('Add') }, else_branch: { g: branch('Sub') } },
        },
      ],
    };
    const out = await compileAndRun(
      {
        inputs: [
          { name: 'a0', dtype: 'float32', shape: [3] },
          { name: 'y', dtype: 'float32', shape: [3] },
        ],
        outputs: [{ name: 'a', dtype: 'float32', shape: [3] }],
        initializers: [{ name: 'four', tensor: i64([], [4]) }],
        nodes: [{ op: 'Loop', inputs: ['four', '', 'a0'], outputs: ['a'], attrs: { body: { g: body } } }],
      },
      { a0: f32([3], [1, 2, 3]), y: f32([3], [10, 20, 30]) },
    );
    // +y -y +y -y
    expect(out.a).toEqual({ dims: [3], data: [1, 2, 3] });
  });

  it('a trip count and condition fed at run time (bounded by --dim M=0..5): the active iterations kept, matching onnxruntime', async () => {
    const spec = accumulateLoop();
    const fed: ModelSpec = {
      ...spec,
      inputs: [...spec.inputs, { name: 'cond', dtype: 'bool', shape: [] }],
      nodes: [{ ...spec.nodes[0], inputs: ['M', 'cond', 'acc'] }],
    };
    const bytes = buildModel(fed);
    const files = await compileModel(bytes, { relaxed: false, dims: { M: { min: 0, max: 5 } } });
    const model = await loadModel(files, { backend: 'wasm' });
    try {
      const acc = f32([2], [0.5, -1]);
      for (const [m, cond] of [
        [5, true],
        [3, true],
        [0, true],
        [4, false],
      ] as const)
        expect(await ortMismatches(bytes, model, { M: i64([], [m]), cond: bool(cond), acc })).toEqual([]);
      await expect(model.run({ M: i64([], [6]), cond: bool(true), acc } as never)).rejects.toThrow(
        'input "M" element 0 is 6, outside the bounds of "M" (0..5)',
      );
      await expect(
        model.run({ M: tensorFromNumbers('int32', [], [2]), cond: bool(true), acc } as never),
      ).rejects.toThrow(/"M".*int64/);
      expect(await ortMismatches(bytes, model, { M: i64([], [2]), cond: bool(true), acc })).toEqual([]);
    } finally {
      model.dispose();
    }
  });

  it('on webgpu a fed trip count with scan outputs runs, the scan rows counted during the run read back, matching onnxruntime', async () => {
    const spec = accumulateLoop();
    const bytes = buildModel(spec);
    const files = await compileModel(bytes, {
      relaxed: false,
      targets: ['wasm', 'webgpu'],
      dims: { M: { min: 0, max: 5 } },
    });
    const model = await loadModel(files, { backend: 'webgpu', gpu: await nodeGpu() });
    try {
      expect(model.backend).toBe('webgpu');
      const acc = f32([2], [0.5, -1]);
      for (const m of [5, 2, 0, 3])
        expect(await ortMismatches(bytes, model, { M: i64([], [m]), acc })).toEqual([]);
      await expect(model.run({ M: i64([], [6]), acc } as never)).rejects.toThrow(
        'input "M" element 0 is 6, outside the bounds of "M" (0..5)',
      );
      expect(await ortMismatches(bytes, model, { M: i64([], [4]), acc })).toEqual([]);
    } finally {
      model.dispose();
    }
  });

  it('refuses a fed trip count bounded past the unroll limit, naming the limit', async () => {
    const max = MAX_UNROLLED_ITERATIONS + 1;
    await expect(
      compileModel(buildModel(accumulateLoop()), { dims: { M: { min: 0, max } } }),
    ).rejects.toThrow(
      `Loop node "loop" (opset 13): would unroll more than ${MAX_UNROLLED_ITERATIONS} iterations`,
    );
  });

  it('a fed trip count is bounded at the last iteration whose body keeps the carried shapes', async () => {
    // as ONNX test_loop11: y += x[i:i+1] for i < M; x has 5 elements, so iteration 5 would make y empty
    const body: GraphSpec = {
      inputs: [
        { name: 'i', dtype: 'int64', shape: [] },
        { name: 'c', dtype: 'bool', shape: [] },
        { name: 'y_in', dtype: 'float32', shape: [1] },
      ],
      outputs: [
        { name: 'c_out', dtype: 'bool', shape: [] },
        { name: 'y_out', dtype: 'float32', shape: [1] },
        { name: 'scan', dtype: 'float32', shape: [1] },
      ],
      initializers: [
        { name: 'x', tensor: f32([5], [1, 2, 3, 4, 5]) },
        { name: 'one', tensor: i64([], [1]) },
        { name: 'axes', tensor: i64([1], [0]) },
      ],
      nodes: [
        { op: 'Identity', inputs: ['c'], outputs: ['c_out'] },
        { op: 'Add', inputs: ['i', 'one'], outputs: ['end'] },
        { op: 'Unsqueeze', inputs: ['i', 'axes'], outputs: ['start1'] },
        { op: 'Unsqueeze', inputs: ['end', 'axes'], outputs: ['end1'] },
        { op: 'Slice', inputs: ['x', 'start1', 'end1'], outputs: ['picked'] },
        { op: 'Add', inputs: ['y_in', 'picked'], outputs: ['y_out'] },
        { op: 'Identity', inputs: ['y_out'], outputs: ['scan'] },
      ],
    };
    const bytes = buildModel({
      inputs: [
        { name: 'M', dtype: 'int64', shape: [] },
        { name: 'y', dtype: 'float32', shape: [1] },
      ],
      outputs: [
        { name: 'last', dtype: 'float32', shape: [1] },
        { name: 'sums', dtype: 'float32', shape: ['n', 1] },
      ],
      initializers: [{ name: 'go', tensor: bool(true) }],
      nodes: [
        { op: 'Loop', inputs: ['M', 'go', 'y'], outputs: ['last', 'sums'], attrs: { body: { g: body } } },
      ],
    });
    const model = await loadModel(await compileModel(bytes, { relaxed: false }), { backend: 'wasm' });
    try {
      const y = f32([1], [-2]);
      for (const m of [5, 2, 0])
        expect(await ortMismatches(bytes, model, { M: i64([], [m]), y })).toEqual([]);
      await expect(model.run({ M: i64([], [6]), y } as never)).rejects.toThrow(
        'input "M" element 0 is 6, outside the bounds of "M" (0..5)',
      );
      expect(await ortMismatches(bytes, model, { M: i64([], [4]), y })).toEqual([]);
    } finally {
      model.dispose();
    }
  });

  it('a condition the body computes at run time ends a fed loop early, matching onnxruntime', async () => {
    // acc += table[i] while acc[0] < limit (a fed value), at most M times
    const spec = accumulateLoop();
    const body = (spec.nodes[0].attrs!.body as { g: GraphSpec }).g;
    const zero = { name: 'zero', tensor: i64([1], [0]) };
    const fed: ModelSpec = {
      ...spec,
      inputs: [...spec.inputs, { name: 'limit', dtype: 'float32', shape: [] }],
      nodes: [
        {
          ...spec.nodes[0],
          attrs: {
            body: {
              g: {
                ...body,
                outputs: [{ name: 'below', dtype: 'bool', shape: [] }, ...body.outputs.slice(1)],
                initializers: [...body.initializers!, zero],
                nodes: [
                  ...body.nodes,
                  {
                    op: 'Gather',
                    inputs: ['acc_out', 'zero'],
                    outputs: ['first'],
                    attrs: { axis: { i: 0 } },
                  },
                  { op: 'Squeeze', inputs: ['first'], outputs: ['first0'] },
                  { op: 'Less', inputs: ['first0', 'limit'], outputs: ['below'] },
                ],
              },
            },
          },
        },
      ],
    };
    const bytes = buildModel(fed);
    const model = await loadModel(
      await compileModel(bytes, { relaxed: false, dims: { M: { min: 0, max: 5 } } }),
      {
        backend: 'wasm',
      },
    );
    try {
      const acc = f32([2], [0.5, -1]);
      for (const limit of [4, 0, 100])
        expect(await ortMismatches(bytes, model, { M: i64([], [5]), acc, limit: f32([], [limit]) })).toEqual(
          [],
        );
    } finally {
      model.dispose();
    }
  });

  it('names the model input a trip count computed at run time must be fixed from', async () => {
    const spec = accumulateLoop();
    const computed: ModelSpec = {
      ...spec,
      nodes: [
        { op: 'Abs', inputs: ['M'], outputs: ['absM'] },
        { ...spec.nodes[0], inputs: ['absM', 'true', 'acc'] },
      ],
    };
    await expect(compileModel(buildModel(computed))).rejects.toThrow(
      /the trip count \(input 0, "absM"\) is computed at run time; model input \(input 0, "M"\) must be known at compile time/,
    );
  });

  it('refuses a loop that would unroll without end', async () => {
    const body: GraphSpec = {
      inputs: [{ name: 'i', dtype: 'int64', shape: [] }, { name: 'c' }],
      outputs: [{ name: 'c' }],
      nodes: [],
    };
    const spec: ModelSpec = {
      inputs: [{ name: 'x', dtype: 'float32', shape: [1] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1] }],
      initializers: [{ name: 'go', tensor: bool(true) }],
      nodes: [
        { op: 'Loop', name: 'spin', inputs: ['', 'go'], outputs: [], attrs: { body: { g: body } } },
        { op: 'Relu', inputs: ['x'], outputs: ['y'] },
      ],
    };
    await expect(compileModel(buildModel(spec))).rejects.toThrow(
      `Loop node "spin" (opset 17): would unroll more than ${MAX_UNROLLED_ITERATIONS} iterations`,
    );
  });

  it('rejects a body whose inputs do not match the loop-carried values', async () => {
    const spec = accumulateLoop();
    const body = (spec.nodes[0].attrs!.body as { g: GraphSpec }).g;
    const broken = {
      ...spec,
      nodes: [{ ...spec.nodes[0], attrs: { body: { g: { ...body, inputs: body.inputs.slice(0, 2) } } } }],
    };
    await expect(compileModel(buildModel(broken), { consts: { M: i64([], [1]) } })).rejects.toThrow(
      /the body has 2 inputs, expected 3/,
    );
  });
});

describe('If', () => {
  /** y = cond ? x * 2 : x - 1 (or, with `elseShape`, an else branch of that constant shape) */
  const ifSpec = (elseShape?: number[]): ModelSpec => ({
    inputs: [
      { name: 'cond', dtype: 'bool', shape: [] },
      { name: 'x', dtype: 'float32', shape: [3] },
    ],
    outputs: [{ name: 'y', dtype: 'float32', shape: [3] }],
    initializers: [
      { name: 'two', tensor: f32([], [2]) },
      { name: 'one', tensor: f32([], [1]) },
    ],
    nodes: [
      {
        op: 'If',
        name: 'choose',
        inputs: ['cond'],
        outputs: ['y'],
        attrs: {
          then_branch: {
            g: {
              inputs: [],
              outputs: [{ name: 'doubled' }],
              nodes: [{ op: 'Mul', inputs: ['x', 'two'], outputs: ['doubled'] }],
            },
          },
          else_branch: {
            g: elseShape
              ? {
                  inputs: [],
                  outputs: [{ name: 'other' }],
                  initializers: [{ name: 'other', tensor: f32(elseShape, new Array(elseShape[0]).fill(0)) }],
                  nodes: [],
                }
              : {
                  inputs: [],
                  outputs: [{ name: 'less' }],
                  nodes: [{ op: 'Sub', inputs: ['x', 'one'], outputs: ['less'] }],
                },
          },
        },
      },
    ],
  });

  it('a condition fed at run time: both branches run and it picks one per run, matching onnxruntime', async () => {
    const bytes = buildModel(ifSpec());
    const model = await loadModel(await compileModel(bytes, { relaxed: false }), { backend: 'wasm' });
    try {
      const x = f32([3], [1.5, -3, 0.25]);
      for (const cond of [true, false, true])
        expect(await ortMismatches(bytes, model, { cond: bool(cond), x })).toEqual([]);
      await expect(model.run({ cond: f32([], [1]), x } as never)).rejects.toThrow(/"cond".*bool/);
      expect(await ortMismatches(bytes, model, { cond: bool(false), x })).toEqual([]);
    } finally {
      model.dispose();
    }
  });

  it('refuses a run-time condition whose branches give outputs of different shapes, naming them', async () => {
    await expect(compileModel(buildModel(ifSpec([2])))).rejects.toThrow(
      'If node "choose" (opset 17): the condition (input 0, "cond") is known only at run time, and its branches\' output 0 differ (then float32[3], else float32[2]), which is not supported (one output holds one shape); pass the condition with --const',
    );
    // with the condition a constant, the chosen branch is inlined alone
    const graph = specialize(parseOnnxModel(buildModel(ifSpec([2]))), {
      evaluate: evaluateProgram,
      consts: { cond: bool(false) },
    });
    expect(graph.initializers.get('y')!.dims).toEqual([2]);
  });
});

/**
 * y = sr == 16000 ? x * 2 : a sequence [x] (as a PyTorch voice-activity export has it: the branch for
 * the other sample rate returns a sequence). The else branch's output is declared a sequence of float32.
 */
function sampleRateIf(): Uint8Array {
  const proto = modelProto({
    inputs: [
      { name: 'x', dtype: 'float32', shape: [2] },
      { name: 'sr', dtype: 'int64', shape: [] },
    ],
    outputs: [{ name: 'y', dtype: 'float32', shape: [2] }],
    initializers: [
      { name: 'sr16k', tensor: i64([], [16000]) },
      { name: 'two', tensor: f32([], [2]) },
    ],
    nodes: [
      { op: 'Equal', inputs: ['sr', 'sr16k'], outputs: ['is16k'] },
      {
        op: 'If',
        name: 'by_rate',
        inputs: ['is16k'],
        outputs: ['y'],
        attrs: {
          then_branch: {
            g: {
              inputs: [],
              outputs: [{ name: 'doubled' }],
              nodes: [{ op: 'Mul', inputs: ['x', 'two'], outputs: ['doubled'] }],
            },
          },
          else_branch: {
            g: {
              inputs: [],
              outputs: [{ name: 'seq' }],
              nodes: [{ op: 'SequenceConstruct', inputs: ['x'], outputs: ['seq'] }],
            },
          },
        },
      },
    ],
  });
  const elseBranch = proto.graph!.node![1].attribute!.find((a) => a.name === 'else_branch')!.g!;
  elseBranch.output![0].type = { sequenceType: { elemType: { tensorType: { elemType: 1 } } } };
  return encodeModel(proto);
}

describe('If with a branch returning a sequence', () => {
  it('compiles when the condition folds to the tensor branch', async () => {
    const files = await compileModel(sampleRateIf(), { consts: { sr: i64([], [16000]) }, relaxed: false });
    const model = await loadModel(files, { backend: 'wasm' });
    try {
      const out = await model.run({ x: f32([2], [1.5, -3]) } as never);
      expect(Array.from(out.y.data as Float32Array)).toEqual([3, -6]);
    } finally {
      model.dispose();
    }
  });

  it('is refused with a condition fed at run time, naming the branch and --const', async () => {
    await expect(compileModel(sampleRateIf(), { relaxed: false })).rejects.toThrow(
      'subgraph of attribute "else_branch" of If node "by_rate": output "seq" is not a tensor (sequence, map and optional values are not supported); the condition (input 0, "is16k") is known only at run time, so both branches are compiled: pass "sr" with --const to keep one',
    );
  });

  it('is refused, naming the branch, when the condition takes the sequence branch', async () => {
    await expect(
      compileModel(sampleRateIf(), { consts: { sr: i64([], [8000]) }, relaxed: false }),
    ).rejects.toThrow(
      'subgraph of attribute "else_branch" of If node "by_rate": output "seq" is not a tensor (sequence, map and optional values are not supported)',
    );
  });
});

/** Running sum over the scan inputs; the scan output is the running sum after each step. */
function sumBody(width: number): GraphSpec {
  return {
    inputs: [
      { name: 'sum_in', dtype: 'float32', shape: [width] },
      { name: 'next', dtype: 'float32', shape: [width] },
    ],
    outputs: [
      { name: 'sum_out', dtype: 'float32', shape: [width] },
      { name: 'scan_out', dtype: 'float32', shape: [width] },
    ],
    nodes: [
      { op: 'Add', inputs: ['sum_in', 'next'], outputs: ['sum_out'] },
      { op: 'Identity', inputs: ['sum_out'], outputs: ['scan_out'] },
    ],
  };
}

describe('Scan', () => {
  it('opset 9+: scans along an input axis in reverse and stacks the output along another axis', async () => {
    // x [2, 3]: scan along axis 1 (3 steps of [2]) in reverse; stack the outputs along axis 1.
    const out = await compileAndRun(
      {
        opset: 16,
        inputs: [
          { name: 'init', dtype: 'float32', shape: [2] },
          { name: 'x', dtype: 'float32', shape: [2, 3] },
        ],
        outputs: [
          { name: 'sum', dtype: 'float32', shape: [2] },
          { name: 'sums', dtype: 'float32', shape: [2, 3] },
        ],
        nodes: [
          {
            op: 'Scan',
            inputs: ['init', 'x'],
            outputs: ['sum', 'sums'],
            attrs: {
              body: { g: sumBody(2) },
              num_scan_inputs: { i: 1 },
              scan_input_axes: { ints: [-1] },
              scan_input_directions: { ints: [1] },
              scan_output_axes: { ints: [1] },
            },
          },
        ],
      },
      { init: f32([2], [0, 100]), x: f32([2, 3], [1, 2, 3, 4, 5, 6]) },
    );
    expect(out.sum).toEqual({ dims: [2], data: [6, 115] });
    // steps see columns 2, 1, 0: running sums [3,106], [5,111], [6,115]
    expect(out.sums).toEqual({ dims: [2, 3], data: [3, 5, 6, 106, 111, 115] });
  });

  it('opset 9+: a reversed scan output stores the last iteration first', async () => {
    const out = await compileAndRun(
      {
        opset: 11,
        inputs: [
          { name: 'init', dtype: 'float32', shape: [1] },
          { name: 'x', dtype: 'float32', shape: [3, 1] },
        ],
        outputs: [
          { name: 'sum', dtype: 'float32', shape: [1] },
          { name: 'sums', dtype: 'float32', shape: [3, 1] },
        ],
        nodes: [
          {
            op: 'Scan',
            inputs: ['init', 'x'],
            outputs: ['sum', 'sums'],
            attrs: {
              body: { g: sumBody(1) },
              num_scan_inputs: { i: 1 },
              scan_output_directions: { ints: [1] },
            },
          },
        ],
      },
      { init: f32([1], [0]), x: f32([3, 1], [1, 2, 3]) },
    );
    expect(out.sums).toEqual({ dims: [3, 1], data: [6, 3, 1] });
  });

  it('opset 8: runs every batch entry separately and honours reverse directions', async () => {
    const out = await compileAndRun(
      {
        opset: 8,
        inputs: [
          { name: 'init', dtype: 'float32', shape: [2, 1] },
          { name: 'x', dtype: 'float32', shape: [2, 3, 1] },
        ],
        outputs: [
          { name: 'sum', dtype: 'float32', shape: [2, 1] },
          { name: 'sums', dtype: 'float32', shape: [2, 3, 1] },
        ],
        nodes: [
          {
            op: 'Scan',
            inputs: ['', 'init', 'x'],
            outputs: ['sum', 'sums'],
            attrs: { body: { g: sumBody(1) }, num_scan_inputs: { i: 1 }, directions: { ints: [1] } },
          },
        ],
      },
      { init: f32([2, 1], [0, 10]), x: f32([2, 3, 1], [1, 2, 3, 4, 5, 6]) },
    );
    expect(out.sum).toEqual({ dims: [2, 1], data: [6, 25] });
    expect(out.sums).toEqual({ dims: [2, 3, 1], data: [3, 5, 6, 16, 21, 25] });
  });

  it('rejects scan inputs of different lengths, naming them', async () => {
    const spec: ModelSpec = {
      inputs: [
        { name: 'init', dtype: 'float32', shape: [2] },
        { name: 'a', dtype: 'float32', shape: [3, 2] },
        { name: 'b', dtype: 'float32', shape: [4, 2] },
      ],
      outputs: [{ name: 'sum', dtype: 'float32', shape: [2] }],
      nodes: [
        {
          op: 'Scan',
          name: 'scan',
          inputs: ['init', 'a', 'b'],
          outputs: ['sum'],
          attrs: {
            num_scan_inputs: { i: 2 },
            body: {
              g: {
                inputs: [{ name: 's' }, { name: 'ea' }, { name: 'eb' }],
                outputs: [{ name: 's2' }],
                nodes: [{ op: 'Sum', inputs: ['s', 'ea', 'eb'], outputs: ['s2'] }],
              },
            },
          },
        },
      ],
    };
    await expect(compileModel(buildModel(spec))).rejects.toThrow(
      /Scan node "scan" \(opset 17\): scan input 1 \("b"\) has 4 elements along axis 0, the scan inputs before it 3/,
    );
  });
});
