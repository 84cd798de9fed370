/** The runtime's TextTokenizer against @huggingface/tokenizers run directly, and its truncation. */
import { describe, expect, it } from 'vitest';
import { Tokenizer } from '@huggingface/tokenizers';
import { TextTokenizer } from '../../src/runtime/text-tokenizer.js';
import type { TokenizerInfo } from '../../src/bundle/manifest.js';
import { bertBaseUncasedVocab, textVocab, wordPieceTokenizer } from '../helpers/text-model.js';

const info = (sequenceLength: number, maxLength?: number): TokenizerInfo => ({
  file: 'tokenizer.json',
  kind: 'huggingface-tokenizer',
  model: 'WordPiece',
  vocabSize: textVocab().length,
  truncation: maxLength === undefined ? null : { maxLength, direction: 'right' },
  padding: null,
  inputs: { ids: 'input_ids', attentionMask: 'attention_mask' },
  sequenceLength,
});

const CORPUS = [
  'The cat sat on the mat.',
  'Café NAÏVE — accents are stripped',
  '日本語の中文字',
  'emoji 😀 and unknown ✨ glyphs',
  'Embeddings! Search, text; kiln?',
  'the dog '.repeat(100),
];

describe('TextTokenizer', () => {
  it('gives the ids @huggingface/tokenizers gives, on accents, CJK, emoji and over-long text', () => {
    const json = wordPieceTokenizer();
    const direct = new Tokenizer(JSON.parse(json), {});
    const ours = new TextTokenizer(json, info(512));
    for (const text of CORPUS)
      expect(ours.encode(text, 'refuse', 'input').ids).toEqual(direct.encode(text).ids);
    const vocab = textVocab();
    // the corpus exercises what it claims to: lower-cased, accents stripped, CJK split per character, [UNK]
    expect(ours.encode('Café 日本 ✨', 'refuse', 'input').ids).toEqual(
      ['[CLS]', 'cafe', '日', '本', '[UNK]', '[SEP]'].map((t) => vocab.indexOf(t)),
    );
  });

  it('over bert-base-uncased’s real vocabulary, gives the ids @huggingface/tokenizers gives, with its subword splits', () => {
    const vocab = bertBaseUncasedVocab();
    expect(vocab).toHaveLength(30522);
    const json = wordPieceTokenizer(vocab);
    const direct = new Tokenizer(JSON.parse(json), {});
    const ours = new TextTokenizer(json, { ...info(4096), vocabSize: vocab.length });
    const corpus = [
      ...CORPUS,
      'Unaffable TOKENIZATION of Crème Brûlée 東京タワー 🤖🎉',
      'unaffable '.repeat(300),
    ];
    for (const text of corpus)
      expect(ours.encode(text, 'refuse', 'input').ids).toEqual(direct.encode(text).ids);
    // over-long: cut to the tokenizer's 128 tokens, its content cut and [CLS] … [SEP] kept
    const long = corpus.at(-1)!;
    const cut = new TextTokenizer(wordPieceTokenizer(vocab, 128), {
      ...info(128, 128),
      vocabSize: vocab.length,
    });
    const content = direct.encode(long, { add_special_tokens: false }).ids;
    expect(cut.encode(long, 'truncate', 'input')).toMatchObject({
      ids: [101, ...content.slice(0, 126), 102],
      truncated: content.length - 126,
    });
    const tokens = (text: string) => ours.encode(text, 'refuse', 'input').ids.map((id) => vocab[id]);
    expect(tokens('Unaffable tokenization, Crème 東京 🤖')).toEqual([
      '[CLS]',
      'una',
      '##ffa',
      '##ble',
      'token',
      '##ization',
      ',',
      'cr',
      '##eme',
      '東',
      '京',
      '[UNK]',
      '[SEP]',
    ]);
    expect(
      ['[PAD]', '[unused0]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the'].map((t) => vocab.indexOf(t)),
    ).toEqual([0, 1, 100, 101, 102, 103, 1996]);
  });

  it('truncates the content and keeps [CLS] and [SEP], or refuses, as asked; the tokenizer’s own limit applies', () => {
    const json = wordPieceTokenizer(textVocab(), 6);
    const tokenizer = new TextTokenizer(json, info(8, 6));
    expect(tokenizer.maxLength).toBe(6);
    expect(tokenizer.defaultOverLong).toBe('truncate');
    const vocab = textVocab();
    const got = tokenizer.encode('the cat sat on the mat', 'truncate', 'input');
    expect(got.ids).toEqual(['[CLS]', 'the', 'cat', 'sat', 'on', '[SEP]'].map((t) => vocab.indexOf(t)));
    expect(got.truncated).toBe(2);
    expect(() => tokenizer.encode('the cat sat on the mat', 'refuse', 'input[3]')).toThrow(
      "input[3] is 8 tokens, more than the model's 6; shorten it or ask for truncation",
    );
    expect(new TextTokenizer(json, info(8)).defaultOverLong).toBe('refuse');
  });

  it('checks token ids given directly', () => {
    const tokenizer = new TextTokenizer(wordPieceTokenizer(), info(4));
    expect(tokenizer.checkIds([2, 5, 3], 'refuse', 'input[0]').ids).toEqual([2, 5, 3]);
    expect(tokenizer.checkIds([2, 5, 6, 7, 3], 'truncate', 'input[0]')).toMatchObject({
      ids: [2, 5, 6, 7],
      truncated: 1,
    });
    expect(() => tokenizer.checkIds([2, 1.5], 'refuse', 'input[1]')).toThrow(
      'input[1][1] must be a token id (an integer ≥ 0), got 1.5',
    );
    expect(() => tokenizer.checkIds([2, 9999], 'refuse', 'input[1]')).toThrow(
      `input[1][1] is token id 9999, outside the vocabulary (${textVocab().length} tokens)`,
    );
  });

  it.each([
    ['byte-level BPE with a RoBERTa template (<s> … </s>)', byteLevelBpe(), ['<s>'], ['</s>']],
    ['Unigram with Metaspace and a trailing </s>', unigram(), [], ['</s>']],
  ])(
    '%s: the ids @huggingface/tokenizers gives; truncation cuts the content, not the special tokens',
    (_, json, head, tail) => {
      const direct = new Tokenizer(JSON.parse(json), {});
      const vocab = direct.get_vocab(true);
      const ours = new TextTokenizer(json, { ...info(8), vocabSize: vocab.size });
      for (const text of CORPUS) {
        const all = direct.encode(text).ids;
        if (all.length <= 8) expect(ours.encode(text, 'refuse', 'input').ids).toEqual(all);
        else {
          const content = direct.encode(text, { add_special_tokens: false }).ids;
          const room = 8 - head.length - tail.length;
          const ids = (tokens: string[]) => tokens.map((t) => vocab.get(t)!);
          expect(ours.encode(text, 'truncate', 'input')).toEqual({
            ids: [...ids(head), ...content.slice(0, room), ...ids(tail)],
            typeIds: new Array(8).fill(0),
            truncated: content.length - room,
          });
        }
      }
    },
  );
});

