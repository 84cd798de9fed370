import Long from 'long';
import { describe, expect, it } from 'vitest';
import { parseOnnxModel } from '../../src/frontend/onnx/index.js';
import type { Graph } from '../../src/ir/graph.js';
import { onnx, type OnnxTypes } from '../../src/frontend/onnx/proto.js';
import { encodeModel, reluModel, valueInfo } from '../helpers/onnx-builder.js';

const AT = onnx.AttributeProto.AttributeType;
const parse = (m: OnnxTypes.IModelProto) => parseOnnxModel(encodeModel(m));
/**
 * A model whose only initializer is `t`, used by a graph output so the graph stays valid. The output's
 * type is written as a raw element type code, as `t` may have one Kiln does not support.
 */
const withInit = (t: OnnxTypes.ITensorProto) =>
  reluModel({
    input: [],
    initializer: [{ name: 'x', ...t }],
    output: [{ name: 'y', type: { tensorType: { elemType: t.dataType ?? 1, shape: { dim: [] } } } }],
  });

describe('initializers', () => {
  it('reads every typed data field', () => {
    const cases: [OnnxTypes.ITensorProto, unknown][] = [
      [{ dataType: 1, dims: [2], floatData: [1.5, -2] }, Float32Array.of(1.5, -2)],
      [{ dataType: 3, dims: [3], int32Data: [-1, 127, -128] }, Int8Array.of(-1, 127, -128)],
      [{ dataType: 2, dims: [2], int32Data: [255, 0] }, Uint8Array.of(255, 0)],
      [{ dataType: 5, dims: [1], int32Data: [-300] }, Int16Array.of(-300)],
      [{ dataType: 4, dims: [1], int32Data: [65535] }, Uint16Array.of(65535)],
      [{ dataType: 9, dims: [2], int32Data: [1, 0] }, Uint8Array.of(1, 0)],
      [{ dataType: 10, dims: [1], int32Data: [0x3c00] }, Uint16Array.of(0x3c00)],
      [{ dataType: 6, dims: [1], int32Data: [-5] }, Int32Array.of(-5)],
      [
        { dataType: 7, dims: [2], int64Data: [Long.fromString('-9007199254740993'), 3] },
        BigInt64Array.of(-9007199254740993n, 3n),
      ],
      [{ dataType: 11, dims: [1], doubleData: [0.1] }, Float64Array.of(0.1)],
      [{ dataType: 12, dims: [1], uint64Data: [4294967295] }, Uint32Array.of(4294967295)],
      [
        { dataType: 13, dims: [1], uint64Data: [Long.fromString('18446744073709551615', true)] },
        BigUint64Array.of(2n ** 64n - 1n),
      ],
      [{ dataType: 8, dims: [2], stringData: [Buffer.from('ab'), Buffer.from('ü')] }, ['ab', 'ü']],
      [{ dataType: 1, dims: [2, 0] }, new Float32Array(0)],
    ];
    for (const [t, data] of cases) expect(parse(withInit(t)).initializers.get('x')!.data).toEqual(data);
  });

  it('copies unaligned raw_data into a fresh aligned array', () => {
    const g = parse(
      withInit({
        dataType: 7,
        dims: [2],
        rawData: Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255),
      }),
    );
    const data = g.initializers.get('x')!.data as BigInt64Array;
    expect(data).toEqual(BigInt64Array.of(1n, -1n));
    expect(data.byteOffset).toBe(0);
    expect(data.buffer.byteLength).toBe(16);
  });

  it('validates dims and data sizes before allocating', () => {
    const err = (t: OnnxTypes.ITensorProto) => () => parse(withInit(t));
    expect(err({ dataType: 1, dims: [-1], floatData: [1] })).toThrow(
      /^invalid ONNX model: initializer "x": dim 0 is -1/,
    );
    expect(err({ dataType: 1, dims: [2 ** 40, 2 ** 40] })).toThrow(
      /initializer "x": shape .* is larger than the 2147483648 bytes/,
    );
    expect(err({ dataType: 1, dims: [3], rawData: new Uint8Array(8) })).toThrow(
      /3 elements of float32 need 12 bytes of data, found 8/,
    );
    expect(err({ dataType: 1, dims: [3], floatData: [1, 2] })).toThrow(
      /has 3 elements but floatData holds 2/,
    );
    expect(err({ dataType: 1, dims: [3] })).toThrow(/has 3 elements but no data/);
    expect(err({ dataType: 7, dims: [1], floatData: [1] })).toThrow(
      /element type int64 cannot be stored in floatData/,
    );
    expect(err({ dataType: 1, dims: [1], floatData: [1], rawData: new Uint8Array(4) })).toThrow(
      /several fields/,
    );
  });

  it('names the tensor when its element type is unsupported', () => {
    expect(() => parse(withInit({ dataType: 16, dims: [1], rawData: new Uint8Array(2) }))).toThrow(
      /^initializer "x": unsupported ONNX tensor element type BFLOAT16$/,
    );
    expect(() => parse(withInit({ dataType: 17, dims: [1], rawData: new Uint8Array(1) }))).toThrow(
      /FLOAT8E4M3FN/,
    );
  });

  it('does not make initializers that are also graph inputs into runtime inputs', () => {
    const g = parse(
      reluModel({
        input: [valueInfo({ name: 'x', dtype: 'float32', shape: [1] })],
        initializer: [{ name: 'x', dataType: 1, dims: [1], floatData: [2] }],
      }),
    );
    expect(g.inputs).toEqual([]);
    expect(g.initializers.get('x')!.data).toEqual(Float32Array.of(2));
  });
});

