/**
 * Control flow at compile time. Kiln bakes every shape into the module, so `If`, `Loop` and `Scan` are
 * expanded during specialization into the plain nodes they execute:
 * - `If` with a known condition becomes its chosen branch (inline-if.ts); with a condition known only at
 *   run time, both branches and a Where per output (run-time-if.ts);
 * - `Loop` is unrolled one iteration at a time: each iteration's body copy is followed by a
 *   continuation node which, once the specializer reaches it, reads the (by then folded) condition and
 *   either splices the next iteration or finishes the loop, so loops whose condition is computed in
 *   the body unroll too;
 * - `Scan` is unrolled over its sequence axis, whose length the input shapes fix;
 * - a Loop with a trip count known only at run time is taken back to one Range when it is Range's
 *   expansion (range-loop.ts); any other with a trip count or condition known only at run time is
 *   unrolled to its bound, each iteration's values selected by whether it runs (run-time-loop.ts).
 * Scan outputs are the per-iteration values stacked with Unsqueeze + Concat.
 */
import type { Graph, Node, TensorType } from '../ir/graph.js';
import { sizeOf, tensorFromNumbers, tensorToNumbers, type HostTensor } from '../ir/tensor.js';
import { attrInt, attrInts, OpError } from '../ops/registry.js';
import { identity, inlineBranch, inlineSubgraph, type Inlined } from './inline-if.js';
import { rangeOfLoop } from './range-loop.js';
import { inlineBothBranches, selectBranch, selectionOf } from './run-time-if.js';
import { continueRunTimeLoop, runTimeLoopOf, startRunTimeLoop } from './run-time-loop.js';
import { append, checkUnrollSize, normalizeAxis, stack, type ControlFlowEnv } from './unroll.js';

export const CONTROL_FLOW_OPS = new Set(['If', 'Loop', 'Scan']);

/** The nodes (and constants) replacing `node`, to be specialized next. */
export function expandControlFlow(node: Node, opset: number, env: ControlFlowEnv): Inlined {
  const loop = continuations.get(node);
  if (loop) return continueLoop(loop, node, env);
  const runTimeLoop = runTimeLoopOf(node);
  if (runTimeLoop) return continueRunTimeLoop(runTimeLoop, node, env);
  const selection = selectionOf(node);
  if (selection) return selectBranch(selection, env.types);
  if (node.op === 'If') {
    const name = node.inputs[0] ?? '';
    if (name === '') throw new OpError(node, opset, 'the condition (input 0) is missing');
    const cond = env.consts.get(name);
    return cond
      ? inlineBranch(node, cond, opset)
      : inlineBothBranches(node, opset, runtimeInputsOf(name, env)[0]);
  }
  if (node.op === 'Loop') return startLoop(node, opset, env);
  if (node.op === 'Scan') return expandScan(node, opset, env);
  throw new OpError(node, opset, 'is not a control-flow op');
}

// ---- Loop ---------------------------------------------------------------------------------------

interface LoopUnroll {
  node: Node;
  opset: number;
  body: Graph;
  tripCount?: number;
  /** false when the Loop has no condition input: the body's condition output is then ignored */
  conditional: boolean;
  iterations: number;
  carried: string[];
  /** per scan output, the value of each iteration so far */
  scans: string[][];
}

/** Continuation nodes (see the file comment) and the loop each one continues. */
const continuations = new WeakMap<Node, LoopUnroll>();

