export { parseOnnxModel, type ParseOnnxOptions } from './model.js';
export { tensorFromProto, MAX_TENSOR_BYTES } from './tensor.js';
export type { ReadExternal } from './external.js';
