/**
 * The accuracy gate of `kiln compile --weights int8`: the int8 bundle and the float32 one run on the same
 * pseudo-random sample inputs, and the error is the worst, over float outputs and samples, relative RMS
 * difference ‖y_int8 − y_fp32‖ / ‖y_fp32‖. Past INT8_TOLERANCE the compile is refused unless --force.
 */
import type { BundleFiles } from '../bundle/files.js';
import { loadModel, type Model, type Tensor } from '../runtime/index.js';
import { randomFeed } from './tensors.js';

/** 10 % relative RMS error is a cosine similarity of about 0.995 to the float32 outputs. */
export const INT8_TOLERANCE = 0.1;
export const INT8_SAMPLES = 3;

export interface Int8Error {
  /** worst relative RMS error */
  error: number;
  /** worst cosine similarity */
  cosine: number;
  /** the output and sample it came from */
  output: string;
}

const isFloat = (t: Tensor) => t.dtype === 'float32' || t.dtype === 'float64';

/** undefined when the model has no float output to compare */
export async function measureInt8Error(int8: BundleFiles, fp32: BundleFiles): Promise<Int8Error | undefined> {
  const load = (files: BundleFiles) => loadModel(files, { backend: 'wasm', variant: 'simd128' });
  const [quantized, reference] = await Promise.all([load(int8), load(fp32)]);
  try {
    let worst: Int8Error | undefined;
    for (let sample = 0; sample < INT8_SAMPLES; sample++) {
      const feeds = Object.fromEntries(
        reference.inputs.map((info, i) => [
          info.name,
          randomFeed(info, 1 + i + 1000 * sample, fp32.manifest),
        ]),
      );
      const [a, b] = await Promise.all([run(quantized, feeds), run(reference, feeds)]);
      for (const [name, y] of Object.entries(b)) {
        if (!isFloat(y)) continue;
        const { error, cosine } = compare(a[name].data as ArrayLike<number>, y.data as ArrayLike<number>);
        if (!worst || error > worst.error) worst = { error, cosine, output: name };
      }
    }
    return worst;
  } finally {
    quantized.dispose();
    reference.dispose();
  }
}

const run = (model: Model, feeds: Parameters<Model['run']>[0]) => model.run(feeds);

function compare(a: ArrayLike<number>, b: ArrayLike<number>): { error: number; cosine: number } {
  let [diff, norm, normA, dot] = [0, 0, 0, 0];
  for (let i = 0; i < b.length; i++) {
    diff += (a[i] - b[i]) ** 2;
    norm += b[i] ** 2;
    normA += a[i] ** 2;
    dot += a[i] * b[i];
  }
  // two all-zero outputs agree exactly
  if (norm === 0) return { error: diff === 0 ? 0 : Infinity, cosine: diff === 0 ? 1 : 0 };
  return { error: Math.sqrt(diff / norm), cosine: normA === 0 ? 0 : dot / Math.sqrt(norm * normA) };
}
