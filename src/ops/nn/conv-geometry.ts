/** The sizes a convolution lowering works from (conv.ts, its specialized forms and ConvInteger). */
import type { Window } from './window.js';

export interface ConvGeometry {
  N: number;
  C: number;
  M: number;
  group: number;
  inSpatial: number[];
  window: Window;
}