function startLoop(node: Node, opset: number, env: ControlFlowEnv): Inlined {
  const body = graphAttr(node, opset, 'body');
  if (node.inputs.length < 2)
    throw new OpError(node, opset, `expects inputs (M, cond, v_initial...), got ${node.inputs.length}`);
  const carried = node.inputs.slice(2);
  const n = carried.length;
  if (body.inputs.length !== n + 2)
    throw new OpError(
      node,
      opset,
      `the body has ${body.inputs.length} inputs, expected ${n + 2} (iteration_num, condition and the ${n} loop-carried values)`,
    );
  const k = body.outputs.length - 1 - n;
  if (k < 0 || node.outputs.length !== n + k)
    throw new OpError(
      node,
      opset,
      `the body has ${body.outputs.length} outputs (condition, ${n} loop-carried values, scan outputs) but the node has ${node.outputs.length} outputs`,
    );
  carried.forEach((v, j) => {
    if (v === '') throw new OpError(node, opset, `loop-carried input ${j + 2} is missing`);
  });

  const [tripName, condName] = node.inputs;
  if (tripName !== '' && !env.consts.has(tripName)) {
    const range = rangeOfLoop(node, env.graph, env.kept);
    if (range) return range;
  }
  const tripKnown = tripName === '' || env.consts.has(tripName);
  if (!tripKnown || (condName !== '' && !env.consts.has(condName)))
    return startRunTimeLoop(node, opset, body, carried, env, () => {
      if (tripName !== '') knownValue(node, opset, env, tripName, `the trip count (input 0, "${tripName}")`);
      throw new OpError(
        node,
        opset,
        `the condition (input 1, "${condName}") must be known at compile time when no trip count bounds the Loop; pass it with --const`,
      );
    });
  const tripCount =
    tripName === ''
      ? undefined
      : scalar(
          node,
          opset,
          knownValue(node, opset, env, tripName, `the trip count (input 0, "${tripName}")`),
          'the trip count',
        );
  const conditional = condName !== '';
  if (tripCount === undefined && !conditional)
    throw new OpError(node, opset, 'has neither a trip count nor a condition: it never ends');
  const loop: LoopUnroll = { node, opset, body, tripCount, conditional, iterations: 0, carried, scans: [] };
  for (let j = 0; j < k; j++) loop.scans.push([]);

  if (tripCount !== undefined && tripCount <= 0) return finishLoop(loop);
  if (!conditional) return unrollIteration(loop, trueConstant(`${node.name}:condition`));
  const cond = knownValue(node, opset, env, condName, `the condition (input 1, "${condName}")`);
  if (!scalar(node, opset, cond, 'the condition')) return finishLoop(loop);
  return unrollIteration(loop, { name: condName, initializers: new Map() });
}

function trueConstant(name: string) {
  return { name, initializers: new Map([[name, tensorFromNumbers('bool', [], [1])]]) };
}

/** One copy of the body, then the continuation node that decides about the next one. */
function unrollIteration(loop: LoopUnroll, cond: { name: string; initializers: Map<string, HostTensor> }) {
  const { node, opset, body } = loop;
  const i = loop.iterations;
  checkUnrollSize(node, opset, i + 1, body.nodes.length);
  const prefix = `${node.name}/iteration_${i}/`;
  const iterationNum = `${node.name}/iteration_${i}:iteration_num`;
  const bindings = new Map<string, string>([
    [body.inputs[0].name, iterationNum],
    [body.inputs[1].name, cond.name],
  ]);
  loop.carried.forEach((v, j) => bindings.set(body.inputs[2 + j].name, v));
  const inlined = inlineSubgraph(body, prefix, bindings);
  inlined.initializers.set(iterationNum, tensorFromNumbers('int64', [], [i]));
  for (const [name, t] of cond.initializers) inlined.initializers.set(name, t);
  const next: Node = {
    op: 'Loop',
    domain: '',
    name: `${node.name}/iteration_${i}/next`,
    inputs: inlined.outputs,
    outputs: [],
    attrs: {},
  };
  continuations.set(next, loop);
  return { nodes: [...inlined.nodes, next], initializers: inlined.initializers };
}

function continueLoop(loop: LoopUnroll, next: Node, env: ControlFlowEnv): Inlined {
  const { node, opset } = loop;
  const [condOut, ...values] = next.inputs;
  const n = loop.carried.length;
  loop.carried = values.slice(0, n);
  values.slice(n).forEach((v, j) => loop.scans[j].push(v));
  const done = loop.iterations++;
  if (loop.tripCount !== undefined && loop.iterations >= loop.tripCount) return finishLoop(loop);
  if (!loop.conditional) return unrollIteration(loop, trueConstant(`${node.name}:condition`));
  const what = `the condition computed by iteration ${done} ("${condOut}")`;
  if (!scalar(node, opset, knownValue(node, opset, env, condOut, what), what)) return finishLoop(loop);
  return unrollIteration(loop, { name: condOut, initializers: new Map() });
}

