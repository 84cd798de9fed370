/**
 * Codegen test cases as data (buffers, kernels, what the buffers hold afterwards), run alike by every code
 * generator's harness: `describeCases(target, title, cases)` registers one test per case for that target.
 */
import { describe, expect, it } from 'vitest';
import type { PlacedBuffer, Program, Stmt } from '../../../src/kernels/ir.js';
import { interpretKernels, Memory } from '../../../src/kernels/interpret.js';
import { place, programOf, typed, type Elements, type NumDType } from '../program.js';

export type Values = readonly (number | bigint)[];

export interface BufferSpec {
  dtype: NumDType;
  /** element count; defaults to the length of `data` */
  length?: number;
  /** initial contents; zeros when absent */
  data?: Values;
}

/** Allowed error |got - want| ≤ abs + rel·|want|, or within `ulps` float32 units in the last place. */
export interface Tolerance {
  rel?: number;
  abs?: number;
  ulps?: number;
}

export type TargetName = 'wasm' | 'webgpu';

export interface KernelCase {
  /** the test's name, also the kernel's, so a code generator's error names the case */
  name: string;
  buffers: BufferSpec[];
  /** one kernel's body, or whole init/run kernel lists */
  program: (bufs: PlacedBuffer[]) => Stmt[] | Pick<Program, 'init' | 'run'>;
  /** buffer index → contents afterwards; absent: what the Kernel IR interpreter (the IR's spec) computes */
  expect?: Record<number, Values>;
  /** exact when absent; per target where their accuracy differs (WGSL's built-ins are not correctly rounded) */
  tolerance?: Tolerance | Record<TargetName, Tolerance>;
}

/** How one code generator runs a case: every buffer afterwards, for each variant it builds (e.g. optimized). */
export interface CodegenTarget {
  name: TargetName;
  run(c: KernelCase): Promise<{ variant: string; buffers: Elements[] }[]>;
  /**
   * cases this target does not run as stated: it refuses them, or computes them at its own precision (webgpu's
   * float64 cases); and the check that it does either clearly
   */
  refuses?(c: KernelCase): boolean;
  expectRefusal?(c: KernelCase): void;
}

const bufferLength = (spec: BufferSpec) => spec.length ?? spec.data!.length;

export const dataOf = (spec: BufferSpec) => (spec.data ? typed(spec.dtype, spec.data) : undefined);

/** The case's kernels over `bufs` (its buffers, placed). */
function kernelsOf(c: KernelCase, bufs: PlacedBuffer[]): Pick<Program, 'init' | 'run'> {
  const built = c.program(bufs);
  return Array.isArray(built) ? { init: [], run: [{ name: c.name, body: built }] } : built;
}

/** The case alone as a Program, its buffers placed one after another. */
export function programOfCase(c: KernelCase): { program: Program; bufs: PlacedBuffer[] } {
  const bufs = place(c.buffers.map((s) => ({ dtype: s.dtype, length: bufferLength(s) })));
  return { program: { ...programOf(bufs, []), ...kernelsOf(c, bufs) }, bufs };
}

/** Every buffer's contents after the Kernel IR interpreter ran the case. */
function interpret(c: KernelCase): Elements[] {
  const { program, bufs } = programOfCase(c);
  const mem = new Memory();
  c.buffers.forEach((s, i) => {
    const data = dataOf(s);
    if (data) mem.bufs.set(bufs[i].id, data);
  });
  interpretKernels([...program.init, ...program.run], mem);
  return bufs.map((b) => mem.get(b));
}

/** Expected contents as the buffers store them (float32 rounded, integers wrapped). */
function expectedOf(c: KernelCase): Record<number, Elements> {
  if (!c.expect) return { ...interpret(c) };
  return Object.fromEntries(
    Object.entries(c.expect).map(([i, values]) => [i, typed(c.buffers[Number(i)].dtype, values)]),
  );
}

const toleranceFor = (c: KernelCase, target: TargetName): Tolerance =>
  c.tolerance && 'wasm' in c.tolerance ? c.tolerance[target] : (c.tolerance ?? {});

/** Distance in float32 units in the last place. */
function ulps32(a: number, b: number): number {
  const ordered = (x: number) => {
    const i = new Int32Array(Float32Array.of(x).buffer)[0];
    return i < 0 ? -2147483648 - i : i;
  };
  return Math.abs(ordered(a) - ordered(b));
}

/**
 * Element-wise agreement: integers exactly, floats within the tolerance (NaN matches NaN, infinities and
 * signed zeros match themselves when exact). Reports the first mismatches with their indices.
 */
export function expectClose(actual: Elements, want: Elements, tol: Tolerance = {}, label = ''): void {
  const rel = tol.rel ?? 0;
  const abs = tol.abs ?? 0;
  const bad: string[] = [];
  expect(actual.length, `${label} length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const a = actual[i];
    const e = want[i];
    const exact = typeof e !== 'number' || !Number.isFinite(e) || rel + abs + (tol.ulps ?? 0) === 0;
    const ok = exact
      ? Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e))
      : tol.ulps !== undefined
        ? ulps32(a, e) <= tol.ulps
        : Math.abs(a - e) <= abs + rel * Math.abs(e);
    if (!ok && bad.length < 8) bad.push(`[${i}] got ${a}, expected ${e}`);
  }
  expect(bad, `${label} mismatches`).toEqual([]);
}

/** One test per case the target runs, and one that checks it refuses the others clearly. */
export function describeCases(target: CodegenTarget, title: string, cases: KernelCase[]): void {
  describe(title, () => {
    const runs = cases.filter((c) => !target.refuses?.(c));
    for (const c of runs)
      it(c.name, async () => {
        const want = expectedOf(c);
        for (const { variant, buffers } of await target.run(c))
          for (const [index, values] of Object.entries(want))
            expectClose(
              buffers[Number(index)],
              values,
              toleranceFor(c, target.name),
              `${variant}, buffer ${index}`,
            );
      });
    const refused = cases.filter((c) => target.refuses?.(c));
    if (refused.length)
      it(`refuses the ${refused.length} cases it does not run as stated (naming each kernel), or lowers their precision`, () =>
        refused.forEach((c) => target.expectRefusal!(c)));
  });
}
