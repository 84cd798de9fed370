/**
 * Runs a bundle in a fresh node (tests/runtime/relaxed-child.ts), with or without
 * --experimental-wasm-relaxed-simd, so that the relaxed-SIMD module runs on Node 20. Feeds and outputs
 * travel as JSON, which has no NaN or ±Infinity (JSON.stringify writes null): non-finite numbers travel as
 * the strings 'NaN', 'Infinity' and '-Infinity' and are read back as numbers.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HostTensor } from '../../src/ir/tensor.js';
import type { ChildResult, ChildTensor } from './relaxed-child.js';

export const RELAXED_FLAG = '--experimental-wasm-relaxed-simd';
const CHILD = join(import.meta.dirname, 'relaxed-child.ts');
const NON_FINITE = new Set(['NaN', 'Infinity', '-Infinity']);

export const toChildJson = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));

export const fromChildJson = <T>(text: string): T =>
  JSON.parse(text, (_key, v: unknown) => (typeof v === 'string' && NON_FINITE.has(v) ? Number(v) : v)) as T;

/** Loads DIR with VARIANT in a fresh node, with or without the relaxed-SIMD flag, and runs it once. */
export async function inChild(
  bundleDir: string,
  variant: 'auto' | 'simd128' | 'relaxed',
  feeds: Record<string, HostTensor>,
  flag: boolean,
): Promise<ChildResult> {
  const feedsFile = join(bundleDir, `feeds-${Math.random().toString(36).slice(2)}.json`);
  const asJson = (t: HostTensor): ChildTensor => ({
    dtype: 'float32',
    dims: t.dims,
    data: Array.from(t.data as Float32Array),
  });
  await writeFile(
    feedsFile,
    toChildJson(Object.fromEntries(Object.entries(feeds).map(([n, t]) => [n, asJson(t)]))),
  );
  const args = [...(flag ? [RELAXED_FLAG] : []), '--import', 'tsx', CHILD, bundleDir, variant, feedsFile];
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile('node', args, { maxBuffer: 64 << 20 }, (err, out, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(out),
    ),
  );
  return fromChildJson<ChildResult>(stdout);
}

/** The outputs of a child's run, or its error thrown. */
export function outputsOf(result: ChildResult): Record<string, HostTensor> {
  if ('error' in result) throw new Error(`the child failed: ${result.error}`);
  return Object.fromEntries(
    Object.entries(result.outputs).map(([n, t]) => [
      n,
      { dtype: 'float32', dims: t.dims, data: Float32Array.from(t.data) },
    ]),
  );
}
