/**
 * The README's main job on the embedded default: compile the sample model (models/cnn.onnx) with the
 * `kiln` CLI, run it on a generated image, and benchmark it — every step as a user would type it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { writeNpy } from '../src/tensor-io/index.js';

const root = resolve(import.meta.dirname, '..');
const kiln = (...args: string[]) => {
  console.log(`\n$ kiln ${args.join(' ')}`);
  execFileSync(process.execPath, [resolve(root, 'bin/kiln.js'), ...args], { stdio: 'inherit', cwd: root });
};

mkdirSync(resolve(root, 'build'), { recursive: true });
const n = 3 * 32 * 32;
const image = new Float32Array(n).map((_, i) => Math.sin(i / 7));
writeFileSync(
  resolve(root, 'build/image.npy'),
  writeNpy({ dtype: 'float32', dims: [1, 3, 32, 32], data: image }),
);

kiln('compile', 'models/cnn.onnx', '-o', 'build/sample');
kiln('inspect', 'build/sample');
kiln('run', 'build/sample', '--input', 'image=build/image.npy', '--output-dir', 'build/out');
kiln('bench', 'build/sample', '--runs', '200');