function finishLoop(loop: LoopUnroll): Inlined {
  const { node, opset, body } = loop;
  const n = loop.carried.length;
  const result: Inlined = { nodes: [], initializers: new Map() };
  loop.carried.forEach((v, j) => {
    if (node.outputs[j] !== '') result.nodes.push(identity(`${node.name}/output_${j}`, v, node.outputs[j]));
  });
  loop.scans.forEach((values, j) => {
    const output = node.outputs[n + j];
    if (output === '') return;
    const element = body.outputs[1 + n + j];
    append(result, stack(node, opset, values, 0, output, element, `scan output ${j}`));
  });
  return result;
}

// ---- Scan ---------------------------------------------------------------------------------------

function expandScan(node: Node, opset: number, env: ControlFlowEnv): Inlined {
  const body = graphAttr(node, opset, 'body');
  const m = attrInt(node, 'num_scan_inputs');
  const batched = opset < 9; // Scan-8: a leading batch axis and a sequence_lens input
  const inputs = batched ? node.inputs.slice(1) : node.inputs;
  const nStates = inputs.length - m;
  if (m < 1 || nStates < 0)
    throw new OpError(
      node,
      opset,
      `num_scan_inputs is ${m}, but the node has ${inputs.length} state and scan inputs`,
    );
  if (body.inputs.length !== inputs.length)
    throw new OpError(node, opset, `the body has ${body.inputs.length} inputs, expected ${inputs.length}`);
  const k = body.outputs.length - nStates;
  if (k < 0 || node.outputs.length !== nStates + k)
    throw new OpError(
      node,
      opset,
      `the body has ${body.outputs.length} outputs (${nStates} states, then scan outputs) but the node has ${node.outputs.length}`,
    );
  const scan: ScanShape = {
    node,
    opset,
    body,
    states: inputs.slice(0, nStates),
    scanInputs: inputs.slice(nStates),
    outputs: node.outputs,
  };
  return batched ? expandBatchedScan(scan, env) : expandScan9(scan, env);
}

interface ScanShape {
  node: Node;
  opset: number;
  body: Graph;
  states: string[];
  scanInputs: string[];
  outputs: string[];
}

function expandScan9({ node, opset, body, states, scanInputs, outputs }: ScanShape, env: ControlFlowEnv) {
  const m = scanInputs.length;
  const k = outputs.length - states.length;
  const inAxes = attrInts(node, 'scan_input_axes', new Array<number>(m).fill(0));
  const inDirections = attrInts(node, 'scan_input_directions', new Array<number>(m).fill(0));
  const outAxes = attrInts(node, 'scan_output_axes', new Array<number>(k).fill(0));
  const outDirections = attrInts(node, 'scan_output_directions', new Array<number>(k).fill(0));
  for (const [attr, list, want] of [
    ['scan_input_axes', inAxes, m],
    ['scan_input_directions', inDirections, m],
    ['scan_output_axes', outAxes, k],
    ['scan_output_directions', outDirections, k],
  ] as const)
    if (list.length !== want)
      throw new OpError(node, opset, `attribute '${attr}' has ${list.length} entries, expected ${want}`);

  let length: number | undefined;
  const sequences = scanInputs.map((name, j) => {
    const shape = valueType(node, opset, env, name, states.length + j).shape;
    const axis = normalizeAxis(node, opset, inAxes[j], shape.length, `scan input ${j} ("${name}")`);
    if (length !== undefined && shape[axis] !== length)
      throw new OpError(
        node,
        opset,
        `scan input ${j} ("${name}") has ${shape[axis]} elements along axis ${axis}, the scan inputs before it ${length}`,
      );
    length = shape[axis];
    return { name, axis, reverse: inDirections[j] !== 0 };
  });
  const seq = unrollSequence(node, opset, body, `${node.name}/`, states, sequences, length!);
  const result: Inlined = { nodes: seq.nodes, initializers: seq.initializers };
  seq.states.forEach((v, i) => {
    if (outputs[i] !== '') result.nodes.push(identity(`${node.name}/output_${i}`, v, outputs[i]));
  });
  seq.scans.forEach((values, j) => {
    const output = outputs[states.length + j];
    if (output === '') return;
    const ordered = outDirections[j] !== 0 ? [...values].reverse() : values;
    const element = body.outputs[states.length + j];
    append(result, stack(node, opset, ordered, outAxes[j], output, element, `scan output ${j}`));
  });
  return result;
}

