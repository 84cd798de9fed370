/**
 * Memory over several storage bindings (src/codegen/wgsl/bindings.ts), with bindings made small so that
 * buffers span several of them: results equal the wasm generator's, read-only where nothing is stored,
 * and a kernel that needs more bindings than the adapter has is refused at load.
 */
import { describe, expect, it } from 'vitest';
import { add, cast, f32, load, loop, mul, store, sub, i32, v } from '../../../src/kernels/build.js';
import { compileProgramWgsl } from '../../../src/codegen/wgsl/index.js';
import { WebGpuInstance } from '../../../src/runtime/webgpu-backend.js';
import { testGpu } from '../../helpers/gpu.js';
import { place, programOf, typed } from '../program.js';
import { programOfCase, dataOf } from '../cases/case.js';
import { ODD_GEMM_CASE } from '../cases/gemm.js';
import { expectClose, manifestFor, runBoth } from './harness.js';

const N = 1000;
// x, y and out span four bindings each and q (uint8) lies in one: 13 bindings in one kernel, past the
// default limit of 8 (the device asks for more)
const [x, y, q, out] = place([
  { dtype: 'float32', length: N },
  { dtype: 'float32', length: N },
  { dtype: 'uint8', length: N },
  { dtype: 'float32', length: N },
]);
const mixed = programOf(
  [x, y, q, out],
  [
    loop('i', N, [
      store(
        out,
        v('i'),
        add(
          mul(load(x, v('i')), f32(2)),
          add(load(y, sub(i32(N - 1), v('i'))), cast('f32', load(q, v('i')))),
        ),
      ),
    ]),
  ],
);
const inputs = [
  { buf: x, data: Float32Array.from({ length: N }, (_, i) => Math.sin(i) * 100) },
  { buf: y, data: Float32Array.from({ length: N }, (_, i) => Math.cos(i * 0.3)) },
  {
    buf: q,
    data: typed(
      'uint8',
      Array.from({ length: N }, (_, i) => (i * 37) % 256),
    ),
  },
];

describe('wgsl memory over several storage bindings', () => {
  it('buffers spanning bindings and a narrow buffer in one: the wasm results, read-only where unwritten', async () => {
    const { results, compiled, wasm } = await runBoth(mixed, inputs, [out], { bindingBytes: 1024 });
    expectClose(results[0], wasm[0]);
    const { segments } = compiled;
    expect(segments.every((s) => s.bytes <= 1024)).toBe(true);
    expect(compiled.run[0].bindings.length).toBe(13);
    const accessAt = (offset: number) =>
      segments.find((s) => s.offset <= offset && offset < s.offset + s.bytes)!.access;
    expect([x, y, q, out].map((b) => accessAt(b.offset))).toEqual(['read', 'read', 'read', 'read_write']);
    expect(compiled.code).toMatch(/fn ld_span_\d+_\d+\(w: i32\) -> u32/);
    expect(compiled.code).toMatch(/fn st_span_\d+_\d+\(w: i32, v: u32\)/);
    expect(compiled.code).toMatch(/fn ld_u8_mem\d+\(b: i32\)/);
  });

  it('the tiled gemm shader reads and writes views across bindings', async () => {
    const { program, bufs } = programOfCase(ODD_GEMM_CASE);
    const given = ODD_GEMM_CASE.buffers.flatMap((s, i) =>
      s.data ? [{ buf: bufs[i], data: dataOf(s)! }] : [],
    );
    const { results, compiled, wasm } = await runBoth(program, given, bufs, { bindingBytes: 4096 });
    expect(compiled.code).toContain('var<workgroup>');
    expect(compiled.run[0].bindings.length).toBeGreaterThan(3);
    results.forEach((r, i) => expectClose(r, wasm[i], { rel: 1e-5, abs: 1e-6 }, `buffer ${i}`));
  });

  it('a narrow buffer over several bindings is refused at compile time', () => {
    const [bytes, sum] = place([
      { dtype: 'uint8', length: 4096 },
      { dtype: 'int32', length: 1 },
    ]);
    const program = programOf([bytes, sum], [store(sum, i32(0), load(bytes, i32(4095)))]);
    expect(() => compileProgramWgsl(program, { bindingBytes: 1024 })).toThrow(
      /kernel "test kernel": load from buffer #0 \(uint8\) spans storage bindings \d+\.\.\d+; only 4-byte elements may/,
    );
  });

  it('a kernel binding more buffers than the adapter allows is refused at load, naming the limit and the tensor', async () => {
    const [big, copy] = place([
      { dtype: 'float32', length: 4096 },
      { dtype: 'float32', length: 4 },
    ]);
    const program = programOf(
      [big, copy],
      [loop('i', 4, [store(copy, v('i'), load(big, mul(v('i'), i32(1000))))])],
    );
    const compiled = compileProgramWgsl(program, { bindingBytes: 256 });
    const files = {
      manifest: manifestFor(compiled, [{ buf: big, data: new Float32Array(4096) }], [copy]),
      wasm: new Uint8Array(0),
      weights: new Uint8Array(0),
      wgsl: compiled.code,
    };
    await expect(WebGpuInstance.create(files, await testGpu())).rejects.toThrow(
      /model "wgsl test": kernel "test kernel" \(k0_test_kernel\) binds 65 storage buffers \(input "b0", 16384 bytes; output "b1", 16 bytes\), but this adapter's maxStorageBuffersPerShaderStage is \d+/,
    );
  });
});
