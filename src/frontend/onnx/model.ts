/** ModelProto bytes → Graph IR. */
import type { Graph } from '../../ir/graph.js';
import { asModelError, fail, invalid, q } from './errors.js';
import { fileReader, type ReadExternal } from './external.js';
import { graphFromProto, type GraphContext } from './graph.js';
import { onnx, protoIntToNumber, type OnnxTypes } from './proto.js';

export interface ParseOnnxOptions {
  /** directory external tensor data is resolved against (normally the model file's directory) */
  baseDir?: string;
  /** reads external tensor data; replaces the default file reader rooted at `baseDir` */
  readExternal?: ReadExternal;
  /** notes that do not stop the parse: a model newer than Kiln knows */
  onWarning?: (message: string) => void;
}

/**
 * The newest default-domain opset and IR version Kiln's ops and frontend were written against (ONNX
 * 1.16). A newer model still compiles: each op takes the semantics of its newest version Kiln knows.
 */
export const NEWEST_KNOWN_OPSET = 21;
export const NEWEST_KNOWN_IR_VERSION = 10;

/**
 * Parse an ONNX model. Every failure is an Error with a one-line message; structurally broken input is
 * reported as "invalid ONNX model: ...".
 */
export function parseOnnxModel(bytes: Uint8Array, opts: ParseOnnxOptions = {}): Graph {
  try {
    return convertModel(decodeModel(bytes), opts);
  } catch (e) {
    throw asModelError(e);
  }
}

function decodeModel(bytes: Uint8Array): OnnxTypes.ModelProto {
  try {
    return onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw invalid(`cannot decode the protobuf (${e instanceof Error ? e.message : String(e)})`);
  }
}

function convertModel(model: OnnxTypes.ModelProto, opts: ParseOnnxOptions): Graph {
  if (!model.graph) throw invalid('the model has no graph');
  const opsets = opsetsFromProto(model.opsetImport ?? []);
  const ctx: GraphContext = {
    opsets,
    functions: new Set(
      (model.functions ?? []).map((f) => `${f.domain === 'ai.onnx' ? '' : (f.domain ?? '')}::${f.name}`),
    ),
    readExternal: opts.readExternal ?? (opts.baseDir !== undefined ? fileReader(opts.baseDir) : undefined),
  };
  const graph = graphFromProto(model.graph, ctx, 'main graph');
  warnIfNewer(model, opsets, opts.onWarning ?? (() => {}));
  if (ctx.firstDefaultDomainNode && opsets[''] === undefined)
    throw invalid(
      `${ctx.firstDefaultDomainNode} uses the default ONNX domain, but the model imports no opset for it`,
    );
  checkReferences(graph);
  return graph;
}

function warnIfNewer(
  model: OnnxTypes.ModelProto,
  opsets: Record<string, number>,
  warn: (message: string) => void,
): void {
  const opset = opsets[''];
  if (opset !== undefined && opset > NEWEST_KNOWN_OPSET)
    warn(
      `the model imports opset ${opset} of the default ONNX domain, newer than Kiln knows (${NEWEST_KNOWN_OPSET}): each op is compiled as its newest version Kiln knows, which may differ`,
    );
  const ir = protoIntToNumber(model.irVersion);
  if (ir > NEWEST_KNOWN_IR_VERSION)
    warn(
      `the model has ir_version ${ir}, newer than Kiln knows (${NEWEST_KNOWN_IR_VERSION}): anything that version added is ignored`,
    );
}

function opsetsFromProto(imports: OnnxTypes.IOperatorSetIdProto[]): Record<string, number> {
  // No prototype: a domain named "__proto__" must be an ordinary key.
  const opsets: Record<string, number> = Object.create(null);
  for (const imp of imports) {
    const domain = imp.domain === 'ai.onnx' ? '' : (imp.domain ?? '');
    const version = protoIntToNumber(imp.version);
    if (!Number.isSafeInteger(version) || version < 1)
      throw invalid(
        `opset import for domain ${q(domain)} has version ${version}, expected a positive integer`,
      );
    if (domain in opsets && opsets[domain] !== version)
      throw invalid(
        `domain ${q(domain)} is imported at two opset versions (${opsets[domain]} and ${version})`,
      );
    opsets[domain] = version;
  }
  return opsets;
}

/**
 * Every value of the main graph is defined once and every use refers to a definition. Subgraphs are not
 * checked: they may use values of enclosing graphs.
 */
function checkReferences(graph: Graph): void {
  const defined = new Set<string>(graph.initializers.keys());
  for (const vi of graph.inputs) {
    if (defined.has(vi.name))
      throw invalid(`graph input ${q(vi.name)} is declared twice or also produced by a Constant node`);
    defined.add(vi.name);
  }
  for (const node of graph.nodes)
    for (const out of node.outputs) {
      if (out === '') continue;
      if (defined.has(out))
        throw invalid(`${node.op} node ${q(node.name)}: output ${q(out)} is already defined`);
      defined.add(out);
    }
  for (const node of graph.nodes)
    node.inputs.forEach((name, i) => {
      if (name !== '' && !defined.has(name))
        throw invalid(
          `${node.op} node ${q(node.name)}: input ${i} ${q(name)} is not defined by any node, input or initializer`,
        );
    });
  for (const vi of graph.outputs)
    if (!defined.has(vi.name))
      throw invalid(`graph output ${q(vi.name)} is not produced by any node, input or initializer`);
  if (graph.outputs.length === 0) throw fail('the model has no outputs');
}
