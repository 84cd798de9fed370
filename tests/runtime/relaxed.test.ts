/**
 * The relaxed-SIMD variant (model.relaxed.wasm). Node 20 compiles relaxed SIMD only with
 * --experimental-wasm-relaxed-simd, so the relaxed module runs in child processes started with that
 * flag (tests/runtime/relaxed-child.ts), and without it to check the fallback. Outputs are held to
 * onnxruntime-node at the oracle's usual tolerances (rtol 1e-4, atol 1e-5).
 */
import { execFile } from 'node:child_process';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import type { CompileOptions } from '../../src/compiler/options.js';
import { writeBundle } from '../../src/bundle/node.js';
import { sealBundle } from '../../src/bundle/seal.js';
import { sha256Hex } from '../../src/bundle/hash.js';
import type { BundleFiles } from '../../src/bundle/files.js';
import { compileProgram, programToWat } from '../../src/codegen/wasm/index.js';
import type { PlacedBuffer, Program } from '../../src/kernels/ir.js';
import { add, load, loop, mul, store, sub, v } from '../../src/kernels/build.js';
import { loadModel } from '../../src/runtime/index.js';
import { hasRelaxedSimd } from '../../src/runtime/relaxed-simd.js';
import type { HostTensor } from '../../src/ir/tensor.js';
import { compareTensors } from '../../scripts/compare.js';
import { randomTensor, seededRandom } from '../helpers/onnx-builder.js';
import { runOrt, singleNodeModel, type NodeRun } from '../helpers/ort-oracle.js';
import { expectedKernels, EPILOGUE_CASES } from '../helpers/epilogue-models.js';
import { RESIDUAL_CASES } from '../helpers/residual-models.js';
import {
  C,
  GEMM_CONV_CASES,
  SHIFTED_CONV_CASES,
  WINDOW_CASES,
  windowModel,
} from '../helpers/window-models.js';
import { convTransposeVariants } from '../helpers/resize-models.js';
import { attentionProductsFeeds, attentionProductsModel } from '../helpers/models.js';
import { crnnRec } from '../../scripts/bench-models.js';
import { inChild, outputsOf, RELAXED_FLAG } from './child-run.js';
import { buildFixtureBundle, expectedY, fixtureFeeds, fixtureProgram, numbers } from './fixture.js';

const validate = (bytes: Uint8Array) => WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-relaxed-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function expectClose(ours: Record<string, HostTensor>, theirs: Record<string, HostTensor>): void {
  for (const [name, expected] of Object.entries(theirs))
    expect(compareTensors(ours[name], expected, 1e-4, 1e-5), name).toBeUndefined();
}

async function compileTo(name: string, bytes: Uint8Array, options: CompileOptions): Promise<BundleFiles> {
  const files = await compileModel(bytes, options);
  await writeBundle(join(dir, name), files);
  return files;
}

it('this test process has no relaxed SIMD (Node 20 without the flag), so the variant runs in children', () => {
  expect(hasRelaxedSimd()).toBe(false);
});

describe('models against onnxruntime: relaxed with the flag, simd128 without', () => {
  const models: [string, string, number[]][] = [
    ['mlp', 'x', [4, 64]],
    ['cnn', 'image', [1, 3, 32, 32]],
    ['attention', 'x', [1, 8, 32]],
  ];
  for (const [name, input, dims] of models)
    it(`models/${name}.onnx`, async () => {
      const bytes = new Uint8Array(await readFile(join('models', `${name}.onnx`)));
      const files = await compileTo(name, bytes, { shapes: { [input]: dims } });
      expect(files.manifest.wasm.relaxed).toEqual({ file: 'model.relaxed.wasm' });
      // the relaxed module really uses relaxed SIMD: this engine (no flag) refuses it, and takes model.wasm
      expect(validate(files.relaxedWasm!)).toBe(false);
      expect(validate(files.wasm)).toBe(true);
      const feeds = { [input]: randomTensor(dims, seededRandom(42)) };
      const theirs = await runOrt(bytes, feeds);
      const [relaxed, plain] = await Promise.all([
        inChild(join(dir, name), 'auto', feeds, true),
        inChild(join(dir, name), 'auto', feeds, false),
      ]);
      expect(relaxed).toMatchObject({ detected: true, variant: 'relaxed' });
      expect(plain).toMatchObject({ detected: false, variant: 'simd128' });
      expectClose(outputsOf(relaxed), theirs);
      expectClose(outputsOf(plain), theirs);
    });
});

