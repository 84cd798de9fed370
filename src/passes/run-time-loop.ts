/**
 * `Loop` whose trip count or condition is known only at run time (a model input): unrolled up to a bound
 * — a constant trip count, or a fed one's `--dim NAME=MIN..MAX` (else 0..DEFAULT_FED_MAX), lowered to the
 * last iteration whose body keeps the loop-carried shapes (a body that slices a tensor by the iteration
 * number stops fitting past its end). Every unrolled iteration runs; iteration i is active while
 * i < trip count and the condition (the input, then the body's) held so far: each loop-carried value is
 * Where(active, body's value, previous value), and each scan output keeps the active iterations' values
 * (a Compress by the actives, whose count is computed during the run). A fed trip count beyond the bound
 * is refused before the run, naming it.
 */
import type { Graph, Node, TensorType } from '../ir/graph.js';
import { tensorFromNumbers, type HostTensor } from '../ir/tensor.js';
import { OpError } from '../ops/registry.js';
import { identity, inlineSubgraph, type Inlined } from './inline-if.js';
import { describeType, sameType } from './run-time-if.js';
import { append, checkUnrollSize, stack, type ControlFlowEnv } from './unroll.js';

interface RunTimeLoop {
  node: Node;
  opset: number;
  body: Graph;
  /** the trip count's value name (a model input or a constant) */
  trip: string;
  /** the model input the trip count is fed by, when it is one */
  fedTrip?: { name: string; min: number };
  bound: number;
  iterations: number;
  /** whether iteration `iterations` runs, as far as the condition goes (a bool value's name) */
  running: string;
  carried: string[];
  scans: string[][];
  actives: string[];
}

/** Continuation nodes: each one decides, once its iteration is typed, about the next. */
const continuations = new WeakMap<Node, RunTimeLoop>();

export const runTimeLoopOf = (node: Node): RunTimeLoop | undefined => continuations.get(node);

const op = (name: string, type: string, inputs: string[], output: string): Node => ({
  op: type,
  domain: '',
  name,
  inputs,
  outputs: [output],
  attrs: {},
});

/**
 * Starts a Loop whose trip count or condition is known only at run time; `fail` throws the error for a
 * trip count that bounds nothing (computed at run time, or absent).
 */
export function startRunTimeLoop(
  node: Node,
  opset: number,
  body: Graph,
  carried: string[],
  env: ControlFlowEnv,
  fail: () => never,
): Inlined {
  const [trip, cond] = node.inputs;
  const initializers = new Map<string, HostTensor>();
  let bound: number;
  let fedTrip: RunTimeLoop['fedTrip'];
  const constTrip = trip === '' ? undefined : env.consts.get(trip);
  if (constTrip) bound = Math.max(0, Number(constTrip.data[0]));
  else if (trip !== '' && env.graph.inputs.some((i) => i.name === trip)) {
    const t = env.types.get(trip)!;
    if (t.dtype !== 'int64' || t.shape.length !== 0)
      throw new OpError(
        node,
        opset,
        `the trip count (input 0, "${trip}") must be an int64 scalar, found ${describeType(t)}`,
      );
    const declared = env.dataShapes.declaredBounds(trip);
    bound = declared.max;
    fedTrip = { name: trip, min: declared.min };
  } else fail();
  let running = `${node.name}:running`;
  if (cond === '') initializers.set(running, tensorFromNumbers('bool', [], [1]));
  else {
    const t = env.types.get(cond)!;
    if (t.dtype !== 'bool' || t.shape.length !== 0)
      throw new OpError(
        node,
        opset,
        `the condition (input 1, "${cond}") must be a bool scalar, found ${describeType(t)}`,
      );
    running = cond;
  }
  const k = body.outputs.length - 1 - carried.length;
  const loop: RunTimeLoop = {
    node,
    opset,
    body,
    trip,
    ...(fedTrip && { fedTrip }),
    bound,
    iterations: 0,
    running,
    carried,
    scans: Array.from({ length: k }, () => []),
    actives: [],
  };
  if (bound === 0) return finish(loop, env);
  const first = unroll(loop);
  for (const [name, t] of initializers) first.initializers.set(name, t);
  return first;
}