describe('values, nodes and attributes', () => {
  it('reads input dims: values, symbols and free dimensions', () => {
    const m = reluModel();
    m.graph!.input = [
      {
        name: 'x',
        type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 2 }, { dimParam: 'batch' }, {}] } } },
      },
    ];
    expect(parse(m).inputs).toEqual([{ name: 'x', dtype: 'float32', shape: [2, 'batch', 'x:2'] }]);
    m.graph!.input = [{ name: 'x', type: { tensorType: { elemType: 1 } } }];
    expect(() => parse(m)).toThrow(/^main graph: input "x" has unknown rank/);
  });

  it('converts every attribute type and names anonymous nodes', () => {
    const body = reluModel().graph!;
    const node: OnnxTypes.INodeProto = {
      opType: 'Custom',
      domain: 'ai.onnx',
      input: ['x'],
      output: ['y'],
      attribute: [
        { name: 'f', type: AT.FLOAT, f: 0.5 },
        { name: 'i', type: AT.INT, i: -3 },
        { name: 'big', type: AT.INT, i: Long.fromString('9007199254740993') },
        { name: 's', type: AT.STRING, s: Buffer.from('héllo') },
        { name: 't', type: AT.TENSOR, t: { dataType: 6, dims: [1], int32Data: [7] } },
        { name: 'g', type: AT.GRAPH, g: body },
        { name: 'fs', type: AT.FLOATS, floats: [1, 2] },
        { name: 'is', type: AT.INTS, ints: [1, -2] },
        { name: 'ss', type: AT.STRINGS, strings: [Buffer.from('a')] },
        { name: 'ts', type: AT.TENSORS, tensors: [{ dataType: 1, dims: [], floatData: [1] }] },
        { name: 'gs', type: AT.GRAPHS, graphs: [body, body] },
        { name: 'untyped', ints: [4] },
        { name: '__proto__', type: AT.INT, i: 1 },
      ],
    };
    const g = parse(reluModel({ node: [node] }, { opsetImport: [{ domain: 'ai.onnx', version: 13 }] }));
    const n = g.nodes[0];
    expect(n).toMatchObject({ op: 'Custom', domain: '', name: 'Custom_0', inputs: ['x'], outputs: ['y'] });
    expect(g.opsets['']).toBe(13);
    const a = n.attrs;
    expect([a.f, a.i, a.big, a.s, a.fs, a.is, a.ss, a.untyped]).toEqual([
      0.5,
      -3,
      2 ** 53,
      'héllo',
      [1, 2],
      [1, -2],
      ['a'],
      [4],
    ]);
    expect(a.t).toEqual({ dtype: 'int32', dims: [1], data: Int32Array.of(7) });
    expect((a.g as Graph).nodes[0].op).toBe('Relu');
    expect((a.gs as Graph[]).length).toBe(2);
    expect((a.ts as unknown[]).length).toBe(1);
    expect(Object.getOwnPropertyDescriptor(a, '__proto__')?.value).toBe(1);
  });

  it('refuses sparse and type attributes, attribute references and model-local functions clearly', () => {
    const withAttr = (attr: OnnxTypes.IAttributeProto) =>
      reluModel({ node: [{ opType: 'Relu', name: 'r', input: ['x'], output: ['y'], attribute: [attr] }] });
    expect(() => parse(withAttr({ name: 'sp', type: AT.SPARSE_TENSOR, sparseTensor: {} }))).toThrow(
      /^attribute "sp" of Relu node "r" has type SPARSE_TENSOR, which is not supported$/,
    );
    expect(() => parse(withAttr({ name: 'tp', type: AT.TYPE_PROTO, tp: {} }))).toThrow(/"tp" .*TYPE_PROTO/);
    expect(() => parse(withAttr({ name: 'a', type: AT.INT, refAttrName: 'alpha' }))).toThrow(
      /attribute "a" of Relu node "r" refers to function attribute "alpha"/,
    );
    const fn = reluModel(
      { node: [{ opType: 'MyFn', domain: 'local', input: ['x'], output: ['y'] }] },
      { functions: [{ name: 'MyFn', domain: 'local', input: ['a'], output: ['b'], node: [] }] },
    );
    expect(() => parse(fn)).toThrow(/node "MyFn_0": function "MyFn" \(domain "local"\) is not supported/);
  });

  it('turns every kind of Constant node into an initializer', () => {
    const constant = (attr: OnnxTypes.IAttributeProto, output = 'y'): OnnxTypes.INodeProto => ({
      opType: 'Constant',
      output: [output],
      attribute: [attr],
    });
    const value = (attr: OnnxTypes.IAttributeProto) =>
      parse(reluModel({ input: [], node: [constant(attr)] })).initializers.get('y');
    expect(value({ name: 'value', type: AT.TENSOR, t: { dataType: 1, dims: [1], floatData: [3] } })).toEqual({
      dtype: 'float32',
      dims: [1],
      data: Float32Array.of(3),
    });
    expect(value({ name: 'value_float', type: AT.FLOAT, f: 2 })).toEqual({
      dtype: 'float32',
      dims: [],
      data: Float32Array.of(2),
    });
    expect(value({ name: 'value_floats', type: AT.FLOATS, floats: [1, 2] })!.data).toEqual(
      Float32Array.of(1, 2),
    );
    expect(value({ name: 'value_int', type: AT.INT, i: 5 })).toEqual({
      dtype: 'int64',
      dims: [],
      data: BigInt64Array.of(5n),
    });
    expect(value({ name: 'value_ints', type: AT.INTS, ints: [1, 2] })).toMatchObject({ dims: [2] });
    expect(value({ name: 'value_string', type: AT.STRING, s: Buffer.from('s') })).toEqual({
      dtype: 'string',
      dims: [],
      data: ['s'],
    });
    expect(value({ name: 'value_strings', type: AT.STRINGS, strings: [Buffer.from('a')] })!.data).toEqual([
      'a',
    ]);
    expect(() => value({ name: 'sparse_value', type: AT.SPARSE_TENSOR, sparseTensor: {} })).toThrow(
      /not supported/,
    );
    const g = parse(
      reluModel({
        input: [],
        node: [
          constant({ name: 'value_int', type: AT.INT, i: 1 }, 'x'),
          { opType: 'Relu', input: ['x'], output: ['y'] },
        ],
      }),
    );
    expect(g.nodes.map((n) => n.name)).toEqual(['Relu_1']);
  });
});

