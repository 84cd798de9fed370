import type { DType } from './dtype.js';
import type { HostTensor } from './tensor.js';
import type { SymLike } from './symbolic.js';

/** A dimension: a number once specialized; a symbol (e.g. "batch") before. */
export type Dim = number | string;

export interface TensorType {
  dtype: DType;
  /** each dim's size, or for a dim known only at run time its upper bound (what memory is planned for) */
  shape: number[];
  /**
   * Present when some dim is known only at run time: every dim as a shape expression over the graph's
   * shape symbols (a static dim is a number), `shape` then holding their upper bounds.
   */
  symbolic?: SymLike[];
}

/** A shape symbol (a dim known only at run time) with its declared bounds, both inclusive. */
export interface ShapeSymbolDecl {
  name: string;
  min: number;
  max: number;
  /** a data symbol (passes/data-shapes.ts): the node whose kernel writes its value during the run */
  computedBy?: string;
  /** a data symbol: element `index` of model input `input`, which the runtime reads from the feed */
  fed?: FedElement;
  /** a symbol that counts steps of an input dim bounded with a step (`--dim height=32..1024:32`): dim = step·symbol */
  stepOf?: { name: string; step: number };
}

/**
 * Element `index` of model input `input` as a size. With `reshape`, the input is a Reshape target for a
 * tensor of dims `from`, resolved at run time as Reshape resolves it (0 copies the dim of `from` unless
 * `allowzero`, one -1 takes what is left) and refused unless its product is the element count. With
 * `sum`, the input's elements are sizes (Split's split), refused unless each is ≥ 0 and they sum to it.
 * With `axes`, the input's elements are the axes of an Unsqueeze or Squeeze (FedAxes); with `slice`, one of a
 * Slice's starts, ends, axes or steps (FedSlice); with `scaled`, the input (float32) holds Resize scales and
 * the size is floor(scaled × element), `scaled` the input dim, refused unless the scale is positive; with
 * `truncated`, the input may be float32 (OneHot's depth) and the size is its element truncated toward 0;
 * with `broadcast`, the input is Expand's shape and the size dim `index` of it broadcast with those dims;
 * with `times`, the input is Tile's repeats and the size `times` × the element (refused if negative); with
 * `range`, the size is Range's count, max(0, ceil((limit − start) / delta)), refused if delta is 0; with
 * `padded`, the input is Pad's pads for dims `from` and the size `part` of axis `index`: its padded size,
 * its begin pad (≥ 0) or the count its negative begin pad crops; with `frames`, the input is STFT's
 * frame_step and the size the frame count (FedFrames).
 */
export interface FedElement {
  input: string;
  index: number;
  reshape?: { from: number[]; allowzero: boolean };
  sum?: number;
  axes?: FedAxes;
  slice?: FedSlice;
  scaled?: number;
  truncated?: boolean;
  broadcast?: number[];
  times?: number;
  range?: FedRange;
  padded?: { from: number[]; part: 'size' | 'before' | 'cropped' };
  frames?: FedFrames;
}

/**
 * STFT's frame count floor((signal − length) / step) + 1, step the fed input's element (refused below 1),
 * length an input's name (refused outside 1..signal) or its constant value.
 */
export interface FedFrames {
  signal: number;
  length: string | number;
}

/** Range's start, limit and delta (each an input's name, or its constant value), some read at run time. */
export interface FedRange {
  start: string | number;
  limit: string | number;
  delta: string | number;
}

/**
 * A Slice of dims `from` whose starts, ends, axes or steps are read at run time (each an input's name, or
 * the constant values), resolved as Slice resolves them: element `index` is then `part` of axis `index` —
 * its element `count`, the `first` index read, and the step, `forward` (> 0) or `backward` (< 0; the other 0).
 */
export interface FedSlice {
  from: number[];
  starts: string | number[];
  ends: string | number[];
  axes?: string | number[];
  steps?: string | number[];
  part: 'count' | 'first' | 'forward' | 'backward';
}

/**
 * A fed input's elements as the axes of an Unsqueeze, Squeeze or Reduce* of dims `from`, resolved at run
 * time (negative axes wrap, none may repeat, a squeezed dim must be 1; a reduced one becomes 1 with
 * `keepdims`, else goes): element `index` is then a dim of the result.
 */
export interface FedAxes {
  op: 'unsqueeze' | 'squeeze' | 'reduce';
  from: number[];
  keepdims?: boolean;
}

/** A graph input or output as declared by the model (shapes may be symbolic). */
export interface ValueInfo {
  name: string;
  dtype: DType;
  shape: Dim[];
  /**
   * Set on a subgraph input or output the model declares without a type or without a shape (ONNX
   * allows it in If/Loop/Scan bodies): `dtype` and `shape` are then placeholders, and the real types
   * come from the values bound to the subgraph where it is inlined.
   */
  untyped?: true;
  /**
   * Set on a subgraph input or output the model declares as a sequence, map or optional value, which
   * Kiln does not support: why, to report where the subgraph is inlined. (An `If` branch that folds away
   * never is, so a model may carry such a branch.) The value is also `untyped`.
   */
  unsupported?: string;
}

export type AttrValue = number | string | number[] | string[] | HostTensor | HostTensor[] | Graph | Graph[];

export interface Node {
  /** op type, e.g. "Conv" */
  op: string;
  /** operator set domain; "" is the default ONNX domain */
  domain: string;
  /** node name, never empty (the frontend names anonymous nodes "OpType_#index") */
  name: string;
  /** value names; "" marks an omitted optional input */
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
}

/**
 * The Graph IR: ONNX-like ops over named values. Subgraphs (If/Loop/Scan bodies) are Graphs held in
 * attributes; they may refer to values of enclosing graphs by name.
 */
export interface Graph {
  name: string;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  /** constants: initializers and folded values */
  initializers: Map<string, HostTensor>;
  nodes: Node[];
  /** opset version per domain ("" = ai.onnx) */
  opsets: Record<string, number>;
  /** value types known so far (filled by shape inference) */
  types: Map<string, TensorType>;
  /** the shape symbols value types may use (set by specialization; absent when every shape is static) */
  symbols?: ShapeSymbolDecl[];
  /**
   * Values computed from symbolic shapes that a Reshape or Slice reads (passes/shape-values.ts), at their
   * upper bounds: only for those ops' own inference at the bounds, never a value to compute with.
   */
  shapeValueBounds?: Map<string, HostTensor>;
}

/** Each value's readers among `graph`'s nodes, in order (a node reading a value twice is listed twice). */
export function readersOf(graph: Graph): Map<string, Node[]> {
  const readers = new Map<string, Node[]>();
  for (const n of graph.nodes) for (const i of n.inputs) readers.set(i, [...(readers.get(i) ?? []), n]);
  return readers;
}

export function emptyGraph(name: string, opsets: Record<string, number>): Graph {
  return { name, inputs: [], outputs: [], initializers: new Map(), nodes: [], opsets, types: new Map() };
}
