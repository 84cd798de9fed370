/** A float64 reference for 2-D MaxPool tests that feed NaN and ±Inf (onnxruntime's may drop a NaN). */
import type { HostTensor } from '../../src/ir/tensor.js';

/** MaxPool (no dilation, no ceil_mode) of [N, C, H, W], NaN wherever a window holds one (numpy's max). */
export function maxPoolReference(t: HostTensor, k: number, s: number, pads: number[]): HostTensor {
  const [N, C, H, W] = t.dims;
  const OH = Math.floor((H + pads[0] + pads[2] - k) / s) + 1;
  const OW = Math.floor((W + pads[1] + pads[3] - k) / s) + 1;
  const out: number[] = [];
  for (let p = 0; p < N * C; p++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++) {
        let best = -Infinity;
        for (let i = oy * s - pads[0]; i < oy * s - pads[0] + k; i++)
          for (let j = ox * s - pads[1]; j < ox * s - pads[1] + k; j++)
            if (i >= 0 && i < H && j >= 0 && j < W) {
              const x = t.data[(p * H + i) * W + j] as number;
              best = Number.isNaN(x) || Number.isNaN(best) ? NaN : Math.max(best, x);
            }
        out.push(best);
      }
  return { dtype: 'float32', dims: [N, C, OH, OW], data: Float32Array.from(out) };
}
