/**
 * Feature detection of relaxed SIMD: WebAssembly.validate on the smallest module that uses it, once
 * per process. On by default in Node ≥ 22, Chrome ≥ 114, Firefox ≥ 145, Deno and workerd; Node 20
 * needs --experimental-wasm-relaxed-simd; Safari keeps it behind a flag (DESIGN.md §4).
 */

/** `(func (param v128 v128 v128) (result v128) (f32x4.relaxed_madd (local.get 0) (local.get 1) (local.get 2)))` */
// prettier-ignore
const PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type: (v128 v128 v128) -> v128
  0x03, 0x02, 0x01, 0x00, // function 0 has type 0
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b, // body
]);

let supported: boolean | undefined;

/** Whether this engine compiles relaxed-SIMD modules. */
export function hasRelaxedSimd(): boolean {
  if (supported === undefined) {
    try {
      supported = WebAssembly.validate(PROBE);
    } catch {
      // an embedder that forbids even validating bytes: assume not (an imported module still proves it)
      supported = false;
    }
  }
  return supported;
}