describe('structural errors', () => {
  const invalid = (m: OnnxTypes.IModelProto | Uint8Array, pattern: RegExp) => {
    const bytes = m instanceof Uint8Array ? m : encodeModel(m);
    expect(() => parseOnnxModel(bytes)).toThrow(/^invalid ONNX model: /);
    expect(() => parseOnnxModel(bytes)).toThrow(pattern);
  };

  it('names what is wrong', () => {
    invalid(Uint8Array.of(0x3a, 0x80), /cannot decode the protobuf/);
    invalid({ irVersion: 8 }, /has no graph/);
    invalid(reluModel({ node: [{ input: ['x'], output: ['y'] }] }), /node 0 \(""\) has no op_type/);
    invalid(
      reluModel({
        node: [
          { opType: 'Relu', input: ['x'], output: ['y'] },
          { opType: 'Relu', name: 'again', input: ['x'], output: ['y'] },
        ],
      }),
      /Relu node "again": output "y" is already defined/,
    );
    invalid(
      reluModel({ node: [{ opType: 'Relu', input: ['nothing'], output: ['y'] }] }),
      /Relu node "Relu_0": input 0 "nothing" is not defined/,
    );
    invalid(reluModel({ node: [] }), /graph output "y" is not produced/);
    invalid(
      reluModel({}, { opsetImport: [] }),
      /Relu node "Relu_0" uses the default ONNX domain, but the model imports no opset/,
    );
    invalid(reluModel({}, { opsetImport: [{ domain: '', version: 0 }] }), /has version 0/);
  });

  it('allows subgraphs to use values of the enclosing graph', () => {
    const then: OnnxTypes.IGraphProto = {
      name: 'then',
      output: [valueInfo({ name: 'x', dtype: 'float32', shape: [2, 3] })],
    };
    const m = reluModel({
      input: [
        valueInfo({ name: 'x', dtype: 'float32', shape: [2, 3] }),
        valueInfo({ name: 'c', dtype: 'bool', shape: [] }),
      ],
      node: [
        {
          opType: 'If',
          input: ['c'],
          output: ['y'],
          attribute: [
            { name: 'then_branch', type: AT.GRAPH, g: then },
            { name: 'else_branch', type: AT.GRAPH, g: then },
          ],
        },
      ],
    });
    expect((parse(m).nodes[0].attrs.then_branch as Graph).outputs[0].name).toBe('x');
  });

  it('needs no default opset when only custom domains are used', () => {
    const m = reluModel(
      { node: [{ opType: 'Foo', domain: 'com.example', input: ['x'], output: ['y'] }] },
      { opsetImport: [{ domain: 'com.example', version: 1 }] },
    );
    expect(parse(m).opsets).toEqual({ 'com.example': 1 });
  });

  it('survives protobuf nesting deep enough to overflow the decoder stack', () => {
    // ModelProto.graph → (GraphProto.node → NodeProto.attribute → AttributeProto.g) repeated.
    const tags = [0x3a, ...Array.from({ length: 60000 }, (_, i) => [0x0a, 0x2a, 0x32][i % 3])];
    const varintLength = (n: number) => (n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4);
    const lengths = new Array<number>(tags.length);
    for (let i = tags.length - 1, inner = 0; i >= 0; i--) {
      lengths[i] = inner;
      inner += 1 + varintLength(inner);
    }
    const bytes: number[] = [];
    tags.forEach((tag, i) => {
      bytes.push(tag);
      for (let v = lengths[i]; ; v >>>= 7) {
        if (v < 128) {
          bytes.push(v);
          break;
        }
        bytes.push((v & 0x7f) | 0x80);
      }
    });
    expect(() => parseOnnxModel(Uint8Array.from(bytes))).toThrow(/^invalid ONNX model: /);
  });

  it('keeps error messages on one line even for names with newlines', () => {
    const m = reluModel({ node: [{ opType: 'Relu', name: 'a\nb', input: ['missing\n'], output: ['y'] }] });
    expect(() => parse(m)).toThrow(
      /^invalid ONNX model: Relu node "a\\nb": input 0 "missing\\n" is not defined/,
    );
  });
});
