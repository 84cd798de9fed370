import { printable } from '../text/printable.js';

/** One self-overwriting status line on stderr, shown only on a terminal so logs and pipes stay clean. */
export interface Progress {
  update(text: string): void;
  done(): void;
}

export function progressLine(stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return { update() {}, done() {} };
  let shown = false;
  return {
    update(text) {
      stream.write(`\r${printable(text)}\x1b[K`);
      shown = true;
    },
    done() {
      if (shown) stream.write('\r\x1b[K');
      shown = false;
    },
  };
}