/** Scan-8: every batch entry runs its own sequence (axis 1); results are stacked back along axis 0. */
function expandBatchedScan(
  { node, opset, body, states, scanInputs, outputs }: ScanShape,
  env: ControlFlowEnv,
) {
  const first = valueType(node, opset, env, scanInputs[0], 1 + states.length).shape;
  if (first.length < 2)
    throw new OpError(node, opset, `scan input 0 ("${scanInputs[0]}") must have a batch and a sequence axis`);
  const [batch, length] = first;
  [...states, ...scanInputs].forEach((name, i) => {
    const shape = valueType(node, opset, env, name, 1 + i).shape;
    const sequence = i >= states.length;
    if (shape[0] !== batch || (sequence && shape[1] !== length))
      throw new OpError(
        node,
        opset,
        `input ${1 + i} ("${name}") has shape [${shape.join(',')}], expected batch ${batch}${sequence ? ` and sequence length ${length}` : ''}`,
      );
  });
  const lens = node.inputs[0] ?? '';
  if (lens !== '') {
    const given = tensorToNumbers(knownValue(node, opset, env, lens, `sequence_lens (input 0, "${lens}")`));
    if (given.some((l) => l !== length))
      throw new OpError(
        node,
        opset,
        `sequence_lens [${given.join(',')}] differ from the sequence length ${length}; shorter sequences are not supported`,
      );
  }
  const directions = attrInts(node, 'directions', new Array<number>(scanInputs.length).fill(0));
  const k = outputs.length - states.length;
  const result: Inlined = { nodes: [], initializers: new Map() };
  const finals: string[][] = states.map(() => []);
  const stacked: string[][] = Array.from({ length: k }, () => []);
  for (let b = 0; b < batch; b++) {
    const prefix = `${node.name}/batch_${b}/`;
    const index = `${node.name}/batch_${b}:index`;
    result.initializers.set(index, tensorFromNumbers('int64', [], [b]));
    const entry = (name: string, what: string) => {
      const out = `${node.name}/batch_${b}:${what}`;
      result.nodes.push(gather(`${prefix}${what}`, name, index, 0, out));
      return out;
    };
    const entryStates = states.map((s, i) => entry(s, `state_${i}`));
    const sequences = scanInputs.map((x, j) => ({
      name: entry(x, `scan_input_${j}`),
      axis: 0,
      reverse: directions[j] !== 0,
    }));
    const seq = unrollSequence(node, opset, body, prefix, entryStates, sequences, length);
    append(result, seq);
    seq.states.forEach((v, i) => finals[i].push(v));
    seq.scans.forEach((values, j) => {
      const out = `${node.name}/batch_${b}:scan_output_${j}`;
      append(result, stack(node, opset, values, 0, out, body.outputs[states.length + j], `scan output ${j}`));
      stacked[j].push(out);
    });
  }
  finals.forEach((values, i) => {
    if (outputs[i] === '') return;
    append(result, stack(node, opset, values, 0, outputs[i], body.outputs[i], `state output ${i}`));
  });
  stacked.forEach((values, j) => {
    const output = outputs[states.length + j];
    if (output === '') return;
    const element = body.outputs[states.length + j];
    const perBatch = { ...element, shape: [length, ...element.shape] };
    append(result, stack(node, opset, values, 0, output, perBatch, `scan output ${j}`));
  });
  return result;
}

interface Sequence {
  name: string;
  axis: number;
  reverse: boolean;
}

