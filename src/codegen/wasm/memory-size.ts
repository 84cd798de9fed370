/**
 * The linear memory a compiled module declares, read from its memory section. The code generator may
 * add its own scratch (GEMM panels) past the planned buffers, so the module, not the plan, is the
 * authority on how much memory a bundle needs.
 */
const PAGE = 65536;
const MEMORY_SECTION = 5;

function readLeb(bytes: Uint8Array, at: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[at++];
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) return [value, at];
  }
}

export function declaredMemoryBytes(wasm: Uint8Array): number {
  let at = 8; // magic + version
  while (at < wasm.length) {
    const id = wasm[at];
    const [size, body] = readLeb(wasm, at + 1);
    if (id === MEMORY_SECTION) {
      const [, limitsAt] = readLeb(wasm, body); // number of memories (1)
      const [, initialAt] = readLeb(wasm, limitsAt); // limits flags
      return readLeb(wasm, initialAt)[0] * PAGE;
    }
    at = body + size;
  }
  throw new Error('wasm codegen: the module declares no memory');
}
