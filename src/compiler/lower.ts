/**
 * Lowering: a specialized Graph → a Program (placed buffers, init kernels, run kernels), the weights
 * image and the memory plan.
 *
 * Memory layout (byte offsets in the module's linear memory):
 *   [reserved 64][weights][persistent (computed by init)][inputs][outputs][arena (liveness-planned)]
 */
import type { Graph, Node, TensorType } from '../ir/graph.js';
import { sizeOf, type HostTensor } from '../ir/tensor.js';
import { packWeights } from '../bundle/seal.js';
import { dtypeBytes, type DType } from '../ir/dtype.js';
import type { BufferRole, BufRef, Kernel, PlacedBuffer, Program } from '../kernels/ir.js';
import { forEachIndex, load, store } from '../kernels/build.js';
import {
  contextOf,
  findOp,
  OpError,
  opsetOf,
  type LowerIO,
  type OpContext,
  type OpDef,
} from '../ops/registry.js';
import type { MemoryPlan, TensorSignature, WeightEntry } from '../bundle/manifest.js';
import { alignUp, planArena, type Lifetime } from '../passes/plan-memory.js';
import { applyActivation } from '../kernels/rewrite/epilogue.js';
import {
  fusedActivation,
  RESIDUAL_INPUT,
  residualActivation,
  residualBlocksOf,
  residualOf,
} from '../ops/fused-activation.js';
import { verifyKernel } from '../kernels/verify.js';
import { paramsOf, withSignature } from '../kernels/signature.js';
import { rangesOf } from '../kernels/extent.js';
import { symbolsOf } from '../ir/symbolic.js';
import type { KernelSource } from './kernel-table.js';
import { lowerSymbolic } from './lower-rows.js';
import { signatureShape } from './signature-shape.js';
import { packGemmWeights } from './packed-weights.js';
import { inPlaceConcats, type Block } from './concat-in-place.js';
import { foldConcatUpsamples } from '../passes/fold-concat-upsample.js';

export interface LoweredModel {
  program: Program;
  weights: { entries: WeightEntry[]; bytes: Uint8Array };
  inputs: TensorSignature[];
  outputs: TensorSignature[];
  memory: MemoryPlan;
  /** what each of program.run's kernels computes, in the same order (the manifest's kernel table) */
  runSources: KernelSource[];
}

/** wasm32: 65536 pages of 64 KiB */
const MAX_MEMORY_BYTES = 2 ** 32;

/** 'dims': a computed size's word of the dims block (ShapeSymbol.computedBy), stored by its node's kernel */
type Region = 'weights' | 'persistent' | 'input' | 'output' | 'arena' | 'dims';

interface Slot extends BufRef {
  region: Region;
  /** offset within its region (arena offsets come from the planner) */
  rel?: number;
  /** a block of another slot (a Concat's input written in place, concat-in-place.ts), `offset` bytes in */
  view?: { parent: Slot; offset: number };
}

/** The slot that `s` is a block of (through Concats of Concats), or `s` itself. */
const ownerOf = (s: Slot): Slot => (s.view ? ownerOf(s.view.parent) : s);

interface Step {
  node: Node;
  def: OpDef;
  ctx: OpContext;
  /**
   * output 0 shares input 0's buffer (an alias op), unless it is planned larger than it: a Reshape to a
   * target fed at run time, each dim at its bound, is copied into its own buffer
   */
  aliased: boolean;
}

/**
 * `forGpu`: the ops' GPU forms (see gpu-lowering.ts). `packWeights` (default: not for the GPU): constant
 * gemm B operands stored in the wasm microkernel's panel layout; off for a wasm lowering whose weights
 * the webgpu target shares (WGSL reads them row-major).
 */
