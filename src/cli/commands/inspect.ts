/** `kiln inspect DIR [--json]`: what a bundle holds, after checking it. */
import { readBundleDir } from '../../bundle/node.js';
import { verifyBundle } from '../../bundle/verify.js';
import type { TensorSignature, TextTask, TokenizerInfo } from '../../bundle/manifest.js';
import { onePositional, parseCommandArgs } from '../args.js';
import { formatBytes, plural, print, printJson, type Command } from '../command.js';
import { formatBounds, formatShape, userBounds } from '../../bundle/shape-dims.js';
import type { ShapeDim } from '../../bundle/manifest.js';

const usage = 'kiln inspect DIR [--json]';

const signature = ({ name, dtype, shape }: TensorSignature) => ({ name, dtype, shape });

export const inspectCommand: Command = {
  name: 'inspect',
  usage,
  summary: "show a bundle's inputs, outputs, weights and memory plan",
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } }, usage);
    const dir = onePositional(positionals, 'bundle DIR', usage);
    const files = await readBundleDir(dir);
    await verifyBundle(files);
    const m = files.manifest;
    const webgpu = m.webgpu && {
      file: m.webgpu.file,
      wgslBytes: new TextEncoder().encode(files.wgsl ?? '').byteLength,
      memoryBytes: m.webgpu.memoryBytes,
      bindings: m.webgpu.segments.length,
      readOnlyBindings: m.webgpu.segments.filter((s) => s.access === 'read').length,
      largestBindingBytes: Math.max(...m.webgpu.segments.map((s) => s.bytes)),
      initDispatches: m.webgpu.init.length,
      runDispatches: m.webgpu.run.length,
    };
    const info = {
      model: m.model.name,
      format: m.format,
      compiler: m.compiler,
      sourceSha256: m.model.sha256,
      targets: m.targets,
      inputs: m.inputs.map(signature),
      outputs: m.outputs.map(signature),
      weights: { count: m.weights.length, bytes: files.weights.byteLength },
      memory: {
        totalBytes: m.memory.totalBytes,
        persistentBytes: m.memory.persistentBytes,
        arenaBytes: m.memory.arenaBytes,
        arenaUnplannedBytes: m.memory.arenaUnplannedBytes,
        // planned for these bounds of the dims known only at run time
        ...(m.dims && { atBounds: m.dims.symbols }),
      },
      wasmBytes: files.wasm.byteLength,
      ...(m.wasm.relaxed && {
        relaxedWasm: { file: m.wasm.relaxed.file, bytes: files.relaxedWasm?.byteLength ?? 0 },
      }),
      ...(webgpu && { webgpu }),
      ...(m.tokenizer && { tokenizer: m.tokenizer }),
      ...(m.task && { task: m.task }),
    };
    if (values.json) return printJson(info);

    const tensor = (s: { name: string; dtype: string; shape: ShapeDim[] }) =>
      `  ${s.name}: ${s.dtype}${formatShape(s.shape)}`;
    const { arenaBytes, arenaUnplannedBytes } = info.memory;
    const saved =
      arenaUnplannedBytes > 0 ? ` (${Math.round((1 - arenaBytes / arenaUnplannedBytes) * 100)}% saved)` : '';
    [
      `model:    ${info.model} (bundle format ${info.format}, ${info.compiler})`,
      `targets:  ${info.targets.join(', ')}`,
      'inputs:',
      ...info.inputs.map(tensor),
      'outputs:',
      ...info.outputs.map(tensor),
      `weights:  ${plural(info.weights.count, 'tensor')}, ${formatBytes(info.weights.bytes)}`,
      `arena:    ${formatBytes(arenaBytes)} planned vs ${formatBytes(arenaUnplannedBytes)} unplanned${saved}`,
      `memory:   ${formatBytes(info.memory.totalBytes)} in all${
        m.dims
          ? `, at the upper bounds of ${m.dims.symbols
              .map((d) => {
                const b = userBounds(m.inputs, d);
                return `${b.name} ${formatBounds(b)}`;
              })
              .join(', ')}`
          : ''
      }`,
      `wasm:     ${m.wasm.file} ${formatBytes(info.wasmBytes)} (SIMD128)`,
      info.relaxedWasm
        ? `          ${info.relaxedWasm.file} ${formatBytes(info.relaxedWasm.bytes)} (relaxed SIMD, where the engine has it)`
        : '          no relaxed-SIMD module',
      ...(webgpu
        ? [
            `webgpu:   ${webgpu.file} ${formatBytes(webgpu.wgslBytes)}, ${webgpu.runDispatches} dispatches per run ` +
              `(${webgpu.initDispatches} at init), memory ${formatBytes(webgpu.memoryBytes)} in ${webgpu.bindings} storage ` +
              `bindings (${webgpu.readOnlyBindings} read-only, largest ${formatBytes(webgpu.largestBindingBytes)})`,
          ]
        : []),
      ...(m.tokenizer ? [`tokenizer: ${describeTokenizer(m.tokenizer)}`] : []),
      ...(m.task ? [`task:     ${describeTask(m.task)}`] : []),
    ].forEach(print);
  },
};

function describeTokenizer(t: TokenizerInfo): string {
  const truncation = t.truncation
    ? `truncates to ${t.truncation.maxLength} tokens from the ${t.truncation.direction}`
    : 'no truncation';
  const padding = t.padding ? `pads with ${t.padding.padToken} (${t.padding.padId})` : 'no padding';
  return (
    `${t.file} (${t.model}, ${t.vocabSize} tokens; ${truncation}, ${padding}; ` +
    `sequence length ${t.sequenceLength}; feeds ${Object.values(t.inputs).join(', ')})`
  );
}

function describeTask(task: TextTask): string {
  if (task.name === 'text-classification')
    return `text-classification → ${task.output} (softmax over ${task.labels.join(', ')})`;
  const pooling = task.pooling === 'none' ? 'output already pooled' : `${task.pooling} pooling`;
  return `feature-extraction → ${task.output} (${pooling}${task.normalize ? ', L2-normalized' : ''})`;
}
