/**
 * A kernel as a model: a one-node ONNX graph whose inputs and outputs are the kernel's parameters
 * (input shapes given — a range a dim known only at run time —, output shapes from the shape function,
 * attributes given or at their defaults), so that
 * a kernel bundle is compiled, served and deployed by the normal model path.
 */
import { onnx, type OnnxTypes } from '../frontend/onnx/proto.js';
import { onnxFromDtype } from '../ir/dtype.js';
import {
  bindAttrs,
  outputShapes,
  storageOf,
  type AttrDecl,
  type AttrValue,
  type KernelDef,
} from '../kernel-lang/kernel.js';
import type { ElementType } from '../kernel-lang/value.js';
import * as sym from '../ir/symbolic.js';
import type { ShapeArg } from './options.js';

const valueInfo = (name: string, t: ElementType, shape: readonly sym.SymLike[]) => ({
  name,
  type: {
    tensorType: {
      elemType: onnxFromDtype(storageOf(t)),
      shape: {
        dim: shape.map((d) => {
          const n = sym.constValue(d);
          return n === undefined ? { dimParam: sym.symText(d) } : { dimValue: n };
        }),
      },
    },
  },
});

/** An attribute of the node, typed as its declaration says. */
function attributeProto(name: string, decl: AttrDecl, value: AttrValue): OnnxTypes.IAttributeProto {
  const { AttributeType } = onnx.AttributeProto;
  switch (decl.kind) {
    case 'string':
      return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value as string) };
    case 'int':
      return { name, type: AttributeType.INT, i: value as number };
    case 'float':
      return { name, type: AttributeType.FLOAT, f: value as number };
    case 'ints':
      return { name, type: AttributeType.INTS, ints: [...(value as number[])] };
    case 'floats':
      return { name, type: AttributeType.FLOATS, floats: [...(value as number[])] };
  }
}

/** The name of dim `axis` of kernel input `input` where `--shape` gives it a range: `x_0`. */
const runTimeDimName = (input: string, axis: number) => `${input}_${axis}`;

/**
 * The ONNX model bytes of one node running `def` on inputs of `shapes`, with attributes `given`. A dim
 * given as a range is a symbolic dim of the model (named by runTimeDimName; the compile's --shape bounds
 * it), and the output shapes are expressions over those.
 */
export function kernelModel(
  def: KernelDef,
  shapes: Record<string, readonly ShapeArg[]>,
  name: string,
  given: Record<string, AttrValue> = {},
): Uint8Array {
  const attrs = bindAttrs(def, given);
  const ranges: Record<string, sym.Range> = {};
  const inShapes = Object.fromEntries(
    Object.entries(shapes).map(([input, dims]) => [
      input,
      dims.map((d, axis) => {
        if (typeof d === 'number') return d;
        const symbol = runTimeDimName(input, axis);
        ranges[symbol] = { min: d.min, max: d.max };
        return sym.sym(symbol);
      }),
    ]),
  );
  const outShapes = outputShapes(def, inShapes, attrs, ranges);
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'kiln kernel',
    opsetImport: [
      { domain: '', version: 17 },
      { domain: def.domain, version: 1 },
    ],
    graph: {
      name,
      input: Object.entries(def.inputs).map(([n, t]) => valueInfo(n, t, inShapes[n])),
      output: Object.entries(def.outputs).map(([n, t]) => valueInfo(n, t, outShapes[n])),
      node: [
        {
          name: def.op,
          opType: def.op,
          domain: def.domain,
          input: Object.keys(def.inputs),
          output: Object.keys(def.outputs),
          attribute: Object.entries(attrs).map(([attr, value]) =>
            attributeProto(attr, def.attrs[attr], value),
          ),
        },
      ],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