/** Run the body `length` times, feeding it element t of every sequence (Gather along its axis). */
function unrollSequence(
  node: Node,
  opset: number,
  body: Graph,
  prefix: string,
  states: string[],
  sequences: Sequence[],
  length: number,
) {
  checkUnrollSize(node, opset, length, body.nodes.length + sequences.length);
  const result: Inlined & { states: string[]; scans: string[][] } = {
    nodes: [],
    initializers: new Map(),
    states,
    scans: body.outputs.slice(states.length).map(() => []),
  };
  for (let t = 0; t < length; t++) {
    const iteration = `${prefix}iteration_${t}`;
    const bindings = new Map<string, string>();
    result.states.forEach((v, i) => bindings.set(body.inputs[i].name, v));
    sequences.forEach((seq, j) => {
      const index = `${iteration}:index_${j}`;
      const element = `${iteration}:scan_input_${j}`;
      result.initializers.set(index, tensorFromNumbers('int64', [], [seq.reverse ? length - 1 - t : t]));
      result.nodes.push(gather(`${iteration}/scan_input_${j}`, seq.name, index, seq.axis, element));
      bindings.set(body.inputs[states.length + j].name, element);
    });
    const inlined = inlineSubgraph(body, `${iteration}/`, bindings);
    append(result, inlined);
    result.states = inlined.outputs.slice(0, states.length);
    inlined.outputs.slice(states.length).forEach((v, j) => result.scans[j].push(v));
  }
  return result;
}

// ---- shared helpers -----------------------------------------------------------------------------

function gather(name: string, data: string, index: string, axis: number, output: string): Node {
  return { op: 'Gather', domain: '', name, inputs: [data, index], outputs: [output], attrs: { axis } };
}

function graphAttr(node: Node, opset: number, name: string): Graph {
  const g = node.attrs[name];
  if (typeof g !== 'object' || g === null || !('nodes' in g))
    throw new OpError(node, opset, `missing graph attribute '${name}'`);
  return g;
}

function valueType(node: Node, opset: number, env: ControlFlowEnv, name: string, input: number): TensorType {
  const t = name === '' ? undefined : env.types.get(name);
  if (!t) throw new OpError(node, opset, `input ${input} is required`);
  return t;
}

function scalar(node: Node, opset: number, t: HostTensor, what: string): number {
  if (sizeOf(t.dims) !== 1)
    throw new OpError(
      node,
      opset,
      `${what} must be a single value, got a tensor of shape [${t.dims.join(',')}]`,
    );
  return Number(t.data[0]);
}

/**
 * The value of `name`, which control flow needs at compile time. When it is computed at run time, the
 * error names the model input it comes from, so the user knows what to pass with --const.
 */
function knownValue(node: Node, opset: number, env: ControlFlowEnv, name: string, what: string): HostTensor {
  if (name === '') throw new OpError(node, opset, `${what} is missing`);
  const value = env.consts.get(name);
  if (value) return value;
  const hint = 'pass it with --const or fix dynamic shapes with --shape';
  const inputs = env.graph.inputs.map((i) => i.name);
  if (inputs.includes(name)) throw new OpError(node, opset, `${what} must be known at compile time; ${hint}`);
  const source = runtimeInputsOf(name, env)[0];
  const from =
    source === undefined
      ? 'is not known at compile time'
      : `is computed at run time; model input (input ${inputs.indexOf(source)}, "${source}") must be known at compile time`;
  throw new OpError(node, opset, `${what} ${from}; ${hint}`);
}

/** The model inputs a run-time value depends on, following the nodes kept so far. */
export function runtimeInputsOf(name: string, env: ControlFlowEnv): string[] {
  const producers = new Map<string, Node>();
  for (const n of env.kept) for (const out of n.outputs) producers.set(out, n);
  const inputs = new Set(env.graph.inputs.map((i) => i.name));
  const found: string[] = [];
  const seen = new Set<string>();
  const stack = [name];
  while (stack.length > 0) {
    const v = stack.pop()!;
    if (v === '' || seen.has(v) || env.consts.has(v)) continue;
    seen.add(v);
    if (inputs.has(v)) found.push(v);
    stack.push(...(producers.get(v)?.inputs ?? []));
  }
  return env.graph.inputs.map((i) => i.name).filter((i) => found.includes(i));
}
