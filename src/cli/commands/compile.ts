/** `kiln compile MODEL.onnx -o DIR ...`: ONNX model → bundle directory. */
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname } from 'node:path';
import type { CompileOptions } from '../../compiler/options.js';
import { checkBundleTarget, writeBundle } from '../../bundle/node.js';
import { isSafeModelName, SAFE_MODEL_NAME_RULE } from '../../bundle/model-name.js';
import { fileError } from '../../text/file-error.js';
import {
  onePositional,
  parseBounds,
  parseChoice,
  parseCommandArgs,
  parseNumberList,
  parseShapeList,
  splitAssignment,
} from '../args.js';
import { UsageError } from '../errors.js';
import { progressLine } from '../progress.js';
import { formatBytes, plural, print, warn, type Command } from '../command.js';

const usage =
  'kiln compile MODEL.onnx -o DIR [--shape NAME=D0,D1,..]... [--dim SYMBOL=MIN..MAX]... [--const NAME=V0,V1,..]... [--targets wasm,webgpu] [--weights fp32|fp16|int8] [--no-relaxed] [--name NAME] [--force]';

const TARGETS = ['wasm', 'webgpu'] as const;
const WEIGHTS = ['fp32', 'fp16', 'int8'] as const;

export const compileCommand: Command = {
  name: 'compile',
  usage,
  summary: 'compile an ONNX model into a bundle directory',
  async run(args) {
    const { values, positionals } = parseCommandArgs(
      args,
      {
        out: { type: 'string', short: 'o' },
        shape: { type: 'string', multiple: true },
        dim: { type: 'string', multiple: true },
        const: { type: 'string', multiple: true },
        targets: { type: 'string' },
        weights: { type: 'string' },
        name: { type: 'string' },
        'no-relaxed': { type: 'boolean' },
        force: { type: 'boolean' },
      },
      usage,
    );
    const modelPath = onePositional(positionals, 'MODEL.onnx', usage);
    if (!values.out) throw new UsageError('missing -o DIR (where to write the bundle)', usage);
    if (values.name !== undefined && !isSafeModelName(values.name))
      throw new UsageError(
        `--name ${JSON.stringify(values.name)} is not a safe model name (${SAFE_MODEL_NAME_RULE}): it names the model in URLs and deployed files`,
        usage,
      );
    const modelName = values.name ?? basename(modelPath, extname(modelPath));
    const options: CompileOptions = {
      name: modelName,
      baseDir: dirname(modelPath),
      shapes: Object.fromEntries(
        (values.shape ?? []).map((arg) => {
          const [name, dims] = splitAssignment('--shape', arg, usage);
          return [name, parseShapeList(arg, dims, usage)];
        }),
      ),
      dims: Object.fromEntries(
        (values.dim ?? []).map((arg) => {
          const [name, bounds] = splitAssignment('--dim', arg, usage);
          return [name, parseBounds('--dim', arg, bounds, usage)];
        }),
      ),
      // The CLI cannot know an input's dtype or shape: it passes float64 values as a flat list and
      // the compiler converts them to the input's dtype and shape.
      consts: Object.fromEntries(
        (values.const ?? []).map((arg) => {
          const [name, list] = splitAssignment('--const', arg, usage);
          const numbers = parseNumberList('--const', arg, list, usage, false);
          return [name, { dtype: 'float64', dims: [numbers.length], data: Float64Array.from(numbers) }];
        }),
      ),
      ...(values.targets !== undefined && {
        targets: values.targets.split(',').map((t) => parseChoice('--targets', t.trim(), TARGETS, usage)),
      }),
      ...(values['no-relaxed'] && { relaxed: false }),
      ...(values.weights !== undefined && {
        weights: parseChoice('--weights', values.weights, WEIGHTS, usage),
      }),
    };

    if (!isSafeModelName(modelName))
      warn(
        `the model name ${JSON.stringify(modelName)} (from the file name) is not a safe model name (${SAFE_MODEL_NAME_RULE}): kiln deploy will refuse it; pass --name`,
      );
    const force = values.force === true;
    // refused now, not after a long compile
    await checkBundleTarget(values.out, { force });
    const bytes = new Uint8Array(
      await readFile(modelPath).catch((err) => {
        throw fileError('cannot read model', modelPath, err);
      }),
    );
    const progress = progressLine();
    options.onProgress = (stage, done, total) =>
      progress.update(`compiling ${modelPath}: ${stage} ${done}/${total}`);
    options.onWarning = (message) => {
      progress.done();
      warn(message);
    };
    // loaded on demand: the other commands should not pay for loading the compiler
    const { compileModel } = await import('../../compiler/compile.js');
    let files;
    try {
      files = await compileModel(bytes, options);
    } finally {
      progress.done();
    }
    await writeBundle(values.out, files, { force });
    const m = files.manifest;
    const wgsl =
      m.webgpu && files.wgsl !== undefined
        ? `, ${m.webgpu.file} ${formatBytes(new TextEncoder().encode(files.wgsl).byteLength)}`
        : '';
    const relaxed =
      m.wasm.relaxed && files.relaxedWasm
        ? `, ${m.wasm.relaxed.file} ${formatBytes(files.relaxedWasm.byteLength)}`
        : '';
    print(
      `compiled ${modelPath} → ${values.out}: ${plural(m.inputs.length, 'input')}, ${plural(m.outputs.length, 'output')}, ` +
        `${m.wasm.file} ${formatBytes(files.wasm.byteLength)}${relaxed}${wgsl}, weights.bin ${formatBytes(files.weights.byteLength)}`,
    );
  },
};
