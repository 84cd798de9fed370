/** Helpers to write small ONNX models in tests, with onnx-proto's own encoder. */
import { onnx, type OnnxTypes } from '../../src/frontend/onnx/proto.js';

export { onnx };
export type { OnnxTypes };

export function valueInfo(
  name: string,
  elemType: number,
  dims: (number | string)[],
): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** A model `y = Relu(x)` (float32 [2, 3]) with the given graph and model fields overridden. */
export function reluModel(
  graph: Partial<OnnxTypes.IGraphProto> = {},
  model: Partial<OnnxTypes.IModelProto> = {},
): OnnxTypes.IModelProto {
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'relu',
      input: [valueInfo('x', 1, [2, 3])],
      output: [valueInfo('y', 1, [2, 3])],
      node: [{ opType: 'Relu', input: ['x'], output: ['y'] }],
      ...graph,
    },
    ...model,
  };
}

export function encodeModel(m: OnnxTypes.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create(m)).finish();
}
