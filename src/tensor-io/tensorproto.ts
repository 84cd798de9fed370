/** ONNX TensorProto files (.pb), as used by the ONNX backend test data. */
import { onnxFromDtype } from '../ir/dtype.js';
import { tensorBytes, type HostTensor } from '../ir/tensor.js';
import { tensorFromProto, type ReadExternal } from '../frontend/onnx/index.js';
import { onnx } from '../frontend/onnx/proto.js';
import { INVALID, asModelError } from '../frontend/onnx/errors.js';

export interface ReadTensorProtoOptions {
  /** reads data of a tensor stored in an external file */
  readExternal?: ReadExternal;
}

export function readTensorProto(
  bytes: Uint8Array,
  opts: ReadTensorProtoOptions = {},
): HostTensor & { name?: string } {
  let tp: ReturnType<typeof onnx.TensorProto.decode>;
  try {
    tp = onnx.TensorProto.decode(bytes);
  } catch (e) {
    throw new Error(`invalid TensorProto: cannot decode the protobuf (${(e as Error).message})`);
  }
  const name = tp.name || undefined;
  try {
    const t = tensorFromProto(tp, `tensor ${JSON.stringify(tp.name ?? '')}`, opts);
    return name === undefined ? t : { ...t, name };
  } catch (e) {
    // The shared tensor conversion speaks of models; here the input is a lone tensor.
    const msg = asModelError(e).message;
    throw new Error(msg.startsWith(INVALID) ? `invalid TensorProto: ${msg.slice(INVALID.length)}` : msg);
  }
}

export function writeTensorProto(t: HostTensor, name: string): Uint8Array {
  const proto: Parameters<typeof onnx.TensorProto.create>[0] = {
    name,
    dims: t.dims,
    dataType: onnxFromDtype(t.dtype),
  };
  if (t.dtype === 'string') proto.stringData = (t.data as string[]).map((s) => new TextEncoder().encode(s));
  else proto.rawData = tensorBytes(t);
  return onnx.TensorProto.encode(onnx.TensorProto.create(proto)).finish();
}
