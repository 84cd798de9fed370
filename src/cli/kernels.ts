/**
 * Kernel files on the command line: `--kernels FILE.ts` (custom ops of a model) and `kiln compile
 * KERNELS.ts --kernel NAME` (a bundle of one kernel). The language's loader (esbuild) is imported on
 * demand, so compiles without kernels do not pay for it.
 */
import type { ElementwiseDef } from '../kernel-lang/elementwise.js';
import type { KernelDef } from '../kernel-lang/kernel.js';
import type { ShapeArg } from '../compiler/options.js';
import { parseNumberList } from './args.js';
import { UsageError } from './errors.js';

/** Whether a compile's positional argument is a kernel file rather than an ONNX model. */
export const isKernelFile = (path: string) => /\.[cm]?[jt]s$/.test(path);

/** Every custom op the files export: kernel() and elementwise() definitions. */
export async function loadKernels(files: readonly string[]): Promise<(KernelDef | ElementwiseDef)[]> {
  const { loadCustomOps } = await import('../kernel-lang/load.js');
  return (await Promise.all(files.map(loadCustomOps))).flat();
}

/**
 * The kernel `name` (its export name or op) of `file` as a one-node model: the ONNX bytes the normal
 * compile path takes, and the kernel that implements the node. Every input needs a --shape (a range,
 * MIN..MAX, makes that dim one known only at run time); `attrs`
 * (--attr) set attributes, the others take their defaults.
 */
export async function kernelAsModel(
  file: string,
  name: string,
  shapes: Record<string, ShapeArg[]>,
  attrs: Record<string, string>,
  usage: string,
): Promise<{ bytes: Uint8Array; kernel: KernelDef }> {
  const [{ loadKernelFile }, { kernelModel }] = await Promise.all([
    import('../kernel-lang/load.js'),
    import('../compiler/kernel-model.js'),
  ]);
  const kernels = await loadKernelFile(file);
  const found = kernels.find((k) => k.exportName === name) ?? kernels.find((k) => k.def.op === name);
  if (!found)
    throw new UsageError(
      `--kernel ${name}: ${file} exports no such kernel (it exports ${kernels.map((k) => k.exportName).join(', ')})`,
      usage,
    );
  const inputs = Object.keys(found.def.inputs);
  const missing = inputs.filter((n) => !shapes[n]);
  if (missing.length)
    throw new UsageError(
      `kernel ${name} needs the shape of every input: pass ${missing.map((n) => `--shape ${n}=D0,D1,..`).join(' ')}`,
      usage,
    );
  const unknown = Object.keys(shapes).filter((n) => !inputs.includes(n));
  if (unknown.length)
    throw new UsageError(
      `--shape ${unknown.join(', ')}: kernel ${name} has no such input (inputs: ${inputs.join(', ')})`,
      usage,
    );
  // a string attribute takes the text, a list one numbers (1,2,3); any other one number (an undeclared
  // name is refused by the kernel)
  const values = Object.fromEntries(
    Object.entries(attrs).map(([attr, text]) => {
      const kind = found.def.attrs[attr]?.kind;
      if (kind === 'string') return [attr, text];
      const arg = `${attr}=${text}`;
      const numbers = parseNumberList('--attr', arg, text, usage, false);
      if (kind === 'ints' || kind === 'floats') return [attr, numbers];
      if (numbers.length !== 1) throw new UsageError(`--attr "${arg}": give one number`, usage);
      return [attr, numbers[0]];
    }),
  );
  return { bytes: kernelModel(found.def, shapes, name, values), kernel: found.def };
}
