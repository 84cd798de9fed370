/**
 * transformers.js (@huggingface/transformers) as the peer of Kiln's embeddings: its feature-extraction
 * pipeline on the same ONNX model and tokenizer, offline. The files go into a local model directory laid
 * out as transformers.js expects (config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx),
 * remote models are off, and its ONNX runtime is this project's onnxruntime-web (wasm, one thread, as in a
 * browser or a Worker) with its .wasm files from node_modules: on Node, transformers.js would otherwise run
 * onnxruntime-node, and point onnxruntime-web at a CDN for its .wasm.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface TransformersPeer {
  /** transformers.js's version */
  version: string;
  /** one pooled (and, when asked, L2-normalized) vector per text */
  embed(texts: string[]): Promise<Float32Array[]>;
}

/**
 * Writes a local model directory `dir` as transformers.js reads one (its last component is the model id).
 * `config` is the model's config.json (at least `model_type`, e.g. "bert"); `tokenizerConfig` its
 * tokenizer_config.json (with the pad token: transformers.js pads a batch to its longest text with it).
 */
export async function writeTransformersModel(
  dir: string,
  files: {
    onnx: Uint8Array;
    tokenizerJson: string;
    tokenizerConfig: Record<string, unknown>;
    config: Record<string, unknown>;
  },
): Promise<void> {
  await mkdir(join(dir, 'onnx'), { recursive: true });
  await Promise.all([
    writeFile(join(dir, 'onnx', 'model.onnx'), files.onnx),
    writeFile(join(dir, 'tokenizer.json'), files.tokenizerJson),
    writeFile(join(dir, 'config.json'), JSON.stringify(files.config)),
    writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify(files.tokenizerConfig)),
  ]);
}

/** Loads the feature-extraction pipeline from the model directory `dir` (writeTransformersModel). */
export async function transformersPeer(
  dir: string,
  pooling: { pooling: 'mean' | 'cls'; normalize: boolean },
): Promise<TransformersPeer> {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  const ortDist = dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
  ort.env.wasm.wasmPaths = pathToFileURL(`${ortDist}/`).href;
  // transformers.js takes the ONNX runtime the host puts here, before it is imported
  (globalThis as Record<symbol, unknown>)[Symbol.for('onnxruntime')] = ort;
  const { env, pipeline } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.localModelPath = `${dirname(dir)}/`;
  // device 'auto': the host's runtime lists no devices; the session asks for wasm itself
  const extract = await pipeline('feature-extraction', basename(dir), {
    dtype: 'fp32',
    device: 'auto',
    session_options: { executionProviders: ['wasm'] },
  });
  return {
    version: env.version,
    async embed(texts) {
      const out = await extract(texts, pooling);
      const [rows, hidden] = out.dims;
      const data = out.data as Float32Array;
      return Array.from({ length: rows }, (_, r) => data.slice(r * hidden, (r + 1) * hidden));
    },
  };
}