it('attention products with a run-time sequence (the gemm on staged operands) against onnxruntime', async () => {
  const bytes = attentionProductsModel();
  const dims = { batch: { min: 1, max: 2 }, seq: { min: 1, max: 255 } };
  await compileTo('attention_products', bytes, { dims });
  for (const seq of [3, 64, 255]) {
    const feeds = attentionProductsFeeds(2, seq);
    const relaxed = await inChild(join(dir, 'attention_products'), 'relaxed', feeds, true);
    expect(relaxed).toMatchObject({ variant: 'relaxed' });
    expectClose(outputsOf(relaxed), await runOrt(bytes, feeds));
  }
});

it("the bench's OCR recognizer (crnn-rec) over a run-time width (tiled convs, staged attention) against onnxruntime", async () => {
  const { bytes } = crnnRec();
  await compileTo('crnn_rec', bytes, { shapes: { x: [1, 3, 48, { min: 16, max: 1024 }] } });
  // the lower bound (sequence 2), odd widths (sequence 9 and 83: partial 8-row and 8-column blocks)
  for (const w of [16, 75, 667]) {
    const feeds = { x: randomTensor([1, 3, 48, w], seededRandom(w)) };
    const relaxed = await inChild(join(dir, 'crnn_rec'), 'relaxed', feeds, true);
    expect(relaxed).toMatchObject({ variant: 'relaxed' });
    expectClose(outputsOf(relaxed), await runOrt(bytes, feeds));
  }
}, 300_000);

it('ConvTransposes over a run-time height and width (a 2×2 stride-2 one through the gemm) against onnxruntime', async () => {
  const bytes = convTransposeVariants();
  const side = { min: 1, max: 20 };
  await compileTo('conv_transposes', bytes, { dims: { height: side, width: side } });
  for (const [h, w] of [
    [1, 1],
    [20, 13],
  ]) {
    const feeds = { x: randomTensor([1, 4, h, w], seededRandom(h + 100 * w)) };
    const relaxed = await inChild(join(dir, 'conv_transposes'), 'relaxed', feeds, true);
    expect(relaxed).toMatchObject({ variant: 'relaxed' });
    expectClose(outputsOf(relaxed), await runOrt(bytes, feeds));
  }
});

describe('gemm and conv op cases in the relaxed variant against onnxruntime', () => {
  const r = seededRandom(5);
  const t = (dims: number[]) => randomTensor(dims, r);
  const cases: [string, NodeRun][] = [
    [
      'Gemm transB with bias',
      {
        op: 'Gemm',
        opset: 13,
        inputs: [t([9, 37]), t([21, 37]), t([21])],
        weights: [1, 2],
        attrs: { transB: { i: 1 } },
        outputs: ['float32'],
      },
    ],
    [
      'MatMul 3-D',
      { op: 'MatMul', opset: 13, inputs: [t([2, 13, 40]), t([40, 19])], weights: [1], outputs: ['float32'] },
    ],
    [
      'Conv 3×3 pads strides',
      {
        op: 'Conv',
        opset: 11,
        inputs: [t([1, 5, 17, 15]), t([12, 5, 3, 3]), t([12])],
        weights: [1, 2],
        attrs: { pads: { ints: [1, 1, 1, 1] }, strides: { ints: [2, 1] } },
        outputs: ['float32'],
      },
    ],
    [
      'Conv 1×1 groups',
      {
        op: 'Conv',
        opset: 11,
        inputs: [t([1, 8, 9, 9]), t([8, 4, 1, 1])],
        weights: [1],
        attrs: { group: { i: 2 } },
        outputs: ['float32'],
      },
    ],
  ];
  for (const [name, node] of cases)
    it(name, async () => {
      const feeds = { in0: node.inputs[0]! };
      const theirs = await runOrt(singleNodeModel(node), feeds);
      const bytes = singleNodeModel(node, [theirs.out0.dims]);
      const bundle = name.replace(/\W+/g, '_');
      const files = await compileTo(bundle, bytes, {});
      expect(files.relaxedWasm).toBeDefined();
      const relaxed = await inChild(join(dir, bundle), 'relaxed', feeds, true);
      expect(relaxed).toMatchObject({ variant: 'relaxed' });
      expectClose(outputsOf(relaxed), theirs);
    });
});

