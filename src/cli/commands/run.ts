/** `kiln run DIR --input NAME=FILE...`: one inference from tensor files. */
import { join } from 'node:path';
import { makeDirectory } from '../../bundle/output-dir.js';
import { loadModel } from '../../runtime/index.js';
import { writeTensorFile } from '../../tensor-io/index.js';
import { onePositional, parseChoice, parseCommandArgs } from '../args.js';
import { print, printJson, type Command } from '../command.js';
import { feedsFromArgs } from '../feeds.js';
import { nodeGpu } from '../gpu.js';
import { describeBackend, VARIANTS } from '../variant.js';
import { hostTensorFromOutput, outputFileName, tensorNumbers } from '../tensors.js';

const usage =
  'kiln run DIR --input NAME=FILE(.npy|.pb)... [--output-dir OUT] [--backend wasm|webgpu] [--variant auto|simd128|relaxed] [--json]';

export const BACKENDS = ['wasm', 'webgpu'] as const;
const PREVIEW = 8;

export const runCommand: Command = {
  name: 'run',
  usage,
  summary: 'run a bundle once on tensor files',
  async run(args) {
    const { values, positionals } = parseCommandArgs(
      args,
      {
        input: { type: 'string', multiple: true },
        'output-dir': { type: 'string' },
        backend: { type: 'string' },
        variant: { type: 'string' },
        json: { type: 'boolean' },
      },
      usage,
    );
    const dir = onePositional(positionals, 'bundle DIR', usage);
    const backend = parseChoice('--backend', values.backend ?? 'wasm', BACKENDS, usage);
    const variant = parseChoice('--variant', values.variant ?? 'auto', VARIANTS, usage);
    const model = await loadModel(dir, {
      backend,
      variant,
      gpu: backend === 'webgpu' ? await nodeGpu() : undefined,
    });
    if (!values.json) print(`${model.name}: ${describeBackend(model)}`);
    const outputs = await model.run(feedsFromArgs(model, values.input ?? [], usage, 'none'));
    const outDir = values['output-dir'];
    if (outDir) {
      await makeDirectory(outDir);
      for (const [name, tensor] of Object.entries(outputs)) {
        const path = join(outDir, outputFileName(name));
        writeTensorFile(path, hostTensorFromOutput(tensor));
        if (!values.json) print(`${name}: ${tensor.dtype}[${tensor.dims.join(',')}] → ${path}`);
      }
    }
    if (values.json) {
      printJson({
        model: model.name,
        backend: model.backend,
        ...(model.variant && { variant: model.variant }),
        outputs: Object.entries(outputs).map(([name, t]) => ({
          name,
          dtype: t.dtype,
          dims: t.dims,
          data: tensorNumbers(t),
        })),
      });
    } else if (!outDir) {
      for (const [name, t] of Object.entries(outputs)) {
        const values = tensorNumbers(t);
        const more = values.length > PREVIEW ? `, … (${values.length} values)` : '';
        print(`${name}: ${t.dtype}[${t.dims.join(',')}] [${values.slice(0, PREVIEW).join(', ')}${more}]`);
      }
    }
    model.dispose();
  },
};
