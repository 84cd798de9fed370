/**
 * Open Inference Protocol datatype names ⇄ Kiln dtypes. (serve may not import the compiler's IR, so this
 * table lives here, the only copy; float16 bits ⇄ numbers are in runtime/element-values.ts.)
 */
import type { NumericDType } from '../bundle/elements.js';

export const DATATYPE_OF: Record<NumericDType, string> = {
  bool: 'BOOL',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  float16: 'FP16',
  float32: 'FP32',
  float64: 'FP64',
};

/** Every datatype name the protocol defines; BYTES is known but not served (Kiln has no string tensors). */
export const PROTOCOL_DATATYPES: readonly string[] = [...Object.values(DATATYPE_OF), 'BYTES'];