describe('fused elementwise epilogues in the relaxed variant against onnxruntime', () => {
  for (const c of EPILOGUE_CASES)
    it(c.name, async () => {
      const feeds = { x: randomTensor(c.x, seededRandom(7), 3) };
      const bundle = `epilogue_${c.name.replace(/\W+/g, '_')}`;
      const files = await compileTo(bundle, c.bytes, {});
      expect((files.manifest.kernels ?? []).map((k) => k.op)).toEqual(expectedKernels(c));
      const relaxed = await inChild(join(dir, bundle), 'relaxed', feeds, true);
      expect(relaxed).toMatchObject({ variant: 'relaxed' });
      expectClose(outputsOf(relaxed), await runOrt(c.bytes, feeds));
    });
});

describe('fused residual epilogues in the relaxed variant against onnxruntime', () => {
  for (const c of RESIDUAL_CASES)
    it(c.name, async () => {
      const feeds = { x: randomTensor(c.x, seededRandom(7), 3), s: randomTensor(c.s, seededRandom(8), 3) };
      const bundle = `residual_${c.name.replace(/\W+/g, '_')}`;
      const files = await compileTo(bundle, c.bytes, {});
      expect((files.manifest.kernels ?? []).map((k) => k.op)).toEqual(c.ops);
      const relaxed = await inChild(join(dir, bundle), 'relaxed', feeds, true);
      expect(relaxed).toMatchObject({ variant: 'relaxed' });
      expectClose(outputsOf(relaxed), await runOrt(c.bytes, feeds));
    });
});

describe('convs over a run-time height and width in the relaxed variant against onnxruntime', () => {
  const convs = [
    ...[...WINDOW_CASES.filter((w) => w.node.op === 'Conv'), ...GEMM_CONV_CASES].map((c) => ({
      ...c,
      kernel: 'kernel' in c ? c.kernel : 3,
      channels: C,
    })),
    ...SHIFTED_CONV_CASES,
  ];
  for (const c of convs)
    it(c.name, async () => {
      const channels = c.channels;
      const bytes = windowModel(c.node, c.outChannels, c.kernel, channels);
      const bundle = `window_${c.name.replace(/\W+/g, '_')}`;
      const side = { min: 8, max: 40 };
      const files = await compileTo(bundle, bytes, { shapes: { x: [1, channels, side, side] } });
      expect(files.relaxedWasm).toBeDefined();
      // positions: 117 (a 96-wide tile, two 8-wide ones, an overlapping last), 64 (8-wide ones only), 1024
      for (const [h, w] of [
        [9, 13],
        [8, 8],
        [32, 32],
      ]) {
        const feeds = { x: randomTensor([1, channels, h, w], seededRandom(h * 100 + w)) };
        const relaxed = await inChild(join(dir, bundle), 'relaxed', feeds, true);
        expect(relaxed).toMatchObject({ variant: 'relaxed' });
        expectClose(outputsOf(relaxed), await runOrt(bytes, feeds));
      }
    });
});

