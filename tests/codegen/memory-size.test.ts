import { describe, expect, it } from 'vitest';
import { compileProgram, declaredMemoryBytes } from '../../src/codegen/wasm/index.js';

describe('declaredMemoryBytes', () => {
  it('reads the initial memory size from the module, as WebAssembly sees it', () => {
    for (const memoryBytes of [1, 65536, 65537, 3 << 20]) {
      const wasm = compileProgram({ buffers: [], memoryBytes, init: [], run: [] }, { optimize: false });
      const instance = new WebAssembly.Instance(new WebAssembly.Module(wasm));
      const memory = instance.exports.memory as WebAssembly.Memory;
      expect(declaredMemoryBytes(wasm)).toBe(memory.buffer.byteLength);
      expect(declaredMemoryBytes(wasm)).toBeGreaterThanOrEqual(memoryBytes);
    }
  });
});
