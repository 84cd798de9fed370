/** The runtime's TextTokenizer against @huggingface/tokenizers run directly, and its truncation. */
import { describe, expect, it } from 'vitest';
import { Tokenizer } from '@huggingface/tokenizers';
import { TextTokenizer } from '../../src/runtime/text-tokenizer.js';
import type { TokenizerInfo } from '../../src/bundle/manifest.js';
import { textVocab, wordPieceTokenizer } from '../helpers/text-model.js';

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
});
