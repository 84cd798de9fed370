/**
 * The webgpu target's own lowering. The ops lower differently for the GPU (`forGpu`: no run-time window
 * runs, staged gemms, nearest Resize blocks or ConvTranspose gemms, whose wasm forms the WGSL generator
 * refuses or runs slowly), so a bundle built for both targets lowers the one optimized graph twice and
 * each target renders its own kernels. The two Programs share the bundle's memory plan: weights,
 * persistent values, inputs, outputs and dims block lie at the same offsets (the graph and its
 * constants are the same); only the arena differs, each holding its own kernels' intermediates.
 */
import type { Graph } from '../ir/graph.js';
import type { Program } from '../kernels/ir.js';
import { lowerGraph, type LoweredModel } from './lower.js';

/**
 * `graph` lowered for the GPU, checked to place what the manifest describes where `wasm` (its wasm
 * lowering) does. Its memory is at least the wasm plan's, so the storage bindings still hold every
 * region the manifest's memory plan places, as bundle readers check.
 */
export function lowerForGpu(graph: Graph, wasm: LoweredModel): Program {
  const gpu = lowerGraph(graph, { forGpu: true });
  if (sharedLayout(gpu) !== sharedLayout(wasm))
    throw new Error(
      'internal: the webgpu lowering places weights, inputs or outputs apart from the wasm one',
    );
  return { ...gpu.program, memoryBytes: Math.max(gpu.program.memoryBytes, wasm.program.memoryBytes) };
}

/** Where a lowering places all but its arena (the weights' bytes follow from their table: one graph). */
function sharedLayout({ memory: m, inputs, outputs, weights, program }: LoweredModel): string {
  const regions = [
    m.weightsOffset,
    m.weightsBytes,
    m.persistentOffset,
    m.persistentBytes,
    m.ioOffset,
    m.ioBytes,
  ];
  return JSON.stringify([regions, m.arenaOffset, inputs, outputs, weights.entries, program.dims]);
}
