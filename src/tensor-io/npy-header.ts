/** Parser for the Python dict literal in a .npy header, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }. */

export interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
}

type Literal = string | boolean | number[];

export function parseNpyHeader(text: string): NpyHeader {
  const fields = parseDict(text);
  const descr = fields.get('descr');
  const fortran = fields.get('fortran_order');
  const shape = fields.get('shape');
  if (typeof descr !== 'string') throw bad(text, "'descr' must be a string");
  if (typeof fortran !== 'boolean') throw bad(text, "'fortran_order' must be True or False");
  if (!Array.isArray(shape)) throw bad(text, "'shape' must be a tuple of integers");
  return { descr, fortranOrder: fortran, shape };
}

function bad(text: string, why: string): Error {
  const shown = JSON.stringify(text.trim().slice(0, 200));
  return new Error(`invalid .npy header ${shown}: ${why}`);
}

function parseDict(text: string): Map<string, Literal> {
  let pos = 0;
  const skipSpace = () => {
    while (pos < text.length && /\s/.test(text[pos])) pos++;
  };
  const expect = (c: string) => {
    skipSpace();
    if (text[pos] !== c) throw bad(text, `expected '${c}' at offset ${pos}`);
    pos++;
  };
  const peek = () => (skipSpace(), text[pos]);
  const str = (): string => {
    const quote = peek();
    if (quote !== "'" && quote !== '"') throw bad(text, `expected a string at offset ${pos}`);
    const end = text.indexOf(quote, pos + 1);
    if (end < 0) throw bad(text, 'unterminated string');
    const s = text.slice(pos + 1, end);
    pos = end + 1;
    return s;
  };
  const int = (): number => {
    skipSpace();
    const m = /^\d+/.exec(text.slice(pos, pos + 20));
    if (!m) throw bad(text, `expected a non-negative integer at offset ${pos}`);
    pos += m[0].length;
    // NumPy writes Python ints, which may carry an 'L' suffix in files written by Python 2.
    if (text[pos] === 'L') pos++;
    const n = Number(m[0]);
    if (!Number.isSafeInteger(n)) throw bad(text, `dimension ${m[0]} is too large`);
    return n;
  };
  const value = (): Literal => {
    const c = peek();
    if (c === "'" || c === '"') return str();
    if (text.startsWith('True', pos)) return ((pos += 4), true);
    if (text.startsWith('False', pos)) return ((pos += 5), false);
    if (c !== '(') throw bad(text, `unexpected value at offset ${pos}`);
    pos++;
    const dims: number[] = [];
    while (peek() !== ')') {
      dims.push(int());
      if (peek() === ',') pos++;
      else if (peek() !== ')') throw bad(text, `expected ',' or ')' at offset ${pos}`);
    }
    pos++;
    return dims;
  };
  const fields = new Map<string, Literal>();
  expect('{');
  while (peek() !== '}') {
    const key = str();
    expect(':');
    fields.set(key, value());
    if (peek() === ',') pos++;
    else if (peek() !== '}') throw bad(text, `expected ',' or '}' at offset ${pos}`);
  }
  return fields;
}
