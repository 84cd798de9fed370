/**
 * A kernel as a model: a one-node ONNX graph whose inputs and outputs are the kernel's parameters
 * (input shapes given, output shapes from the shape function, attributes given or at their defaults), so that
 * a kernel bundle is compiled, served and deployed by the normal model path.
 */
import { onnx } from '../frontend/onnx/proto.js';
import { onnxFromDtype } from '../ir/dtype.js';
import { bindAttrs, outputShapes, storageOf, type AttrValue, type KernelDef } from '../kernel-lang/kernel.js';
import type { ElementType } from '../kernel-lang/value.js';

const valueInfo = (name: string, t: ElementType, shape: readonly number[]) => ({
  name,
  type: {
    tensorType: {
      elemType: onnxFromDtype(storageOf(t)),
      shape: { dim: shape.map((d) => ({ dimValue: d })) },
    },
  },
});

/** The ONNX model bytes of one node running `def` on inputs of `shapes`, with attributes `given`. */
export function kernelModel(
  def: KernelDef,
  shapes: Record<string, readonly number[]>,
  name: string,
  given: Record<string, AttrValue> = {},
): Uint8Array {
  const attrs = bindAttrs(def, given);
  const AttributeType = onnx.AttributeProto.AttributeType;
  const outShapes = outputShapes(def, shapes, attrs);
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'kiln kernel',
    opsetImport: [
      { domain: '', version: 17 },
      { domain: def.domain, version: 1 },
    ],
    graph: {
      name,
      input: Object.entries(def.inputs).map(([n, t]) => valueInfo(n, t, shapes[n])),
      output: Object.entries(def.outputs).map(([n, t]) => valueInfo(n, t, outShapes[n])),
      node: [
        {
          name: def.op,
          opType: def.op,
          domain: def.domain,
          input: Object.keys(def.inputs),
          output: Object.keys(def.outputs),
          attribute: Object.entries(attrs).map(([attr, value]) =>
            typeof value === 'string'
              ? { name: attr, type: AttributeType.STRING, s: new TextEncoder().encode(value) }
              : def.attrs[attr].kind === 'int'
                ? { name: attr, type: AttributeType.INT, i: value }
                : { name: attr, type: AttributeType.FLOAT, f: value },
          ),
        },
      ],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
