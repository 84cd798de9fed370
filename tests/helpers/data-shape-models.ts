/** Models whose output sizes are values (#11 item 2), shared by the CLI and serving tests. */
import { buildModel } from './onnx-builder.js';

/** TopK's K fed as an input, and NonZero of its values: two data-dependent sizes in one model (x [1,6]). */
export function topKNonZeroModel(): Uint8Array {
  return buildModel({
    opset: 11,
    inputs: [
      { name: 'x', dtype: 'float32', shape: [1, 6] },
      { name: 'k', dtype: 'int64', shape: [1] },
    ],
    outputs: [
      { name: 'values', dtype: 'float32' },
      { name: 'nonzero', dtype: 'int64' },
    ],
    nodes: [
      { op: 'TopK', inputs: ['x', 'k'], outputs: ['values', 'indices'] },
      { op: 'NonZero', inputs: ['values'], outputs: ['nonzero'] },
    ],
  });
}

/** An embedding lookup: rows of a constant [rows, 3] table picked by the token ids fed at run time (ids [3]). */
export function embeddingModel(rows = 5): Uint8Array {
  return buildModel({
    opset: 13,
    inputs: [{ name: 'ids', dtype: 'int64', shape: [3] }],
    outputs: [{ name: 'rows', dtype: 'float32' }],
    initializers: [
      {
        name: 'table',
        tensor: {
          dtype: 'float32',
          dims: [rows, 3],
          data: Float32Array.from({ length: rows * 3 }, (_, i) => i),
        },
      },
    ],
    nodes: [{ op: 'Gather', inputs: ['table', 'ids'], outputs: ['rows'], name: 'embed' }],
  });
}