export function lowerGraph(
  graph: Graph,
  options: { forGpu?: boolean; packWeights?: boolean; foldConcatUpsamples?: boolean } = {},
): LoweredModel {
  // the GPU path keeps every value in its own buffer
  if (options.forGpu) return lowerWith(graph, options, false);
  // Concats that are copied upsample their coarse inputs as they copy them (fold-concat-upsample.ts); one
  // written in place needs neither: its Resizes write their blocks of it
  const folded = options.foldConcatUpsamples ? foldConcatUpsamples(graph) : graph;
  const copy = () => (folded === graph ? undefined : lowerWith(folded, options, false));
  // a Concat's output written in place is live from its first block's kernel on, which can cost more
  // than it saves where the blocks are made far apart (a detector's FPN): the smaller plan is kept
  const inPlace = lowerWith(graph, options, true);
  if (!inPlace.concatsInPlace) return copy() ?? inPlace;
  const copied = lowerWith(graph, options, false);
  return copied.memory.totalBytes < inPlace.memory.totalBytes ? (copy() ?? copied) : inPlace;
}

function lowerWith(
  graph: Graph,
  options: { forGpu?: boolean; packWeights?: boolean },
  concatsInPlace: boolean,
): LoweredModel & { concatsInPlace: boolean } {
  const symbols = graph.symbols ?? [];
  const ranges = rangesOf(symbols);
  const slots: Slot[] = [];
  const slotOf = new Map<string, Slot>(); // value name → slot (aliases share their root's slot)
  const typeOf = (name: string): TensorType => {
    const t = graph.types.get(name);
    if (!t) throw new Error(`internal: no type for value "${name}"`);
    return t;
  };
  const newSlot = (dtype: DType, length: number, region: Region): Slot => {
    if (dtype === 'string') throw new Error('string tensors are not supported by the wasm target');
    const s: Slot = { id: slots.length, dtype, length, region };
    slots.push(s);
    return s;
  };

  // Constants become weights; inputs get their own region.
  const isConst = (name: string) => graph.initializers.has(name);
  const slotForConst = (name: string): Slot => {
    let s = slotOf.get(name);
    if (!s) {
      const t = graph.initializers.get(name)!;
      s = newSlot(t.dtype, sizeOf(t.dims), 'weights');
      slotOf.set(name, s);
    }
    return s;
  };
  for (const input of graph.inputs)
    slotOf.set(input.name, newSlot(input.dtype, sizeOf(input.shape as number[]), 'input'));

  // A size computed during the run (passes/data-shapes.ts) is stored by its node into its dims-block word.
  const words = new Map(
    symbols.flatMap((s) =>
      s.computedBy === undefined ? [] : [[s.name, newSlot('int32', 1, 'dims')] as const],
    ),
  );
  /**
   * the data-dependent sizes of a node's outputs: those it computes, and those fed by an input it reads
   * (with a fed Slice's or Pad's size, the parts resolved with it; with a Reduce*'s, the dims it keeps)
   */
  const sizesOf = (node: Node) => {
    const outputSymbols = new Set(
      node.outputs.flatMap((n) => (n === '' ? [] : (typeOf(n).symbolic ?? []).flatMap(symbolsOf))),
    );
    // a fed size's companions: the other parts (first index, steps, pads) of the same Slice or Pad plan,
    // the dims a Reduce* keeps for those it removes
    const planOf = (s: (typeof symbols)[number]) => {
      const plan = s.fed?.slice ?? s.fed?.padded ?? (s.fed?.axes && { ...s.fed.axes, keepdims: false });
      return plan && JSON.stringify([s.fed!.input, { ...plan, part: '' }]);
    };
    const plans = new Set(symbols.filter((s) => outputSymbols.has(s.name)).map(planOf));
    return symbols
      .filter(
        (s) =>
          (outputSymbols.has(s.name) || (planOf(s) !== undefined && plans.has(planOf(s)))) &&
          (s.computedBy === node.name ||
            (s.fed !== undefined && node.inputs.includes(s.fed.input)) ||
            // a Range's count fed through a Cast of its input (data-shapes.ts fedInputCastTo)
            (s.fed?.range !== undefined && node.op === 'Range' && node.domain === '')),
      )
      .map((s) => ({ symbol: s.name, word: words.get(s.name), fed: s.fed }));
  };

  // Nodes whose inputs are all constant run once in init(); their outputs persist.
  const initNames = new Set<string>();
  const initSteps: Step[] = [];
  const runSteps: Step[] = [];
  for (const node of graph.nodes) {
    const opset = opsetOf(graph.opsets, node);
    const def = findOp(node.op, node.domain, opset)!;
    const ctx = contextOf(
      node,
      graph.opsets,
      typeOf,
      (n) => graph.initializers.get(n) ?? graph.shapeValueBounds?.get(n),
    );
    const constant = node.inputs.every((n) => n === '' || isConst(n) || initNames.has(n));
    if (constant) node.outputs.forEach((o) => o !== '' && initNames.add(o));
    const aliased =
      !!def.alias && sizeOf(typeOf(node.outputs[0]).shape) <= sizeOf(typeOf(node.inputs[0]).shape);
    (constant ? initSteps : runSteps).push({ node, def, ctx, aliased });
  }

  // Graph outputs computed by a run kernel write straight into the output region; anything else
  // (an input, a constant, a value already used for another output) is copied there at the end.
  const aliasRoot = new Map<string, string>();
  for (const { node, aliased } of [...initSteps, ...runSteps])
    if (aliased) aliasRoot.set(node.outputs[0], aliasRoot.get(node.inputs[0]) ?? node.inputs[0]);
  const rootOf = (name: string) => aliasRoot.get(name) ?? name;
  const producedByRun = new Set(
    runSteps.flatMap((s) => (s.aliased ? s.node.outputs.slice(1) : s.node.outputs)),
  );
  const outputRoots = new Map<string, string>(); // root → graph output it is written to
  const copied: string[] = [];
  for (const out of graph.outputs) {
    const root = rootOf(out.name);
    if (producedByRun.has(root) && !outputRoots.has(root)) outputRoots.set(root, out.name);
    else copied.push(out.name);
  }

  const { blocks, skipped } = concatsInPlace
    ? inPlaceConcats(graph, runSteps)
    : { blocks: new Map<string, Block>(), skipped: new Set<Node>() };
  const slotFor = (name: string, region: Region): Slot => {
    const root = rootOf(name);
    let s = slotOf.get(root);
    if (!s) {
      if (isConst(root)) return slotForConst(root);
      const t = typeOf(root);
      const block = blocks.get(root);
      if (block) {
        const parent = slotFor(block.into, region);
        s = newSlot(t.dtype, sizeOf(t.shape), parent.region);
        s.view = { parent, offset: block.offset * dtypeBytes(t.dtype) };
      } else s = newSlot(t.dtype, sizeOf(t.shape), outputRoots.has(root) ? 'output' : region);
      slotOf.set(root, s);
    }
    if (name !== root) slotOf.set(name, s);
    return s;
  };

  const lifetimes = new Map<number, Lifetime>();
  const touch = (block: Slot, step: number) => {
    const s = ownerOf(block);
    if (s.region !== 'arena') return;
    const l = lifetimes.get(s.id);
    if (l) l.end = Math.max(l.end, step);
    else lifetimes.set(s.id, { id: s.id, bytes: s.length * dtypeBytes(s.dtype), start: step, end: step });
  };

  const sourceOf = new Map<Kernel, KernelSource>();
  /** the role of a buffer a kernel reads, by where it lives (init kernels' persistent ones are inputs) */
  const readRole = (s: Slot, region: Region): BufferRole =>
    s.region === 'weights' ? 'weight' : s.region === 'persistent' && region === 'arena' ? 'state' : 'input';
  const emit = (steps: Step[], region: Region, stepBase: number): Kernel[] => {
    const kernels: Kernel[] = [];
    steps.forEach(({ node, def, ctx, aliased }, i) => {
      const step = stepBase + i;
      const ins = node.inputs.map((n) => (n === '' ? undefined : slotFor(n, region)));
      if (skipped.has(node) || (aliased && !node.outputs.slice(1).some((o) => o !== ''))) {
        const out = slotFor(node.outputs[0], region);
        [...ins, out].forEach((s) => s && touch(s, step));
        return;
      }
      const outTypes = def.infer(ctx);
      const outs = node.outputs.map((n, j) =>
        n === '' ? newSlot(outTypes[j].dtype, sizeOf(outTypes[j].shape), 'arena') : slotFor(n, region),
      );
      for (let j = node.outputs.length; j < outTypes.length; j++)
        outs.push(newSlot(outTypes[j].dtype, sizeOf(outTypes[j].shape), 'arena'));
      ins.forEach((s) => s && touch(s, step));
      outs.forEach((s) => touch(s, step));
      if (!def.lower)
        throw new OpError(node, ctx.opset, 'has no kernel for values not known at compile time');
      // what the compiler applies to the lowered kernels: none where the op applies its fused body itself
      const act = def.fusesActivation ? undefined : fusedActivation(node);
      const scratch: Slot[] = [];
      const lower = def.lower;
      // a residual (passes/fuse-residual.ts) and the activation after it go into any op's kernels here,
      // but an upsampled one, which the conv's lowering adds itself (ops/nn/conv-upsampled-residual.ts)
      const residual = residualOf(node) !== undefined && residualBlocksOf(node) === undefined;
      const epilogue = (kernels: Kernel[], lio: LowerIO): Kernel[] =>
        residual
          ? applyActivation(kernels, lio.outputs[0], residualActivation(node), lio.inputs[RESIDUAL_INPUT])
          : act
            ? applyActivation(kernels, lio.outputs[0], act)
            : kernels;
      const build = (c: OpContext, lio: LowerIO) => {
        const built = lower(c, lio);
        return epilogue(built, lio);
      };
      const sizes = sizesOf(node);
      const io: LowerIO = {
        inputs: ins,
        outputs: outs,
        forGpu: options.forGpu,
        ...(sizes.length > 0 && { sizes }),
        scratch: (dtype, length) => {
          const s = newSlot(dtype, length, 'arena');
          touch(s, step);
          scratch.push(s);
          return s;
        },
      };
      const typesOf = (names: string[]) => names.map((n) => (n === '' ? undefined : typeOf(n)));
      // as specialize typed them: a data-dependent size is at its bound there (infer may not know it)
      const outputTypes = outTypes.map((t, j) => (node.outputs[j] ? typeOf(node.outputs[j]) : t));
      const symbolic = typesOf([...node.inputs, ...node.outputs]).some((t) => t?.symbolic);
      const rowsStep = {
        node,
        ctx,
        inputTypes: typesOf(node.inputs),
        outputTypes,
        computedAtRunTime: (i: number) => graph.shapeValueBounds?.has(node.inputs[i]) === true,
        build,
      };
      // a node whose output sizes are values lowers itself (data-shapes.ts says which input dims it takes)
      const built =
        symbolic && sizes.length === 0
          ? lowerSymbolic(rowsStep, def, io, ranges, (ks) => epilogue(ks, io))
          : build(ctx, io);
      // after lowering: the scratch buffers it asked for are parameters too
      const params = paramsOf([
        ...ins.flatMap((buf, j) =>
          buf ? [{ buf, role: readRole(buf, region), shape: ctx.inputs[j]?.shape ?? [buf.length] }] : [],
        ),
        ...outs.map((buf, j) => ({ buf, role: 'output' as const, shape: outputTypes[j].shape })),
        ...scratch.map((buf) => ({ buf, role: 'scratch' as const, shape: [buf.length] })),
        ...sizes.flatMap(({ word }) => (word ? [{ buf: word, role: 'output' as const, shape: [1] }] : [])),
      ]);
      const lowered = built.map((k) => withSignature(k, params));
      lowered.forEach((k) => verifyKernel(k, symbols));
      const source = { node, outputs: outputTypes.filter((_, j) => (node.outputs[j] ?? '') !== '') };
      for (const k of lowered) sourceOf.set(k, source);
      kernels.push(...lowered);
    });
    return kernels;
  };

  const initKernels = emit(initSteps, 'persistent', 0);
  // init() runs before any input exists, so its scratch may share the arena with everything.
  const initLifetimes = [...lifetimes.values()];
  lifetimes.clear();
  const stepBase = initSteps.length;
  const runKernels = emit(runSteps, 'arena', stepBase);
  const endStep = stepBase + runSteps.length;
  for (const name of copied) {
    const src = slotFor(name, 'arena');
    touch(src, endStep);
    const t = typeOf(name);
    const dst = newSlot(t.dtype, sizeOf(t.shape), 'output');
    slotOf.set(`output:${name}`, dst);
    const copy = withSignature(
      copyKernel(`copy_to_${name}`, src, dst, t.shape),
      paramsOf([
        { buf: src, role: readRole(src, 'arena'), shape: t.shape },
        { buf: dst, role: 'output', shape: t.shape },
      ]),
    );
    sourceOf.set(copy, { outputs: [t] });
    runKernels.push(copy);
  }

  // Constant B operands of wasm gemms are stored in the microkernel's panel layout.
  const weightTensors = new Map(
    [...slotOf]
      .filter(([name, s]) => s.region === 'weights' && graph.initializers.has(name))
      .map(([name, s]) => [s.id, graph.initializers.get(name)!] as const),
  );
  const packed =
    (options.packWeights ?? !options.forGpu)
      ? packKernelWeights([initKernels, runKernels], weightTensors, sourceOf)
      : new Map<number, HostTensor>();

  // Place every region.
  const weights = placeWeights(graph, slotOf, packed);
  let cursor = 64;
  const weightsOffset = cursor;
  cursor = alignUp(cursor + weights.bytes.length);
  const persistentOffset = cursor;
  cursor = placeSequential(slots, 'persistent', cursor);
  const persistentBytes = cursor - persistentOffset;
  const inputsOffset = cursor;
  cursor = placeSequential(slots, 'input', cursor);
  cursor = placeSequential(slots, 'output', cursor);
  const ioBytes = cursor - inputsOffset;
  // the shape symbols' values, written by the runtime before each run
  const dims = symbols.length > 0 ? { offset: cursor, symbols: symbols.map((x) => ({ ...x })) } : undefined;
  if (dims) cursor = alignUp(cursor + 4 * symbols.length);
  symbols.forEach((s, i) => {
    const word = words.get(s.name);
    if (word) word.rel = dims!.offset + 4 * i;
  });
  const arenaOffset = cursor;
  const runPlan = planArena([...lifetimes.values()]);
  const initPlan = planArena(initLifetimes);
  for (const [id, rel] of [...initPlan.offsets, ...runPlan.offsets]) slots[id].rel = rel;
  const arenaBytes = Math.max(runPlan.size, initPlan.size);
  const arenaUnplannedBytes = [...lifetimes.values(), ...initLifetimes].reduce(
    (s, l) => s + alignUp(l.bytes),
    0,
  );
  const totalBytes = alignUp(arenaOffset + arenaBytes, 65536) || 65536;
  if (totalBytes > MAX_MEMORY_BYTES)
    throw new Error(
      `the model needs ${(totalBytes / 2 ** 30).toFixed(2)} GiB of linear memory, more than the 4 GiB a wasm32 module can address`,
    );

  const placed: PlacedBuffer[] = [];
  // a view's parent is made before it, so it is placed before it
  slots.forEach((s) => {
    let offset: number;
    if (s.view) offset = placed[s.view.parent.id].offset + s.view.offset;
    else if (s.region === 'weights') offset = weightsOffset + s.rel!;
    else if (s.region === 'arena') offset = arenaOffset + (s.rel ?? 0);
    else offset = s.rel!;
    placed.push({ id: s.id, dtype: s.dtype, length: s.length, offset });
  });

  const signature = (name: string, s: Slot): TensorSignature => ({
    name,
    dtype: s.dtype,
    shape: signatureShape(typeOf(name), ranges, symbols),
    offset: placed[s.id].offset,
    byteLength: s.length * dtypeBytes(s.dtype),
  });
  return {
    program: {
      buffers: placed,
      ...(dims && { dims }),
      memoryBytes: totalBytes,
      init: initKernels,
      run: runKernels,
    },
    weights: { entries: weights.entries, bytes: weights.bytes },
    inputs: graph.inputs.map((i) => signature(i.name, slotOf.get(i.name)!)),
    outputs: graph.outputs.map((o) =>
      signature(o.name, slotOf.get(`output:${o.name}`) ?? slotOf.get(rootOf(o.name))!),
    ),
    memory: {
      totalBytes,
      weightsOffset,
      weightsBytes: weights.bytes.length,
      persistentOffset,
      persistentBytes,
      arenaOffset,
      arenaBytes,
      arenaUnplannedBytes,
      ioOffset: inputsOffset,
      ioBytes,
    },
    runSources: runKernels.map((k) => sourceOf.get(k) ?? { outputs: [] }),
    concatsInPlace: skipped.size > 0,
  };
}

