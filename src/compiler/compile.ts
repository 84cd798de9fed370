/** The whole compiler: ONNX bytes → bundle files (manifest, model.wasm, weights.bin). */
import { parseOnnxModel } from '../frontend/onnx/index.js';
import { specialize } from '../passes/specialize.js';
import { eliminateDeadCode } from '../passes/dce.js';
import { prepackWeights } from '../passes/prepack.js';
import { fuseElementwise } from '../passes/fuse-elementwise.js';
import { fuseActivations } from '../passes/fuse-activation.js';
import { compressWeights } from '../passes/compress-weights.js';
import { lowerGraph } from './lower.js';
import { compileProgram, declaredMemoryBytes } from '../codegen/wasm/index.js';
import { FORMAT_VERSION, type Manifest, type WeightEntry, type WeightQuant } from '../bundle/manifest.js';
import { sealBundle } from '../bundle/seal.js';
import { sha256Hex } from '../bundle/hash.js';
import { WASM_FILE, type BundleFiles } from '../bundle/files.js';
import type { CompileOptions } from './options.js';
import '../ops/index.js';

export const COMPILER_VERSION = 'kiln 0.1.0';

export async function compileModel(bytes: Uint8Array, opts: CompileOptions = {}): Promise<BundleFiles> {
  const progress = opts.onProgress ?? (() => {});
  const targets = opts.targets ?? ['wasm'];
  if (targets.includes('webgpu')) throw new Error('the webgpu target is not built yet; use --targets wasm');
  const weightFormat = opts.weights ?? 'fp32';

  progress('parse', 0, 1);
  const parsed = parseOnnxModel(bytes, { baseDir: opts.baseDir });
  const specialized = eliminateDeadCode(
    specialize(prepackWeights(parsed), {
      shapes: opts.shapes,
      consts: opts.consts,
      onWarning: opts.onWarning,
      onProgress: (done, total) => progress('specialize', done, total),
    }),
  );
  const { graph, quant } =
    weightFormat === 'fp32'
      ? { graph: specialized, quant: new Map<string, WeightQuant>() }
      : compressWeights(specialized, weightFormat);
  progress('lower', 0, 1);
  const lowered = lowerGraph(fuseElementwise(fuseActivations(graph)));
  progress('codegen', 0, 1);
  const wasm = compileProgram(lowered.program, { optimize: true });

  const manifest: Manifest = {
    format: FORMAT_VERSION,
    compiler: COMPILER_VERSION,
    model: { name: opts.name ?? (parsed.name || 'model'), sha256: await sha256Hex(bytes) },
    inputs: lowered.inputs,
    outputs: lowered.outputs,
    targets: ['wasm'],
    weights: lowered.weights.entries.map((entry) => withQuant(entry, quant.get(entry.name))),
    memory: { ...lowered.memory, totalBytes: declaredMemoryBytes(wasm) },
    wasm: { file: WASM_FILE, exports: { memory: 'memory', init: 'init', run: 'run' }, simd: true },
    files: {},
  };
  progress('done', 1, 1);
  return sealBundle({ manifest, wasm, weights: lowered.weights.bytes });
}

/** A quantized weight is listed as the float32 tensor it restores to, stored as `quant.dtype`. */
function withQuant(entry: WeightEntry, quant: WeightQuant | undefined): WeightEntry {
  return quant ? { ...entry, dtype: 'float32', quant } : entry;
}
