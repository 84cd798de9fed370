/**
 * A text model's tokenizer (`kiln compile --tokenizer`): tokenizer.json parsed by @huggingface/tokenizers
 * (a file it cannot load fails the compile, not the first request), summarized for the manifest, and
 * checked against the model: its largest token id must have a row in the embedding table that the
 * token ids index.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import type { Graph } from '../ir/graph.js';
import type { TensorSignature, TokenizerInfo } from '../bundle/manifest.js';
import { formatShape, upperBounds } from '../bundle/shape-dims.js';
import { TOKENIZER_FILE } from '../bundle/files.js';

/** The Hugging Face names of a text model's inputs. */
const IDS = 'input_ids';
const MASK = 'attention_mask';
const TYPE_IDS = 'token_type_ids';

export type TokenizerSummary = Omit<TokenizerInfo, 'sequenceLength'>;

export function summarizeTokenizer(text: string, graph: Graph): TokenizerSummary {
  let json: Record<string, unknown>;
  let vocab: Map<string, number>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
    vocab = new Tokenizer(json, {}).get_vocab(true);
  } catch (err) {
    throw new Error(`--tokenizer: not a Hugging Face tokenizer.json: ${(err as Error).message}`);
  }
  const model = (json.model as { type?: unknown } | undefined)?.type;
  // a loop, not Math.max(...ids): a 250k-token vocabulary is more arguments than V8 takes
  let vocabSize = 0;
  for (const id of vocab.values()) vocabSize = Math.max(vocabSize, id + 1);
  const inputNames = graph.inputs.map((i) => i.name);
  if (!inputNames.includes(IDS))
    throw new Error(
      `--tokenizer: the model has no "${IDS}" input for the token ids (its inputs: ${inputNames.join(', ')})`,
    );
  const rows = embeddingRows(graph);
  if (rows !== undefined && vocabSize > rows)
    throw new Error(
      `--tokenizer: the tokenizer's vocabulary has ${vocabSize} tokens but the model's embedding table has ${rows} rows: ` +
        `it is not this model's tokenizer`,
    );
  const truncation = json.truncation as { max_length?: unknown; direction?: unknown } | null | undefined;
  const padding = json.padding as { pad_id?: unknown; pad_token?: unknown } | null | undefined;
  return {
    file: TOKENIZER_FILE,
    kind: 'huggingface-tokenizer',
    model: typeof model === 'string' ? model : 'unknown',
    vocabSize,
    truncation:
      truncation && typeof truncation.max_length === 'number'
        ? { maxLength: truncation.max_length, direction: truncation.direction === 'Left' ? 'left' : 'right' }
        : null,
    padding: padding
      ? { padId: Number(padding.pad_id ?? 0), padToken: String(padding.pad_token ?? '[PAD]') }
      : null,
    inputs: {
      ids: IDS,
      ...(inputNames.includes(MASK) && { attentionMask: MASK }),
      ...(inputNames.includes(TYPE_IDS) && { tokenTypeIds: TYPE_IDS }),
    },
  };
}

/** The attention-mask input mean pooling weighs the tokens by, when the model has one. */
export function attentionMaskOf(graph: Graph): string | undefined {
  return graph.inputs.some((i) => i.name === MASK) ? MASK : undefined;
}

/** Rows of the constant table a Gather indexes with the token ids, when the model has one. */
function embeddingRows(graph: Graph): number | undefined {
  for (const node of graph.nodes) {
    if (node.op !== 'Gather' || node.inputs[1] !== IDS || (node.attrs.axis ?? 0) !== 0) continue;
    const table = graph.initializers.get(node.inputs[0]);
    if (table) return table.dims[0];
  }
  return undefined;
}

/**
 * The manifest's tokenizer entry, once the ids input's shape [batch, sequence] is known; its sequence
 * length is the longest the model takes (the upper bound of a sequence dim known only at run time).
 */
export function tokenizerInfo(summary: TokenizerSummary, inputs: TensorSignature[]): TokenizerInfo {
  const sig = inputs.find((i) => i.name === summary.inputs.ids)!;
  if (sig.shape.length !== 2)
    throw new Error(
      `--tokenizer: the "${IDS}" input must be [batch, sequence], got ${formatShape(sig.shape)}`,
    );
  return { ...summary, sequenceLength: upperBounds(sig.shape)[1] };
}
