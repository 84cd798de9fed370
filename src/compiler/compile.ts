/** The whole compiler: ONNX bytes → bundle files (manifest, model.wasm, model.relaxed.wasm, weights.bin, model.wgsl for webgpu). */
import { parseOnnxModel } from '../frontend/onnx/index.js';
import { specialize } from '../passes/specialize.js';
import { eliminateDeadCode } from '../passes/dce.js';
import { prepackWeights } from '../passes/prepack.js';
import { fuseElementwise } from '../passes/fuse-elementwise.js';
import { fuseActivations } from '../passes/fuse-activation.js';
import { fuseEpilogues } from '../passes/fuse-epilogue.js';
import { fuseMatMulBias } from '../passes/fuse-bias.js';
import { canonicalize } from '../passes/canonicalize.js';
import { foldBatchNorms } from '../passes/fold-batch-norm.js';
import { foldPads } from '../passes/fold-pad.js';
import { compressWeights, type QuantParams } from '../passes/compress-weights.js';
import { listedQuant } from './quant-scales.js';
import { useInt8Kernels } from '../passes/int8-kernels.js';
import { addTextTask, TASK_OUTPUTS, type AddedTask } from '../passes/text-task.js';
import { lowerGraph } from './lower.js';
import { lowerForGpu } from './gpu-lowering.js';
import { fuseConvPools } from '../passes/fuse-conv-pool.js';
import { fuseSoftmaxInputs } from '../passes/fuse-softmax-input.js';
import { fuseLayerNorms } from '../passes/fuse-layer-norm.js';
import { composeTransposes } from '../passes/compose-transposes.js';
import { fuseResiduals } from '../passes/fuse-residual.js';
import { attentionMaskOf, summarizeTokenizer, tokenizerInfo } from './text-model.js';
import { kernelTable } from './kernel-table.js';
import {
  compileProgram,
  compileWat,
  declaredMemoryBytes,
  evaluateProgram,
  moduleMemoryBytes,
  programToWat,
  runKernelFunctionNames,
} from '../codegen/wasm/index.js';
import type { Program } from '../kernels/ir.js';
import {
  FORMAT_VERSION,
  fixedDim,
  MIN_COMPRESSED_BYTES,
  type Manifest,
  type WebGpuSchedule,
  type WeightEntry,
} from '../bundle/manifest.js';
import { sealBundle } from '../bundle/seal.js';
import { sha256Hex } from '../bundle/hash.js';
import { RELAXED_WASM_FILE, WASM_FILE, WGSL_FILE, type BundleFiles } from '../bundle/files.js';
import type { CompileOptions } from './options.js';
import { printable } from '../text/printable.js';
import { registerKernels } from './custom-ops.js';
import { fedIndexChecks } from './index-checks.js';
import '../ops/index.js';

export const COMPILER_VERSION = 'kiln 0.1.0';

/** The compile in progress (settled): compiles in one process run one at a time. */
let running: Promise<unknown> = Promise.resolve();

/**
 * Compiles an ONNX model. Errors and warnings quote names from the model: their control characters are
 * escaped here (`printable`), whichever pass built the message, so printing one cannot drive a terminal.
 * User kernels are ops of the registry for the duration of their compile, so compiles run one at a
 * time: two with different kernels for one op neither clash nor see each other's kernels.
 */
export function compileModel(bytes: Uint8Array, opts: CompileOptions = {}): Promise<BundleFiles> {
  const result = running.then(() => compileAlone(bytes, opts));
  running = result.catch(() => undefined);
  return result;
}

async function compileAlone(bytes: Uint8Array, opts: CompileOptions): Promise<BundleFiles> {
  let unregisterKernels = () => {};
  try {
    // user kernels are the ops of their domains for this compile only
    unregisterKernels = registerKernels(opts.kernels ?? []);
    return await compile(bytes, {
      ...opts,
      ...(opts.onWarning && { onWarning: (message) => opts.onWarning!(printable(message)) }),
    });
  } catch (err) {
    if (err instanceof Error) err.message = printable(err.message);
    throw err;
  } finally {
    unregisterKernels();
  }
}

/**
 * The model parsed, specialized, optimized and lowered to the wasm target's Program (everything but code
 * generation); `graph` is what was lowered, which the webgpu target lowers again for itself.
 */
