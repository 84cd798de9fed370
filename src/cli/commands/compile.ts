/** `kiln compile MODEL.onnx -o DIR ...`: ONNX model → bundle directory; `kiln compile KERNELS.ts --kernel NAME`: one kernel → bundle. */
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
import { workersBoundHint } from '../../deploy/workers-fit.js';
import { isKernelFile, kernelAsModel, loadKernels } from '../kernels.js';
import type { BundleFiles } from '../../bundle/files.js';
import { INT8_SAMPLES, INT8_TOLERANCE, measureInt8Error } from '../int8-error.js';

const usage =
  'kiln compile MODEL.onnx -o DIR [--shape NAME=D0,D1,..]... [--dim SYMBOL|INPUT=MIN..MAX[:STEP]]... [--const NAME=V0,V1,..]... [--kernels FILE.ts]... [--targets wasm,webgpu] [--weights fp32|fp16|int8] [--no-relaxed] [--name NAME] [--force] [--tokenizer tokenizer.json] [--task feature-extraction|text-classification [--pooling mean|cls] [--normalize] [--labels A,B,..|--config config.json]]\n' +
  '  kiln compile KERNELS.ts --kernel NAME -o DIR --shape INPUT=D0,D1,.. (each input; a dim may be MIN..MAX) [--attr NAME=VALUE]... [--targets wasm,webgpu] [--name NAME] [--force]';

const TARGETS = ['wasm', 'webgpu'] as const;
const WEIGHTS = ['fp32', 'fp16', 'int8'] as const;
const TASKS = ['feature-extraction', 'text-classification'] as const;
const POOLINGS = ['mean', 'cls'] as const;

