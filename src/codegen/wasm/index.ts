/** WebAssembly code generator: Kernel IR Program → .wasm module exporting memory, init() and run(). */
export {
  compileProgram,
  compileWat,
  moduleMemoryBytes,
  programToWat,
  runKernelFunctionNames,
  type WasmOptions,
} from './module.js';
export { evaluateProgram } from './evaluate.js';
export { declaredMemoryBytes } from './memory-size.js';