function placeSequential(slots: Slot[], region: Region, start: number): number {
  let cursor = start;
  for (const s of slots) {
    if (s.region !== region || s.view) continue;
    s.rel = cursor;
    cursor = alignUp(cursor + Math.max(1, s.length * dtypeBytes(s.dtype)));
  }
  return cursor;
}

/**
 * `kernels` (init's and run's, changed in place) with their gemms over weights packed at compile time
 * marked (packed-weights.ts), each new kernel with its old one's source; returns the packed tensors.
 */
function packKernelWeights(
  kernels: Kernel[][],
  weights: ReadonlyMap<number, HostTensor>,
  sourceOf: Map<Kernel, KernelSource>,
): Map<number, HostTensor> {
  const { kernels: marked, packed } = packGemmWeights(kernels.flat(), weights);
  let i = 0;
  for (const list of kernels)
    list.forEach((k, j) => {
      const next = marked[i++];
      const source = sourceOf.get(k);
      if (source) sourceOf.set(next, source);
      list[j] = next;
    });
  return packed;
}

/** weights.bin: the initializers the kernels read, those packed at compile time (by slot id) as packed. */
function placeWeights(
  graph: Graph,
  slotOf: Map<string, Slot>,
  packedBySlot: ReadonlyMap<number, HostTensor>,
) {
  const weightSlots = [...slotOf].filter(
    ([name, s]) => s.region === 'weights' && graph.initializers.has(name),
  );
  // in the graph's order of initializers, not of first use: a target whose passes reorder nodes (the
  // wasm lowering's fused residuals run where their Add ran) places the weights where the other does
  const order = new Map([...graph.initializers.keys()].map((name, i) => [name, i]));
  const used = [...new Map(weightSlots.map(([name, s]) => [s, name]))].sort(
    ([, a], [, b]) => order.get(a)! - order.get(b)!,
  );
  const packed = packWeights(
    used.map(([s, name]) => ({ name, tensor: packedBySlot.get(s.id) ?? graph.initializers.get(name)! })),
  );
  used.forEach(([s], i) => (s.rel = packed.table[i].offset));
  return { entries: packed.table, bytes: packed.bytes };
}

function copyKernel(name: string, src: BufRef, dst: BufRef, shape: number[]): Kernel {
  const flat = [sizeOf(shape)];
  return {
    name,
    body: forEachIndex(flat, 'i', ([i]) => [store(dst, i, load(src, i))], { parallel: true }),
  };
}
