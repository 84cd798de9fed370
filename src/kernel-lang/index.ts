/**
 * The kernel language: what a kernel file imports. A kernel is plain TypeScript over typed tensor
 * parameters, traced into Kernel IR for both code generators and runnable as JavaScript (the reference).
 */
export {
  kernel,
  float,
  floats,
  int,
  ints,
  string,
  runReference,
  type KernelDef,
  type KernelSpec,
  type TensorInfo,
} from './kernel.js';
export {
  elementwise,
  elementwiseReference,
  type ElementwiseDef,
  type ElementwiseSpec,
} from './elementwise.js';
export type { KernelContext, Local } from './context.js';
export type { Tensor } from './tensor.js';
export {
  abs,
  ceil,
  cos,
  erf,
  exp,
  floor,
  log,
  max,
  min,
  rsqrt,
  select,
  sigmoid,
  sin,
  sqrt,
  tanh,
  type ElementType,
  type Operand,
  type Value,
} from './value.js';
