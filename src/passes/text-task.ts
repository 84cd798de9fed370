/**
 * Text pipelines compiled into the graph (`kiln compile --task`), so the post-processing runs in the
 * generated wasm/WGSL like every other op, not in the server:
 *
 * - feature-extraction: token states [batch, sequence, hidden] pooled to one vector per text — mean
 *   over the tokens the attention mask keeps (the mask-weighted sum divided by the mask's sum, as
 *   sentence-transformers computes it, the count clamped to 1e-9) or the first token's state (CLS) —,
 *   then optionally L2-normalized (x / max(‖x‖, 1e-12)). An output that is already [batch, hidden] is
 *   served as it is.
 * - text-classification: Softmax over the logits' last axis.
 *
 * The graph keeps one output, the task's (`TASK_OUTPUTS`); dead-code elimination drops the rest.
 */
import type { Graph, Node, ValueInfo } from '../ir/graph.js';
import { tensorFromNumbers, type HostTensor } from '../ir/tensor.js';

export type TextTaskOptions =
  | { name: 'feature-extraction'; pooling?: 'mean' | 'cls'; normalize?: boolean }
  | { name: 'text-classification' };

export const TASK_OUTPUTS = {
  'feature-extraction': 'sentence_embedding',
  'text-classification': 'probabilities',
} as const;

export interface AddedTask {
  graph: Graph;
  /** the model output the task starts from */
  from: string;
  /** 'none': the output was pooled already */
  pooling: 'mean' | 'cls' | 'none';
}

/**
 * The graph with the task's nodes appended (specialize it): `graph.types` must hold the first output's
 * inferred type. `mask` names the attention-mask input (mean pooling needs it). The nodes are ones that run
 * with a batch and sequence known only at run time.
 */
export function addTextTask(graph: Graph, task: TextTaskOptions, mask: string | undefined): AddedTask {
  const output = TASK_OUTPUTS[task.name];
  if (graph.outputs.some((o) => o.name === output) || graph.inputs.some((i) => i.name === output))
    throw new Error(
      `--task ${task.name}: the model already has a value named "${output}", the task's output`,
    );
  // run after specialization: the output's type is inferred there (exporters often leave it undeclared)
  const declared = graph.outputs[0];
  const source = declared && { ...declared, ...graph.types.get(declared.name) };
  if (!source || source.dtype !== 'float32')
    throw new Error(
      `--task ${task.name}: the model's first output must be float32 (got ${source ? `${source.dtype} "${source.name}"` : 'no output'})`,
    );
  const b = new TaskBuilder(graph);
  const rank = source.shape.length;
  if (task.name === 'text-classification') {
    if (rank !== 2)
      throw new Error(
        `--task text-classification: the first output "${source.name}" must be logits [batch, labels], got rank ${rank}`,
      );
    b.node('Softmax', [source.name], { axis: -1 }, output);
    return { graph: b.finish({ ...source, name: output }), from: source.name, pooling: 'none' };
  }
  if (rank !== 2 && rank !== 3)
    throw new Error(
      `--task feature-extraction: the first output "${source.name}" must be token states [batch, sequence, hidden] or pooled [batch, hidden], got rank ${rank}`,
    );
  const pooling = rank === 2 ? 'none' : (task.pooling ?? 'mean');
  const [batch, hidden] = rank === 3 ? [source.shape[0], source.shape[2]] : source.shape;
  let pooled = source.name;
  if (pooling === 'mean') {
    if (mask === undefined)
      throw new Error(`--task feature-extraction: mean pooling needs the model's attention_mask input`);
    // sums over the sequence as products with the mask's row [batch, 1, sequence], which run with a
    // sequence length known only at run time (a ReduceSum over that axis does not)
    const weights = b.node('Cast', [mask], { to: 1 });
    const row = b.unsqueeze(weights, 1);
    const ones = b.unsqueeze(b.node('Add', [b.node('Mul', [weights, b.scalar(0)]), b.scalar(1)]), 2);
    const sum = b.node('MatMul', [row, source.name]);
    const count = b.node('Max', [b.node('MatMul', [row, ones]), b.scalar(1e-9)]);
    pooled = b.squeeze(b.node('Div', [sum, count]), 1);
  } else if (pooling === 'cls') {
    // the first token as a Slice [0, 1) of the sequence axis, which may be known only at run time
    pooled = b.squeeze(b.firstOf(source.name, 1), 1);
  }
  if (task.normalize) {
    const norm = b.node('Sqrt', [b.reduceSum(b.node('Mul', [pooled, pooled]), 1, true)]);
    pooled = b.node('Div', [pooled, b.node('Max', [norm, b.scalar(1e-12)])]);
  }
  b.node('Identity', [pooled], {}, output);
  return {
    graph: b.finish({ name: output, dtype: 'float32', shape: [batch, hidden] }),
    from: source.name,
    pooling,
  };
}

/** Appends nodes and constants under fresh `kiln_task_*` names, in the forms the graph's opset wants. */
class TaskBuilder {
  private readonly nodes: Node[] = [];
  private readonly initializers = new Map<string, HostTensor>();
  private count = 0;
  private readonly opset: number;

  constructor(private readonly graph: Graph) {
    this.opset = graph.opsets[''] ?? 1;
  }

  private fresh(): string {
    let name: string;
    do name = `kiln_task_${this.count++}`;
    while (this.graph.initializers.has(name) || this.graph.nodes.some((n) => n.outputs.includes(name)));
    return name;
  }

  node(op: string, inputs: string[], attrs: Record<string, number | number[]> = {}, output = this.fresh()) {
    this.nodes.push({ op, domain: '', name: `${output}_${op}`, inputs, outputs: [output], attrs });
    return output;
  }

  scalar(value: number): string {
    const name = this.fresh();
    this.initializers.set(name, tensorFromNumbers('float32', [], [value]));
    return name;
  }

  int64s(dims: number[], values: number[]): string {
    const name = this.fresh();
    this.initializers.set(name, tensorFromNumbers('int64', dims, values));
    return name;
  }

  /** axes became an input in opset 13 (Unsqueeze, ReduceSum) */
  unsqueeze(x: string, axis: number): string {
    return this.opset >= 13
      ? this.node('Unsqueeze', [x, this.int64s([1], [axis])])
      : this.node('Unsqueeze', [x], { axes: [axis] });
  }

  /** x[..., 0:1, ...] along `axis` (Slice's bounds became inputs in opset 10) */
  firstOf(x: string, axis: number): string {
    return this.opset >= 10
      ? this.node('Slice', [x, this.int64s([1], [0]), this.int64s([1], [1]), this.int64s([1], [axis])])
      : this.node('Slice', [x], { starts: [0], ends: [1], axes: [axis] });
  }

  squeeze(x: string, axis: number): string {
    return this.opset >= 13
      ? this.node('Squeeze', [x, this.int64s([1], [axis])])
      : this.node('Squeeze', [x], { axes: [axis] });
  }

  reduceSum(x: string, axis: number, keepdims: boolean): string {
    const keep = keepdims ? 1 : 0;
    return this.opset >= 13
      ? this.node('ReduceSum', [x, this.int64s([1], [axis])], { keepdims: keep })
      : this.node('ReduceSum', [x], { axes: [axis], keepdims: keep });
  }

  finish(output: ValueInfo): Graph {
    return {
      ...this.graph,
      outputs: [output],
      initializers: new Map([...this.graph.initializers, ...this.initializers]),
      nodes: [...this.graph.nodes, ...this.nodes],
    };
  }
}