it('the vectorizer fuses c + a·b and c − a·b (relaxed_madd, relaxed_nmadd), and they compute it', async () => {
  const n = 10;
  const at = (id: number, offset: number): PlacedBuffer => ({ id, dtype: 'float32', length: n, offset });
  const [a, b, c, sum, diff] = [0, 64, 128, 192, 256].map((offset, id) => at(id, offset));
  const k = v('k');
  const program: Program = {
    buffers: [a, b, c, sum, diff],
    memoryBytes: 65536,
    init: [],
    run: [
      {
        name: 'fma',
        body: [
          loop('k', n, [
            store(sum, k, add(load(c, k), mul(load(a, k), load(b, k)))),
            store(diff, k, sub(load(c, k), mul(load(a, k), load(b, k)))),
          ]),
        ],
      },
    ],
  };
  const wat = programToWat(program, { relaxedSimd: true });
  expect(wat).toContain('f32x4.relaxed_madd');
  expect(wat).toContain('f32x4.relaxed_nmadd');
  expect(programToWat(program)).not.toContain('relaxed');
  const file = join(dir, 'fma.wasm');
  await writeFile(file, compileProgram(program, { optimize: true, relaxedSimd: true }));
  const values = Array.from({ length: 3 * n }, (_, i) => Math.fround(Math.sin(i + 1) * 3));
  const script = `
    const inst = new WebAssembly.Instance(new WebAssembly.Module(require('fs').readFileSync(${JSON.stringify(file)})), {});
    const mem = new Float32Array(inst.exports.memory.buffer);
    mem.set(${JSON.stringify(values.slice(0, n))}, 0);
    mem.set(${JSON.stringify(values.slice(n, 2 * n))}, 16);
    mem.set(${JSON.stringify(values.slice(2 * n))}, 32);
    inst.exports.run();
    console.log(JSON.stringify([Array.from(mem.subarray(48, 48 + ${n})), Array.from(mem.subarray(64, 64 + ${n}))]));`;
  const out = await new Promise<string>((resolve, reject) =>
    execFile('node', [RELAXED_FLAG, '-e', script], (err, stdout) => (err ? reject(err) : resolve(stdout))),
  );
  const [sums, diffs] = JSON.parse(out) as number[][];
  for (let i = 0; i < n; i++) {
    const [x, y, z] = [values[i], values[n + i], values[2 * n + i]];
    expect(sums[i]).toBeCloseTo(z + x * y, 5);
    expect(diffs[i]).toBeCloseTo(z - x * y, 5);
  }
});

