/**
 * com.example:RmsNormScale — fused RMSNorm and scale over the last axis:
 * y[r, c] = x[r, c] / sqrt(mean_c(x[r, c]²) + epsilon) · scale[c].
 * Rows run in parallel — the leading dims of x, which may be known only at run time (`--shape
 * x=1..64,256`); the last axis is static — each row sums its squares into local accumulators (four partial
 * sums over a tiled loop, so the adds do not wait on each other), then writes the scaled row.
 */
import { float, kernel, rsqrt } from '../../src/kernel-lang/index.js';

export const RmsNormScale = kernel({
  domain: 'com.example',
  op: 'RmsNormScale',
  inputs: { x: 'f32', scale: 'f32' },
  outputs: { y: 'f32' },
  attrs: { epsilon: float(1e-6) },
  shape: ({ x, scale }) => {
    const cols = x.shape[x.shape.length - 1];
    if (typeof cols !== 'number') throw new Error(`the last axis of x (${cols}) must be static`);
    if (scale.shape.length !== 1 || scale.shape[0] !== cols)
      throw new Error(`scale has shape [${scale.shape}], expected [${cols}] (the last axis of x)`);
    return { y: x.shape };
  },
  body: ({ x, scale, y, epsilon }, k) => {
    const cols = x.shape[x.rank - 1] as number; // static: the shape function says so
    const lanes = cols % 4 === 0 ? 4 : 1;
    // the rows: every leading dim, each a number or a size known only at run time
    k.parallel(x.shape.slice(0, -1), (...row) => {
      const partial = Array.from({ length: lanes }, () => k.local(0));
      k.loop(cols / lanes, (t) => {
        partial.forEach((acc, lane) => {
          const v = x.at(...row, t.mul(lanes).add(lane));
          acc.set(acc.get().add(v.mul(v)));
        });
      });
      const sumSquares = partial.map((acc) => acc.get()).reduce((a, b) => a.add(b));
      const inv = rsqrt(sumSquares.div(cols).add(epsilon));
      k.loop(cols, (c) =>
        y.set(
          ...row,
          c,
          x
            .at(...row, c)
            .mul(inv)
            .mul(scale.at(c)),
        ),
      );
    });
  },
});
