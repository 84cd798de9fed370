/**
 * A quantized weight's per-axis scales in the manifest: listed as the place in weights.bin that holds
 * them (the float32 constant the restore or the int8 kernels read), not as a number array, which for a
 * MobileNet made manifest.json several times larger and was parsed at every load.
 */
import type { WeightEntry, WeightQuant } from '../bundle/manifest.js';
import type { QuantParams } from '../passes/compress-weights.js';

/** `quant` as the manifest lists it; without `scalesAt` where no weight holds the scales (nothing reads them). */
export function listedQuant(quant: QuantParams, entries: WeightEntry[], weights: Uint8Array): WeightQuant {
  const { scales, ...params } = quant;
  if (!scales) return params;
  const wanted = new Uint8Array(Float32Array.from(scales).buffer);
  const holder = entries.find(
    (e) =>
      e.dtype === 'float32' &&
      e.byteLength === wanted.length &&
      wanted.every((b, i) => weights[e.offset + i] === b),
  );
  return holder ? { ...params, scalesAt: { offset: holder.offset, length: scales.length } } : params;
}
