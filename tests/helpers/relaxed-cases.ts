/**
 * A suite running models with the relaxed-SIMD module in a child process (Node 20's flag,
 * tests/runtime/relaxed-child.ts) against onnxruntime-node: each case's bundle under a temporary
 * directory named after `prefix`, its output `y` compared within rtol / atol.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { writeBundle } from '../../src/bundle/node.js';
import type { HostTensor } from '../../src/ir/tensor.js';
import { compareTensors } from '../../scripts/compare.js';
import { runOrt } from './ort-oracle.js';
import { inChild, outputsOf } from '../runtime/child-run.js';

export interface RelaxedCase {
  bytes: Uint8Array;
  feeds: Record<string, HostTensor>;
}

export function describeRelaxedCases(
  prefix: string,
  cases: Record<string, () => RelaxedCase>,
  [rtol, atol]: [number, number],
): void {
  describe('relaxed SIMD (child process)', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));
    Object.entries(cases).forEach(([name, make], i) =>
      it(name, async () => {
        const { bytes, feeds } = make();
        const bundle = join(dir, `case${i}`);
        await writeBundle(bundle, await compileModel(bytes));
        const result = await inChild(bundle, 'relaxed', feeds, true);
        const { y } = outputsOf(result); // throws the child's error
        expect('variant' in result && result.variant).toBe('relaxed');
        expect(compareTensors(y, (await runOrt(bytes, feeds)).y, rtol, atol)).toBeUndefined();
      }),
    );
  });
}
