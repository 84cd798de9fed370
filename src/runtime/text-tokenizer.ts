/**
 * A bundle's Hugging Face tokenizer (tokenizer.json) run by @huggingface/tokenizers, plus what that
 * library leaves to its caller: truncation to the model's sequence length (keeping the special tokens the
 * post-processor adds) and the check of token ids given directly. Loaded only for bundles that have a
 * tokenizer: the serving app imports this module on a text model's first request.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import type { TokenizerInfo } from '../bundle/manifest.js';

export interface TextEncoding {
  ids: number[];
  typeIds: number[];
  /** tokens dropped to fit the sequence length */
  truncated: number;
}

/** What to do with a text longer than the model takes: cut it (on the tokenizer's side) or refuse it. */
export type OverLong = 'truncate' | 'refuse';

export class TextTokenizer {
  private readonly tokenizer: Tokenizer;
  /** the most tokens one sequence may have: the compiled sequence length, or less if tokenizer.json says so */
  readonly maxLength: number;
  private readonly direction: 'left' | 'right';

  constructor(
    json: string,
    readonly info: TokenizerInfo,
  ) {
    this.tokenizer = new Tokenizer(JSON.parse(json), {});
    this.maxLength = Math.min(info.sequenceLength, info.truncation?.maxLength ?? Infinity);
    this.direction = info.truncation?.direction ?? 'right';
  }

  /** the tokenizer's default for a request that does not say */
  get defaultOverLong(): OverLong {
    return this.info.truncation ? 'truncate' : 'refuse';
  }

  /** Token ids (special tokens added) of one text; `where` names it in errors. */
  encode(text: string, overLong: OverLong, where: string): TextEncoding {
    const full = this.tokenizer.encode(text, { return_token_type_ids: true });
    const typeIds = full.token_type_ids ?? full.ids.map(() => 0);
    if (full.ids.length <= this.maxLength) return { ids: full.ids, typeIds, truncated: 0 };
    if (overLong === 'refuse')
      throw new RangeError(
        `${where} is ${full.ids.length} tokens, more than the model's ${this.maxLength}; shorten it or ask for truncation`,
      );
    // the content sits between what the post-processor puts around it ([CLS] … [SEP]): cut the content only
    const bare = this.tokenizer.encode(text, { add_special_tokens: false }).ids;
    const start = indexOfRun(full.ids, bare);
    const specials = full.ids.length - bare.length;
    const room = this.maxLength - specials;
    if (start < 0 || room < 0) {
      const keep = this.direction === 'right' ? [0, this.maxLength] : [full.ids.length - this.maxLength];
      return {
        ids: full.ids.slice(...keep),
        typeIds: typeIds.slice(...keep),
        truncated: full.ids.length - this.maxLength,
      };
    }
    const [from, to] =
      this.direction === 'right' ? [start, start + room] : [start + bare.length - room, start + bare.length];
    const pick = (all: number[]) => [
      ...all.slice(0, start),
      ...all.slice(from, to),
      ...all.slice(start + bare.length),
    ];
    return { ids: pick(full.ids), typeIds: pick(typeIds), truncated: bare.length - room };
  }

  /** Token ids given directly (as in OpenAI's token-array input): checked, used as they are. */
  checkIds(ids: unknown[], overLong: OverLong, where: string): TextEncoding {
    const bad = ids.findIndex((id) => !Number.isInteger(id) || (id as number) < 0);
    if (bad >= 0)
      throw new RangeError(
        `${where}[${bad}] must be a token id (an integer ≥ 0), got ${JSON.stringify(ids[bad])}`,
      );
    const outside = ids.findIndex((id) => (id as number) >= this.info.vocabSize);
    if (outside >= 0)
      throw new RangeError(
        `${where}[${outside}] is token id ${ids[outside] as number}, outside the vocabulary (${this.info.vocabSize} tokens)`,
      );
    if (ids.length > this.maxLength && overLong === 'refuse')
      throw new RangeError(
        `${where} is ${ids.length} tokens, more than the model's ${this.maxLength}; shorten it or ask for truncation`,
      );
    const kept = (ids as number[]).slice(
      ...(this.direction === 'right' ? [0, this.maxLength] : [Math.max(0, ids.length - this.maxLength)]),
    );
    return { ids: kept, typeIds: kept.map(() => 0), truncated: ids.length - kept.length };
  }
}

/** Where `run` first occurs in `all`, or -1. */
function indexOfRun(all: number[], run: number[]): number {
  for (let i = 0; i + run.length <= all.length; i++) if (run.every((id, j) => all[i + j] === id)) return i;
  return -1;
}