describe('choosing and falling back', () => {
  let fixture: BundleFiles;
  const X = [1, -2, 0.5, 3, 0, -1];
  beforeAll(async () => {
    fixture = await buildFixtureBundle();
  });

  it('the relaxed module fuses the vectorized x·w + bias into relaxed_madd, which this engine refuses', async () => {
    const bundle = await withRelaxedFixture(fixture);
    expect(validate(bundle.relaxedWasm!)).toBe(false);
    expect(validate(bundle.wasm)).toBe(true);
  });

  it('without relaxed SIMD: auto runs model.wasm, simd128 too, relaxed is a clear error', async () => {
    const bundle = await withRelaxedFixture(fixture);
    const auto = await loadModel(bundle);
    expect(auto.variant).toBe('simd128');
    expect(numbers((await auto.run(fixtureFeeds(X)))['out/y'])).toEqual(expectedY(X));
    expect((await loadModel(bundle, { variant: 'simd128' })).variant).toBe('simd128');
    await expect(loadModel(bundle, { variant: 'relaxed' })).rejects.toThrow(
      /variant 'relaxed' needs relaxed SIMD, which this WebAssembly engine lacks \(Node 20: run with --experimental-wasm-relaxed-simd/,
    );
    await expect(loadModel(bundle, { variant: 'fast' as 'auto' })).rejects.toThrow(/unknown variant "fast"/);
  });

  it('a bundle without a relaxed module (older, or --no-relaxed) loads; forcing relaxed says why not', async () => {
    const mlp = new Uint8Array(await readFile('models/mlp.onnx'));
    const files = await compileModel(mlp, { shapes: { x: [1, 64] }, relaxed: false });
    expect(files.manifest.wasm.relaxed).toBeUndefined();
    expect(files.relaxedWasm).toBeUndefined();
    expect(Object.keys(files.manifest.files).sort()).toEqual(['model.wasm', 'weights.bin']);
    expect((await loadModel(files)).variant).toBe('simd128');
    await expect(loadModel(files, { variant: 'relaxed' })).rejects.toThrow(
      /the bundle has no relaxed-SIMD module/,
    );
  });

  it('the relaxed file is verified: a wrong hash, or one the manifest does not list, is refused', async () => {
    const bundle = await withRelaxedFixture(fixture);
    const other = Uint8Array.from(bundle.relaxedWasm!);
    other[other.length - 1] ^= 1;
    await expect(loadModel({ ...bundle, relaxedWasm: other }, { variant: 'simd128' })).rejects.toThrow(
      'bundle file model.relaxed.wasm failed its sha256 check',
    );
    await expect(loadModel({ ...fixture, relaxedWasm: bundle.relaxedWasm })).rejects.toThrow(
      'a relaxed-SIMD module was passed in but the bundle manifest lists none',
    );
    const { 'model.relaxed.wasm': _, ...files } = bundle.manifest.files;
    await expect(loadModel({ ...bundle, manifest: { ...bundle.manifest, files } })).rejects.toThrow(
      'bundle manifest lists no sha256 for model.relaxed.wasm',
    );
    await expect(
      loadModel({
        ...bundle,
        manifest: { ...bundle.manifest, wasm: { ...bundle.manifest.wasm, relaxed: { file: '../x.wasm' } } },
      }),
    ).rejects.toThrow(/wasm.relaxed.file "..\/x.wasm" must be a plain .wasm file name/);
  });

  it('a relaxed module the engine rejects (corrupt but hash-consistent) falls back to model.wasm', async () => {
    // cut short: no engine compiles it, yet its sha256 in the manifest matches
    const mlp = new Uint8Array(await readFile('models/mlp.onnx'));
    const files = await compileModel(mlp, { shapes: { x: [1, 64] } });
    const relaxedWasm = files.relaxedWasm!.slice(0, files.relaxedWasm!.length - 9);
    const corrupt = {
      ...files,
      relaxedWasm,
      manifest: {
        ...files.manifest,
        files: { ...files.manifest.files, 'model.relaxed.wasm': await sha256Hex(relaxedWasm) },
      },
    };
    await writeBundle(join(dir, 'corrupt'), corrupt);
    const x = { x: randomTensor([1, 64], seededRandom(3)) };
    const theirs = await runOrt(mlp, x);
    const auto = await inChild(join(dir, 'corrupt'), 'auto', x, true);
    expect(auto).toMatchObject({ detected: true, variant: 'simd128' });
    expectClose(outputsOf(auto), theirs);
    const forced = await inChild(join(dir, 'corrupt'), 'relaxed', x, true);
    expect(forced).toMatchObject({ detected: true });
    expect('error' in forced && forced.error).toMatch(/model "mlp": model.relaxed.wasm failed to load: /);
  });

  it('in memory: relaxedWasm as bytes or as a compiled module; an imported module needs no detection', async () => {
    const bundle = await withRelaxedFixture(fixture);
    // bytes this engine cannot compile are skipped under auto
    expect((await loadModel(bundle)).variant).toBe('simd128');
    await expect(loadModel({ ...bundle, relaxedWasm: 'x' as unknown as Uint8Array })).rejects.toThrow(
      'loadModel: relaxedWasm must be a WebAssembly.Module or a Uint8Array of the model.relaxed.wasm bytes',
    );
    // a module already compiled (a Worker's import) proves the engine has the feature: here the plain
    // module stands in for it, as this engine cannot compile the relaxed one
    const module = await WebAssembly.compile(bundle.wasm as Uint8Array<ArrayBuffer>);
    const model = await loadModel({ ...bundle, wasm: module, relaxedWasm: module });
    expect(model.variant).toBe('relaxed');
    expect(numbers((await model.run(fixtureFeeds(X)))['out/y'])).toEqual(expectedY(X));
  });
});

/** The hand-built fixture plus its relaxed module (the fixture's x·w + bias loop vectorizes into FMA). */
async function withRelaxedFixture(fixture: BundleFiles): Promise<BundleFiles> {
  expect(programToWat(fixtureProgram, { relaxedSimd: true })).toContain('f32x4.relaxed_madd');
  expect(programToWat(fixtureProgram)).not.toContain('relaxed');
  const relaxedWasm = compileProgram(fixtureProgram, { optimize: true, relaxedSimd: true });
  return sealBundle({
    ...fixture,
    manifest: {
      ...fixture.manifest,
      wasm: { ...fixture.manifest.wasm, relaxed: { file: 'model.relaxed.wasm' } },
    },
    relaxedWasm,
  });
}
