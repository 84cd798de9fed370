/** `kiln compile --tokenizer --task ...` and `kiln inspect` of a text bundle, through the command line. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runKiln } from '../helpers/cli-main.js';
import { buildModel } from '../helpers/onnx-builder.js';
import { textEncoder, textVocab, wordPieceTokenizer } from '../helpers/text-model.js';

let dir: string;
const shape = ['--shape', 'input_ids=1,8', '--shape', 'attention_mask=1,8', '--no-relaxed'];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-text-cli-'));
  writeFileSync(join(dir, 'enc.onnx'), textEncoder());
  writeFileSync(join(dir, 'small.onnx'), textEncoder(40));
  writeFileSync(join(dir, 'tokenizer.json'), wordPieceTokenizer(textVocab(), 6));
  writeFileSync(
    join(dir, 'cls.onnx'),
    buildModel({
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2] }],
      outputs: [{ name: 'logits', dtype: 'float32', shape: [1, 2] }],
      nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['logits'] }],
    }),
  );
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ id2label: { 0: 'negative', 1: 'positive' } }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kiln compile/inspect of text models', () => {
  it('compiles with the tokenizer and a feature-extraction task, and inspect shows both', async () => {
    const out = join(dir, 'bundle');
    const compiled = await runKiln([
      'compile',
      join(dir, 'enc.onnx'),
      '-o',
      out,
      ...shape,
      '--tokenizer',
      join(dir, 'tokenizer.json'),
      '--task',
      'feature-extraction',
      '--normalize',
    ]);
    expect(compiled.stderr).toBe('');
    expect(compiled.code).toBe(0);
    const shown = await runKiln(['inspect', out]);
    expect(shown.stdout).toContain(
      `tokenizer: tokenizer.json (WordPiece, ${textVocab().length} tokens; truncates to 6 tokens from the right, no padding; sequence length 8; feeds input_ids, attention_mask)`,
    );
    expect(shown.stdout).toContain(
      'task:     feature-extraction → sentence_embedding (mean pooling, L2-normalized)',
    );
    const json = JSON.parse((await runKiln(['inspect', out, '--json'])).stdout);
    expect(json.tokenizer).toMatchObject({
      model: 'WordPiece',
      vocabSize: textVocab().length,
      sequenceLength: 8,
    });
    expect(json.task).toEqual({
      name: 'feature-extraction',
      output: 'sentence_embedding',
      pooling: 'mean',
      normalize: true,
    });
  });

  it('takes a classifier’s labels from config.json', async () => {
    const out = join(dir, 'cls');
    const r = await runKiln([
      'compile',
      join(dir, 'cls.onnx'),
      '-o',
      out,
      '--no-relaxed',
      '--task',
      'text-classification',
      '--config',
      join(dir, 'config.json'),
    ]);
    expect(r.code).toBe(0);
    expect((await runKiln(['inspect', out])).stdout).toContain(
      'task:     text-classification → probabilities (softmax over negative, positive)',
    );
  });

  it('exits 1 with one line for a tokenizer that does not fit the model, refuses task flags without --task, and takes a sequence bounded by --shape', async () => {
    const r = await runKiln([
      'compile',
      join(dir, 'small.onnx'),
      '-o',
      join(dir, 'no'),
      ...shape,
      '--tokenizer',
      join(dir, 'tokenizer.json'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `kiln: --tokenizer: the tokenizer's vocabulary has ${textVocab().length} tokens but the model's embedding table has 40 rows: it is not this model's tokenizer\n`,
    );
    const ranged = await runKiln([
      'compile',
      join(dir, 'enc.onnx'),
      '-o',
      join(dir, 'no'),
      ...['--shape', 'input_ids=1,1..8', '--shape', 'attention_mask=1,1..8', '--no-relaxed'],
      '--tokenizer',
      join(dir, 'tokenizer.json'),
    ]);
    // a sequence known only at run time is no refusal: its upper bound is the longest text
    expect(ranged.stderr).toBe('');
    expect(ranged.code).toBe(0);
    const stray = await runKiln(['compile', join(dir, 'enc.onnx'), '-o', join(dir, 'no'), '--normalize']);
    expect(stray.code).not.toBe(0);
    expect(stray.stderr).toContain('--normalize needs --task');
  });
});