function lowerModel(bytes: Uint8Array, opts: CompileOptions, targets: ('wasm' | 'webgpu')[]) {
  const progress = opts.onProgress ?? (() => {});
  const weightFormat = opts.weights ?? 'fp32';

  progress('parse', 0, 1);
  const model = parseOnnxModel(bytes, { baseDir: opts.baseDir, onWarning: opts.onWarning });
  const tokenizer = opts.tokenizer === undefined ? undefined : summarizeTokenizer(opts.tokenizer, model);
  const specializeOptions = {
    evaluate: evaluateProgram,
    shapes: opts.shapes,
    dims: opts.dims,
    consts: opts.consts,
    onWarning: opts.onWarning,
    onProgress: (done: number, total: number) => progress('specialize', done, total),
  };
  const prepacked = prepackWeights(model);
  const modelOnly = specialize(prepacked, specializeOptions);
  // the task's nodes depend on the output's type just inferred; they join the model as declared, whose
  // second walk types them with the inputs' run-time dims (a specialized graph has its inputs at the bounds)
  const task =
    opts.task && addTextTask({ ...prepacked, types: modelOnly.types }, opts.task, attentionMaskOf(model));
  const specialized = eliminateDeadCode(
    foldBatchNorms(foldPads(task ? specialize(task.graph, specializeOptions) : modelOnly)),
  );
  const { graph, quant } =
    weightFormat === 'fp32'
      ? { graph: specialized, quant: new Map<string, QuantParams>() }
      : compressWeights(specialized, weightFormat, MIN_COMPRESSED_BYTES);
  progress('lower', 0, 1);
  // a decomposed LayerNorm becomes one row kernel, a Transpose of a Transpose one, for both targets: a
  // bundle built with --targets wasm,webgpu carries the model.wasm and weights that --targets wasm builds
  const fused = fuseActivations(fuseMatMulBias(canonicalize(composeTransposes(fuseLayerNorms(graph)))));
  // int8 weights (--weights int8, or a quantized model's DequantizeLinear of an int8 weight) stay int8 in
  // the wasm kernels; the WGSL generator has no int8 gemm, so with the webgpu target they are restored to
  // float32 at load, for both targets
  const int8 = targets.includes('webgpu')
    ? { graph: fused, quant: new Map<string, QuantParams>() }
    : useInt8Kernels(fused);
  const kernelGraph = fuseEpilogues(fuseElementwise(int8.graph));
  // the wasm kernels add a residual in a gemm's epilogue, upsample a Concat's coarse inputs as they copy
  // them, pool a conv's rows band by band and compute a Softmax's input chain (attention's scale and mask)
  // as they read its rows (the webgpu target lowers kernelGraph, keeping those nodes apart); weights are
  // shared with the webgpu target, which reads them row-major: no panels then
  // folding a Resize into its reader drops the constants only it reads from weights.bin: not where the
  // webgpu target, which keeps the Resize, must place the same weights
  const wasmOnly = !targets.includes('webgpu');
  const wasmGraph = fuseSoftmaxInputs(fuseConvPools(fuseResiduals(kernelGraph, wasmOnly)));
  const lowered = lowerGraph(wasmGraph, { packWeights: wasmOnly, foldConcatUpsamples: wasmOnly });
  const indexChecks = fedIndexChecks(
    specialized,
    lowered.inputs.map((i) => i.name),
  );
  return { model, tokenizer, task, quant, int8, graph: kernelGraph, lowered, indexChecks };
}

/**
 * The bytes of linear memory model.wasm declares (at the bounds of its run-time dims) and of weights.bin,
 * without running binaryen: what a search for bounds that fit a target's memory probes.
 */
export function plannedMemory(
  bytes: Uint8Array,
  opts: CompileOptions,
): { memoryBytes: number; weightsBytes: number } {
  const unregisterKernels = registerKernels(opts.kernels ?? []);
  try {
    const quiet = { ...opts, onWarning: undefined, onProgress: undefined };
    const { lowered } = lowerModel(bytes, quiet, checkedTargets(opts.targets ?? ['wasm']));
    return {
      memoryBytes: moduleMemoryBytes(lowered.program),
      weightsBytes: lowered.weights.bytes.byteLength,
    };
  } finally {
    unregisterKernels();
  }
}