export const compileCommand: Command = {
  name: 'compile',
  usage,
  summary: 'compile an ONNX model (or one kernel of a TypeScript kernel file) into a bundle directory',
  async run(args) {
    const { values, positionals } = parseCommandArgs(
      args,
      {
        out: { type: 'string', short: 'o' },
        shape: { type: 'string', multiple: true },
        dim: { type: 'string', multiple: true },
        const: { type: 'string', multiple: true },
        kernels: { type: 'string', multiple: true },
        kernel: { type: 'string' },
        attr: { type: 'string', multiple: true },
        targets: { type: 'string' },
        weights: { type: 'string' },
        name: { type: 'string' },
        'no-relaxed': { type: 'boolean' },
        force: { type: 'boolean' },
        tokenizer: { type: 'string' },
        task: { type: 'string' },
        pooling: { type: 'string' },
        normalize: { type: 'boolean' },
        labels: { type: 'string' },
        config: { type: 'string' },
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
    const kernelName = values.kernel;
    if (kernelName === undefined && isKernelFile(modelPath))
      throw new UsageError(
        `${modelPath} is a kernel file: pass --kernel NAME to build a bundle of one of its kernels`,
        usage,
      );
    if (kernelName !== undefined && !isKernelFile(modelPath))
      throw new UsageError(`--kernel takes a kernel file (.ts), got ${modelPath}`, usage);
    if (kernelName === undefined && values.attr?.length)
      throw new UsageError(
        "--attr sets a kernel bundle's attributes (with --kernel); an ONNX model's nodes carry their own",
        usage,
      );
    if (kernelName !== undefined && values.kernels?.length)
      throw new UsageError(
        '--kernels binds custom ops of an ONNX model; a kernel bundle takes its kernel from --kernel',
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
    if (values.tokenizer !== undefined)
      options.tokenizer = await readFile(values.tokenizer, 'utf8').catch((err) => {
        throw fileError('cannot read tokenizer', values.tokenizer!, err);
      });
    options.task = await textTask(values);
    const force = values.force === true;
    // refused now, not after a long compile
    await checkBundleTarget(values.out, { force });
    let bytes: Uint8Array;
    if (kernelName !== undefined) {
      const attrs = Object.fromEntries(
        (values.attr ?? []).map((arg) => splitAssignment('--attr', arg, usage)),
      );
      const asModel = await kernelAsModel(modelPath, kernelName, options.shapes!, attrs, usage);
      bytes = asModel.bytes;
      options.kernels = [asModel.kernel];
    } else {
      bytes = new Uint8Array(
        await readFile(modelPath).catch((err) => {
          throw fileError('cannot read model', modelPath, err);
        }),
      );
      if (values.kernels?.length) options.kernels = await loadKernels(values.kernels);
    }
    const progress = progressLine();
    options.onProgress = (stage, done, total) =>
      progress.update(`compiling ${modelPath}: ${stage} ${done}/${total}`);
    options.onWarning = (message) => {
      progress.done();
      warn(message);
    };
    // loaded on demand: the other commands should not pay for loading the compiler
    const { compileModel, plannedMemory } = await import('../../compiler/compile.js');
    let files;
    try {
      files = await compileModel(bytes, options);
    } finally {
      progress.done();
    }
    const overWorkers = workersBoundHint(files, options, (planned) =>
      plannedMemory(bytes, { ...options, ...planned }),
    );
    if (overWorkers) warn(overWorkers);
    if (options.weights === 'int8')
      await checkInt8Error(files, () => compileModel(bytes, referenceOptions(options)), force);
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

/** The float32 bundle an int8 one is measured against: the wasm target alone, no relaxed module. */
function referenceOptions(options: CompileOptions): CompileOptions {
  const { onProgress: _progress, onWarning: _warning, ...rest } = options;
  return { ...rest, weights: 'fp32', targets: ['wasm'], relaxed: false };
}

/** Prints the int8 bundle's error against float32 and refuses it past the tolerance unless forced. */
async function checkInt8Error(
  files: BundleFiles,
  fp32: () => Promise<BundleFiles>,
  force: boolean,
): Promise<void> {
  const measured = await measureInt8Error(files, await fp32());
  if (!measured) {
    print('int8 weights: the model has no float output to compare against float32');
    return;
  }
  const percent = (x: number) => `${(x * 100).toFixed(2)} %`;
  const line =
    `int8 weights: ${percent(measured.error)} relative RMS error against float32 (cosine ${measured.cosine.toFixed(5)}, ` +
    `worst output "${measured.output}", ${INT8_SAMPLES} sample inputs); limit ${percent(INT8_TOLERANCE)}`;
  if (measured.error <= INT8_TOLERANCE) return print(line);
  if (!force) throw new Error(`${line}: refused (--force writes the bundle anyway)`);
  warn(`${line}: written anyway (--force)`);
}

/** `--task` and its flags; the labels of a classifier from `--labels` or the id2label of `--config`. */
async function textTask(values: {
  task?: string;
  pooling?: string;
  normalize?: boolean;
  labels?: string;
  config?: string;
}): Promise<CompileOptions['task']> {
  if (values.task === undefined) {
    const stray = (['pooling', 'normalize', 'labels', 'config'] as const).find(
      (k) => values[k] !== undefined,
    );
    if (stray) throw new UsageError(`--${stray} needs --task`, usage);
    return undefined;
  }
  const name = parseChoice('--task', values.task, TASKS, usage);
  if (name === 'feature-extraction') {
    if (values.labels !== undefined || values.config !== undefined)
      throw new UsageError('--labels and --config are for --task text-classification', usage);
    return {
      name,
      ...(values.pooling !== undefined && {
        pooling: parseChoice('--pooling', values.pooling, POOLINGS, usage),
      }),
      ...(values.normalize && { normalize: true }),
    };
  }
  if (values.pooling !== undefined || values.normalize)
    throw new UsageError('--pooling and --normalize are for --task feature-extraction', usage);
  if (values.labels !== undefined && values.config !== undefined)
    throw new UsageError('give the labels by --labels or by --config, not both', usage);
  if (values.labels !== undefined) return { name, labels: values.labels.split(',') };
  if (values.config === undefined) return { name };
  const text = await readFile(values.config, 'utf8').catch((err) => {
    throw fileError('cannot read config', values.config!, err);
  });
  return { name, labels: labelsOfConfig(text, values.config) };
}

/** A Hugging Face config.json's id2label ({"0": "negative", "1": "positive"}) as a list by id. */
function labelsOfConfig(text: string, path: string): string[] {
  let id2label: unknown;
  try {
    id2label = (JSON.parse(text) as { id2label?: unknown }).id2label;
  } catch (err) {
    throw new Error(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof id2label !== 'object' || id2label === null)
    throw new Error(`${path} has no id2label to name the classes; pass --labels`);
  const entries = Object.entries(id2label as Record<string, unknown>);
  const labels = entries.map((_, i) => (id2label as Record<string, unknown>)[String(i)]);
  if (!labels.every((l) => typeof l === 'string'))
    throw new Error(`${path}: id2label must map 0..${entries.length - 1} to label strings`);
  return labels as string[];
}
