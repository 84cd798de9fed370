/**
 * Memory at load (scripts/load-memory.ts, a fresh process): loading a bundle directory holds weights.bin
 * twice at most — the bytes read from the file and their copy in linear memory — never a third, transient
 * copy (directory-source.ts once copied the file's Buffer into a new Uint8Array).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { writeBundle } from '../../src/bundle/node.js';
import { buildModel, randomTensor, seededRandom } from '../helpers/onnx-builder.js';

const root = resolve(import.meta.dirname, '../..');

describe('memory at load', () => {
  it('a 48 MiB weights.bin adds less than 2.5× its size to the process', async () => {
    const [K, N] = [1536, 8192];
    const bytes = buildModel({
      name: 'wide',
      opset: 17,
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, K] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, N] }],
      initializers: [{ name: 'w', tensor: randomTensor([K, N], seededRandom(3)) }],
      nodes: [{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] }],
    });
    const dir = await mkdtemp(join(tmpdir(), 'kiln-load-memory-'));
    try {
      const files = await compileModel(bytes, { relaxed: false });
      await writeBundle(join(dir, 'b'), files);
      const weights = files.weights.byteLength;
      expect(weights).toBeGreaterThanOrEqual(K * N * 4);
      const out = execFileSync(
        process.execPath,
        ['--import', 'tsx', 'scripts/load-memory.ts', join(dir, 'b')],
        { cwd: root, encoding: 'utf8' },
      );
      const added = JSON.parse(out).bytes as number;
      // the file's bytes and linear memory's copy: two; a transient third copy made it over three
      expect(added).toBeGreaterThan(1.5 * weights);
      expect(added).toBeLessThan(2.5 * weights);
    } finally {
      await rm(dir, { recursive: true });
    }
  }, 120_000);
});
