/**
 * Run-time sizes on the webgpu target (Dawn; lavapipe in CI): each kernel compiled to WGSL once, loaded
 * once, and run at several symbol values written into the dims block, matching the Kernel IR interpreter
 * (f32 sums within float tolerance). A spread loop with a run-time extent is dispatched at its upper bound,
 * its surplus invocations returning at once.
 */
import { describe, expect, it } from 'vitest';
import { compileProgramWgsl } from '../../../src/codegen/wgsl/index.js';
import { gridFor } from '../../../src/codegen/wgsl/render.js';
import { WebGpuInstance } from '../../../src/runtime/webgpu-backend.js';
import { testGpu } from '../../helpers/gpu.js';
import { expectClose } from '../cases/case.js';
import { interpretSymbolic, programOfSymbolic, runInputs, SYMBOLIC_CASES } from '../cases/symbolic.js';
import { manifestFor } from './harness.js';

const caseNamed = (start: string) => SYMBOLIC_CASES.find((c) => c.name.startsWith(start))!;

describe('webgpu: kernels over run-time sizes', () => {
  for (const c of SYMBOLIC_CASES)
    it(`${c.name}: compiled once, run at ${c.runs.length} sizes`, async () => {
      const { program, bufs, dimsBuf } = programOfSymbolic(c);
      const compiled = compileProgramWgsl(program);
      const placed = [...bufs, dimsBuf];
      const manifest = manifestFor(
        compiled,
        placed.map((buf) => ({ buf, data: new Uint8Array(0) })),
        bufs,
      );
      const files = { manifest, wasm: new Uint8Array(0), weights: new Uint8Array(0), wgsl: compiled.code };
      const instance = await WebGpuInstance.create(files, await testGpu());
      try {
        for (const [r, values] of c.runs.entries()) {
          const inputs = runInputs(c, values, r);
          const out = await instance.run(inputs.map((x) => new Uint8Array(x.buffer)));
          const want = interpretSymbolic(c, program, bufs, inputs, values);
          manifest.outputs.forEach((sig, i) =>
            expectClose(
              out[sig.name].data,
              want[i],
              { rel: 1e-5 },
              `at ${JSON.stringify(values)}, buffer ${i}`,
            ),
          );
        }
      } finally {
        instance.dispose();
      }
    });

  it('dispatches a run-time extent at its upper bound and guards by the dims block', () => {
    const [elementwise, rows] = [caseNamed('elementwise over a run-time length'), caseNamed('row sums')];
    const { program, dimsBuf } = programOfSymbolic(elementwise);
    const compiled = compileProgramWgsl(program);
    expect(compiled.run.map((d) => d.workgroups)).toEqual([gridFor(300), gridFor(300)]);
    expect(compiled.code).toContain(`let n0 = u32(max(bitcast<i32>(mem0[${dimsBuf.offset / 4}i]), 0i));`);
    expect(compiled.code).toContain('if (gid >= n0) { return; }');
    // one invocation per row, up to the 40 rows the bound allows
    expect(compileProgramWgsl(programOfSymbolic(rows).program).run.map((d) => d.workgroups)).toEqual([
      gridFor(40),
    ]);
  });

  it('refuses a dims block over a buffer', () => {
    const { program, bufs } = programOfSymbolic(SYMBOLIC_CASES[0]);
    const overlapping = { ...program, dims: { ...program.dims!, offset: bufs[0].offset } };
    expect(() => compileProgramWgsl(overlapping)).toThrow(
      /^webgpu codegen: the dims block .* overlaps buffer #0/,
    );
  });

  it('spreads a transpose whose strides are run-time sizes, and keeps overlapping writes in one invocation', () => {
    const [transpose, overlapping] = [caseNamed('2-D transpose'), caseNamed('writes whose')];
    const spread = compileProgramWgsl(programOfSymbolic(transpose).program);
    expect(spread.run.map((d) => d.workgroups)).toEqual([gridFor(20 * 33)]);
    expect(spread.code).toContain('if (gid >= (n1 * n0)) { return; }');
    const sequential = compileProgramWgsl(programOfSymbolic(overlapping).program);
    expect(sequential.run.map((d) => d.workgroups)).toEqual([[1, 1, 1]]);
    expect(sequential.code).toContain('if (gid >= 1u) { return; }');
  });
});