async function compile(bytes: Uint8Array, opts: CompileOptions): Promise<BundleFiles> {
  const progress = opts.onProgress ?? (() => {});
  const targets = checkedTargets(opts.targets ?? ['wasm']);
  const { model, tokenizer, task, quant, int8, graph, lowered, indexChecks } = lowerModel(
    bytes,
    opts,
    targets,
  );
  const relaxed = opts.relaxed ?? true;
  const steps = targets.length + (relaxed ? 1 : 0);
  progress('codegen', 0, steps);
  // WGSL first: it is quick, and a kernel it refuses should fail the compile before binaryen's long work
  const { weightsOffset, weightsBytes } = lowered.memory;
  const webgpu = targets.includes('webgpu')
    ? await webGpuTarget(lowerForGpu(graph, lowered), [weightsOffset, weightsOffset + weightsBytes])
    : undefined;
  progress('codegen', targets.length - 1, steps);
  const wasm = compileProgram(lowered.program, { optimize: true });
  progress('codegen', targets.length, steps);
  const relaxedWasm = relaxed ? relaxedModule(lowered.program) : undefined;

  const manifest: Manifest = {
    format: FORMAT_VERSION,
    compiler: COMPILER_VERSION,
    model: { name: opts.name ?? (model.name || 'model'), sha256: await sha256Hex(bytes) },
    inputs: lowered.inputs,
    outputs: lowered.outputs,
    targets,
    weights: lowered.weights.entries.map((entry) =>
      withQuant(entry, quant.get(entry.name) ?? int8.quant.get(entry.name), lowered.weights),
    ),
    memory: { ...lowered.memory, totalBytes: declaredMemoryBytes(wasm) },
    ...(lowered.program.dims && { dims: lowered.program.dims }),
    ...(indexChecks.length > 0 && { indexChecks }),
    wasm: {
      file: WASM_FILE,
      exports: { memory: 'memory', init: 'init', run: 'run' },
      simd: true,
      ...(relaxedWasm && { relaxed: { file: RELAXED_WASM_FILE } }),
    },
    ...(webgpu && { webgpu: webgpu.schedule }),
    kernels: kernelTable(
      lowered.program.run,
      lowered.runSources,
      runKernelFunctionNames(lowered.program),
      lowered.program.dims?.symbols,
    ),
    ...(tokenizer && { tokenizer: tokenizerInfo(tokenizer, lowered.inputs) }),
    ...(task && { task: taskInfo(task, opts.task!, lowered.outputs) }),
    files: {},
  };
  progress('done', 1, 1);
  return sealBundle({
    manifest,
    wasm,
    ...(relaxedWasm && { relaxedWasm }),
    weights: lowered.weights.bytes,
    ...(webgpu && { wgsl: webgpu.code }),
    ...(opts.tokenizer !== undefined && { tokenizer: opts.tokenizer }),
  });
}

/** The manifest's record of the compiled task; a classifier's labels must name each of its classes. */
function taskInfo(
  added: AddedTask,
  task: NonNullable<CompileOptions['task']>,
  outputs: Manifest['outputs'],
): NonNullable<Manifest['task']> {
  const output = TASK_OUTPUTS[task.name];
  if (task.name === 'feature-extraction')
    return { name: task.name, output, pooling: added.pooling, normalize: task.normalize ?? false };
  const classes = fixedDim(outputs.find((o) => o.name === output)!.shape, 1, `--task: output "${output}"`);
  const labels = task.labels ?? Array.from({ length: classes }, (_, i) => `LABEL_${i}`);
  if (labels.length !== classes)
    throw new Error(
      `--task text-classification: ${labels.length} labels given for the ${classes} classes of "${added.from}"`,
    );
  return { name: task.name, output, labels };
}

/**
 * The relaxed-SIMD variant of model.wasm (fused multiply-add in gemm and vectorized loops, relaxed
 * min/max in gemm epilogues), or undefined when the program has nothing relaxed SIMD would change
 * (no gemm, no vectorized mul+add): then the bundle carries model.wasm alone.
 */
function relaxedModule(program: Program): Uint8Array | undefined {
  const options = { optimize: true, relaxedSimd: true };
  const wat = programToWat(program, options);
  return wat.includes('.relaxed_') ? compileWat(wat, options) : undefined;
}

/**
 * Bundle format 1 always carries model.wasm (the manifest's `wasm` entry is required and every
 * deploy target but gpu runs it), so webgpu comes on top of wasm, never instead of it.
 */
function checkedTargets(requested: readonly ('wasm' | 'webgpu')[]): ('wasm' | 'webgpu')[] {
  const unique = [...new Set(requested)];
  if (!unique.includes('wasm'))
    throw new Error(
      `every bundle includes the wasm target (got targets ${unique.join(',') || 'none'}); use --targets wasm,webgpu`,
    );
  return (['wasm', 'webgpu'] as const).filter((t) => unique.includes(t));
}

/**
 * The Program lowered for the GPU as WGSL, its storage bindings cut at `cuts` (the weights' bounds); a
 * kernel the WGSL generator refuses fails the compile with a way out.
 */
async function webGpuTarget(
  program: Program,
  cuts: number[],
): Promise<{ code: string; schedule: WebGpuSchedule }> {
  // loaded on demand, like the CLI loads the compiler: a wasm-only compile never pays for it
  const { compileProgramWgsl } = await import('../codegen/wgsl/index.js');
  try {
    const { code, halfFrom, memoryBytes, segments, init, run } = compileProgramWgsl(program, { cuts });
    const schedule = {
      file: WGSL_FILE,
      ...(halfFrom !== undefined && { halfFrom }),
      memoryBytes,
      segments,
      init,
      run,
    };
    return { code, schedule };
  } catch (err) {
    throw new Error(
      `the webgpu target cannot be built: ${(err as Error).message} (drop webgpu from --targets to build the wasm target alone)`,
      { cause: err },
    );
  }
}

/** A quantized weight is listed as the float32 tensor it restores to, stored as `quant.dtype`. */
function withQuant(
  entry: WeightEntry,
  quant: QuantParams | undefined,
  weights: { entries: WeightEntry[]; bytes: Uint8Array },
): WeightEntry {
  return quant
    ? { ...entry, dtype: 'float32', quant: listedQuant(quant, weights.entries, weights.bytes) }
    : entry;
}