const added = (tokens: string[]) =>
  tokens.map((content, id) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));

/** GPT-2's byte → character map, the alphabet of byte-level BPE. */
function byteAlphabet(): string[] {
  const printable = [...Array(256).keys()].filter(
    (b) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174,
  );
  let next = 256;
  return [...Array(256).keys()].map((b) => String.fromCharCode(printable.includes(b) ? b : next++));
}

/** A RoBERTa-style tokenizer.json: byte-level pre-tokenizer, BPE with a few merges, <s> … </s>. */
function byteLevelBpe(): string {
  const specials = ['<s>', '<pad>', '</s>', '<unk>'];
  const merges = [
    ['Ġ', 't'],
    ['Ġt', 'h'],
    ['Ġth', 'e'],
    ['c', 'a'],
    ['ca', 't'],
    ['Ġ', 'c'],
  ];
  const vocab = [...new Set([...specials, ...byteAlphabet(), ...merges.map(([a, b]) => a + b)])];
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return JSON.stringify({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added(specials),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: {
      type: 'RobertaProcessing',
      sep: ['</s>', 2],
      cls: ['<s>', 0],
      trim_offsets: true,
      add_prefix_space: false,
    },
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  });
}

/** A T5-style tokenizer.json: Metaspace pre-tokenizer, a Unigram model, a trailing </s>. */
function unigram(): string {
  const specials = ['<pad>', '</s>', '<unk>'];
  const pieces = ['▁the', '▁cat', '▁', ...'abcdefghijklmnopqrstuvwxyz.,!?;'];
  const metaspace = { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true };
  const a = { Sequence: { id: 'A', type_id: 0 } };
  const eos = { SpecialToken: { id: '</s>', type_id: 0 } };
  return JSON.stringify({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added(specials),
    normalizer: null,
    pre_tokenizer: metaspace,
    post_processor: {
      type: 'TemplateProcessing',
      single: [a, eos],
      pair: [a, eos, { Sequence: { id: 'B', type_id: 0 } }, eos],
      special_tokens: { '</s>': { id: '</s>', ids: [1], tokens: ['</s>'] } },
    },
    decoder: metaspace,
    model: {
      type: 'Unigram',
      unk_id: 2,
      byte_fallback: false,
      vocab: [...specials.map((t) => [t, 0]), ...pieces.map((p, i) => [p, -1 - i / 10])],
    },
  });
}