/** Iteration `loop.iterations`: whether it is active, its body copy, then its continuation. */
function unroll(loop: RunTimeLoop): Inlined {
  const { node, opset, body } = loop;
  const i = loop.iterations;
  checkUnrollSize(node, opset, loop.bound, body.nodes.length + 4);
  const prefix = `${node.name}/iteration_${i}/`;
  const iterationNum = `${prefix}:iteration_num`;
  const active = `${prefix}:active`;
  const nodes = [
    op(`${prefix}in_trip`, 'Less', [iterationNum, loop.trip], `${prefix}:in_trip`),
    op(`${prefix}active`, 'And', [`${prefix}:in_trip`, loop.running], active),
  ];
  const bindings = new Map<string, string>([
    [body.inputs[0].name, iterationNum],
    [body.inputs[1].name, active],
  ]);
  loop.carried.forEach((v, j) => bindings.set(body.inputs[2 + j].name, v));
  const inlined = inlineSubgraph(body, prefix, bindings);
  inlined.initializers.set(iterationNum, tensorFromNumbers('int64', [], [i]));
  const next: Node = {
    op: 'Loop',
    domain: '',
    name: `${prefix}next`,
    inputs: [active, ...inlined.outputs],
    outputs: [],
    attrs: {},
  };
  continuations.set(next, loop);
  return { nodes: [...nodes, ...inlined.nodes, next], initializers: inlined.initializers };
}

/** After iteration i is typed: select its values by whether it was active, then the next iteration or the end. */
export function continueRunTimeLoop(loop: RunTimeLoop, next: Node, env: ControlFlowEnv): Inlined {
  const { node, opset } = loop;
  const [active, condOut, ...values] = next.inputs;
  const n = loop.carried.length;
  const i = loop.iterations;
  const typeOf = (name: string): TensorType => env.types.get(name)!;
  const misfit = values.slice(0, n).findIndex((v, j) => !sameType(typeOf(v), typeOf(loop.carried[j])));
  if (misfit >= 0) {
    const [was, now] = [typeOf(loop.carried[misfit]), typeOf(values[misfit])];
    if (i === 0 || !loop.fedTrip)
      throw new OpError(
        node,
        opset,
        `iteration ${i} changes loop-carried value ${misfit} from ${describeType(was)} to ${describeType(now)}, which is not supported for a Loop run at run time; pass its trip count with --const`,
      );
    loop.bound = i; // the body fits no further: a larger trip count is refused at run time
    return finish(loop, env);
  }
  const cond = typeOf(condOut);
  if (cond.dtype !== 'bool' || cond.shape.reduce((a, b) => a * b, 1) !== 1)
    throw new OpError(
      node,
      opset,
      `the body's condition output must be one bool, found ${describeType(cond)}`,
    );
  const prefix = `${node.name}/iteration_${i}/`;
  const nodes: Node[] = [];
  const carried = values.slice(0, n).map((v, j) => {
    const kept = `${prefix}:carried_${j}`;
    nodes.push(op(`${prefix}select_${j}`, 'Where', [active, v, loop.carried[j]], kept));
    return kept;
  });
  loop.carried = carried;
  values.slice(n).forEach((v, j) => loop.scans[j].push(v));
  loop.actives.push(active);
  loop.running = `${prefix}:running`;
  nodes.push(op(`${prefix}running`, 'And', [active, condOut], loop.running));
  loop.iterations++;
  const rest = loop.iterations >= loop.bound ? finish(loop, env) : unroll(loop);
  return { nodes: [...nodes, ...rest.nodes], initializers: rest.initializers };
}

/** The outputs: the last carried values, and each scan output's active rows. */
function finish(loop: RunTimeLoop, env: ControlFlowEnv): Inlined {
  const { node, opset, body } = loop;
  const n = loop.carried.length;
  if (loop.fedTrip) {
    const { name, min } = loop.fedTrip;
    env.dataShapes.declare({
      name,
      min: Math.min(min, loop.bound),
      max: loop.bound,
      fed: { input: name, index: 0 },
    });
  }
  const result: Inlined = { nodes: [], initializers: new Map() };
  loop.carried.forEach((v, j) => {
    if (node.outputs[j] !== '') result.nodes.push(identity(`${node.name}/output_${j}`, v, node.outputs[j]));
  });
  const actives = `${node.name}:actives`;
  if (loop.scans.some((_, j) => node.outputs[n + j] !== '')) {
    if (loop.actives.length === 0)
      throw new OpError(
        node,
        opset,
        `has scan outputs, which are not supported with its trip count bounded to 0; bound it with --dim ${node.inputs[0]}=MIN..MAX`,
      );
    append(
      result,
      stack(
        node,
        opset,
        loop.actives,
        0,
        actives,
        { name: actives, dtype: 'bool', shape: [] },
        'the actives',
      ),
    );
  }
  loop.scans.forEach((values, j) => {
    const output = node.outputs[n + j];
    if (output === '') return;
    const stacked = `${node.name}:scan_${j}`;
    append(result, stack(node, opset, values, 0, stacked, body.outputs[1 + n + j], `scan output ${j}`));
    result.nodes.push({
      ...op(`${node.name}/scan_${j}`, 'Compress', [stacked, actives], output),
      attrs: { axis: 0 },
    });
  });
  return result;
}
