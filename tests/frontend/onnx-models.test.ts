import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseOnnxModel } from '../../src/frontend/onnx/index.js';
import type { Graph } from '../../src/ir/graph.js';
import { readTensorProto } from '../../src/tensor-io/index.js';
import { onnx } from '../../src/frontend/onnx/proto.js';

const LIGHT = '/work/shared/data/onnx-light';
const NODE = '/usr/include/onnx/backend/test/data/node';

/** Every node named, every used value defined somewhere in this graph or (for subgraphs) outside it. */
function checkWellFormed(g: Graph): void {
  for (const n of g.nodes) {
    expect(n.name).not.toBe('');
    expect(n.op).not.toBe('');
    expect(n.outputs.length).toBeGreaterThan(0);
  }
  for (const vi of [...g.inputs, ...g.outputs])
    expect(vi.shape.every((d) => typeof d === 'string' || d >= 0)).toBe(true);
}

describe('onnx-light models', () => {
  const files = readdirSync(LIGHT).filter((f) => f.endsWith('.onnx'));
  it('finds all nine models', () => expect(files).toHaveLength(9));

  it.each(files)('%s parses with every node and initializer', (file) => {
    const bytes = readFileSync(`${LIGHT}/${file}`);
    const proto = onnx.ModelProto.decode(bytes);
    const g = parseOnnxModel(bytes);
    expect(g.opsets['']).toBe(9);
    // Light models have no Constant nodes, so every node stays a node.
    expect(g.nodes).toHaveLength(proto.graph!.node!.length);
    expect(g.initializers.size).toBe(proto.graph!.initializer!.length);
    // IR v3 lists initializers as graph inputs too; only the image input remains a runtime input.
    expect(g.inputs).toHaveLength(1);
    expect(g.inputs[0]).toMatchObject({ dtype: 'float32', shape: [1, 3, 224, 224] });
    expect(g.outputs).toHaveLength(1);
    checkWellFormed(g);
  });

  it('resnet50 names anonymous nodes by op and index and converts attributes', () => {
    const g = parseOnnxModel(readFileSync(`${LIGHT}/light_resnet50.onnx`));
    expect(g.nodes[0].name).toBe('ConstantOfShape_0');
    const conv = g.nodes.find((n) => n.op === 'Conv')!;
    expect(conv.attrs.kernel_shape).toEqual([7, 7]);
    expect(conv.attrs.strides).toEqual([2, 2]);
    const fill = g.nodes.find((n) => n.op === 'ConstantOfShape')!;
    expect(fill.attrs.value).toMatchObject({ dtype: 'float32', dims: [1] });
    const shape = g.initializers.get(fill.inputs[0])!;
    expect(shape.dtype).toBe('int64');
    expect(shape.data).toBeInstanceOf(BigInt64Array);
  });
});

describe('ONNX backend node tests', () => {
  const dirs = existsSync(NODE) ? readdirSync(NODE).sort() : [];
  // Every 7th test plus control flow, Constant and dtype-heavy ones.
  const sample = [
    ...dirs.filter((_, i) => i % 7 === 0),
    ...['test_if', 'test_loop11', 'test_scan9_sum', 'test_constant', 'test_cast_FLOAT_to_FLOAT16'],
    ...['test_cast_FLOAT_to_STRING', 'test_strnormalizer_export_monday_casesensintive_lower'],
  ].filter((d, i, all) => all.indexOf(d) === i);
  // Sequence/optional values and bfloat16 are outside Kiln's Graph IR; those fail with clear errors.
  const unsupported = /is not a tensor|BFLOAT16|has no type/;

  it('has the test data installed', () => expect(dirs.length).toBeGreaterThan(500));

  it.each(sample)('%s parses or is refused clearly', (dir) => {
    const bytes = readFileSync(`${NODE}/${dir}/model.onnx`);
    let g: Graph;
    try {
      g = parseOnnxModel(bytes, { baseDir: `${NODE}/${dir}` });
    } catch (e) {
      expect((e as Error).message).toMatch(unsupported);
      return;
    }
    const proto = onnx.ModelProto.decode(bytes);
    const constants = proto.graph!.node!.filter((n) => n.opType === 'Constant').length;
    expect(g.nodes.length).toBe(proto.graph!.node!.length - constants);
    expect(g.initializers.size).toBe(proto.graph!.initializer!.length + constants);
    expect(Object.values(g.opsets).length).toBeGreaterThan(0);
    checkWellFormed(g);
  });

  it('turns a Constant node into an initializer equal to the expected output', () => {
    const g = parseOnnxModel(readFileSync(`${NODE}/test_constant/model.onnx`));
    expect(g.nodes).toHaveLength(0);
    const expected = readTensorProto(readFileSync(`${NODE}/test_constant/test_data_set_0/output_0.pb`));
    const value = g.initializers.get(g.outputs[0].name)!;
    expect(value.dims).toEqual(expected.dims);
    expect(value.data).toEqual(expected.data);
  });

  it('converts Loop and If bodies into subgraphs', () => {
    const loop = parseOnnxModel(readFileSync(`${NODE}/test_loop11/model.onnx`)).nodes[0];
    expect(loop.op).toBe('Loop');
    const body = loop.attrs.body as Graph;
    expect(body.inputs.map((i) => i.dtype)).toEqual(['int64', 'bool', 'float32']);
    expect(body.nodes.length).toBeGreaterThan(0);
    expect(body.opsets['']).toBe(11);
    const ifNode = parseOnnxModel(readFileSync(`${NODE}/test_if/model.onnx`)).nodes[0];
    expect((ifNode.attrs.then_branch as Graph).outputs).toHaveLength(1);
    expect((ifNode.attrs.else_branch as Graph).outputs).toHaveLength(1);
  });
});
