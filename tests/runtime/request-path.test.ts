/**
 * loadModel compiles the JavaScript of a request (model.run, feeds checked and copied in, the instance's
 * run, outputs copied out) before it resolves, so the first run() does not compile it: V8 compiles a function to bytecode at its first
 * call, which cost a 1 ms classifier's first run about 0.5 ms (issue #18). V8's own test intrinsic says
 * whether a function is still lazy (not compiled). This file must be the only one in its module graph
 * to call into the request path before the assertions, so it stays on its own.
 */
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { feedBytes } from '../../src/runtime/feeds.js';
import { loadModel } from '../../src/runtime/index.js';
import { LoadedModel } from '../../src/runtime/model.js';
import { WasmInstance } from '../../src/runtime/wasm-backend.js';
import { buildFixtureBundle, expectedY, fixtureFeeds } from './fixture.js';

setFlagsFromString('--allow-natives-syntax');
/** V8's OptimizationStatus::kIsLazy: the function has no bytecode yet */
const IS_LAZY = 1 << 18;
const status = new Function('f', 'return %GetOptimizationStatus(f)') as (f: unknown) => number;
const isLazy = (f: unknown): boolean => (status(f) & IS_LAZY) !== 0;

describe('loadModel primes the request path', () => {
  it('has compiled model.run, the feed checks, the instance run and the output copies before the first run, which answers exactly', async () => {
    const bundle = await buildFixtureBundle();
    const methods = (proto: object) => proto as unknown as Record<string, unknown>;
    const path = {
      'LoadedModel.run': LoadedModel.prototype.run,
      'LoadedModel.runNow': methods(LoadedModel.prototype).runNow,
      feedBytes,
      'WasmInstance.run': WasmInstance.prototype.run,
      'WasmInstance.readOutputs': methods(WasmInstance.prototype).readOutputs,
    };
    const lazy = () => Object.entries(path).flatMap(([name, f]) => (isLazy(f) ? [name] : []));
    expect(lazy()).toEqual(Object.keys(path));
    const model = await loadModel(bundle, { backend: 'wasm' });
    expect(lazy()).toEqual([]);
    const x = [1, -2, 3, -4, 5, -6];
    const out = await model.run(fixtureFeeds(x));
    expect(Array.from(out['out/y'].data as Float32Array)).toEqual(expectedY(x));
    model.dispose();
  });
});
