/**
 * ONNX conformance: every ONNX 1.12 node test (libonnx-testdata) and the light CNNs in
 * ../shared/data/onnx-light go through compile + run, compared with the expected outputs.
 *
 *   npm run conformance -- [--filter REGEX] [--backend wasm|webgpu] [--json FILE] [--check-baseline] [--update-baseline] [--verbose]
 *
 * `--backend webgpu` compiles with the webgpu target too and runs on Dawn (the CLI's GPU entry point);
 * a model the WGSL generator refuses counts as unsupported. Each backend has its own baseline
 * (conformance/baseline.json, baseline-webgpu.json); --check-baseline fails when passes fall below it
 * or when any case fails (a wrong answer, where a refusal is the most a case may get).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { compileModel } from '../src/compiler/compile.js';
import { loadModel } from '../src/runtime/index.js';
import type { Feed } from '../src/runtime/types.js';
import { readTensorProto } from '../src/tensor-io/index.js';
import { parseOnnxModel } from '../src/frontend/onnx/index.js';
import type { HostTensor } from '../src/ir/tensor.js';
import { nodeGpu } from '../src/cli/gpu.js';
import { compareTensors } from './compare.js';

const NODE_DIR = '/usr/include/onnx/backend/test/data/node';
const LIGHT_DIR = resolve(import.meta.dirname, '../../shared/data/onnx-light');

type Status = 'pass' | 'fail' | 'unsupported';
interface CaseResult {
  suite: 'node' | 'light';
  name: string;
  op: string;
  status: Status;
  message?: string;
  ms: number;
}

const { values: args } = parseArgs({
  options: {
    filter: { type: 'string' },
    backend: { type: 'string', default: 'wasm' },
    json: { type: 'string', default: '.conformance/report.json' },
    'check-baseline': { type: 'boolean', default: false },
    'update-baseline': { type: 'boolean', default: false },
    'skip-light': { type: 'boolean', default: false },
    verbose: { type: 'boolean', short: 'v', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log(
    'usage: npm run conformance -- [--filter REGEX] [--backend wasm|webgpu] [--json FILE] [--check-baseline] [--update-baseline] [--skip-light] [--verbose]',
  );
  process.exit(0);
}
if (args.backend !== 'wasm' && args.backend !== 'webgpu') {
  console.error(`conformance: --backend must be wasm or webgpu, got "${args.backend}"`);
  process.exit(2);
}
const backend = args.backend;
const BASELINE = resolve(
  import.meta.dirname,
  `../conformance/${backend === 'webgpu' ? 'baseline-webgpu.json' : 'baseline.json'}`,
);
const gpu = backend === 'webgpu' ? await nodeGpu() : undefined;
const targets: ('wasm' | 'webgpu')[] = backend === 'webgpu' ? ['wasm', 'webgpu'] : ['wasm'];
const filter = args.filter ? new RegExp(args.filter) : undefined;

/** Unsupported = the compiler refused with a clear message; anything else that goes wrong is a failure. */
function classify(e: unknown): { status: Status; message: string } {
  const message = e instanceof Error ? e.message : String(e);
  const unsupported = /unsupported|not supported|not built yet|known at compile time/i.test(message);
  return { status: unsupported ? 'unsupported' : 'fail', message: message.split('\n')[0] };
}

/**
 * Ops whose inputs Kiln reads at run time (#11): a compile that asks for one of their inputs at compile
 * time is a failure, not a refusal.
 */
const RUN_TIME_INPUT_OPS = new Set([
  'Trilu',
  'Reshape',
  'Split',
  'ConstantOfShape',
  'HannWindow',
  'HammingWindow',
  'BlackmanWindow',
  'Unsqueeze',
  'Squeeze',
  'Slice',
  'Resize',
  'OneHot',
  'Expand',
  'Tile',
  'Range',
  'Pad',
  'Upsample',
  'ReduceSum',
  'Compress',
  'MaxUnpool',
  'If',
  'Loop',
  'MelWeightMatrix',
  'STFT',
]);

const COMPILE_TIME_INPUT = /\(input \d+, "([^"]*)"\) must be known at compile time/;

/** A compile error: a failure where an op that reads its inputs at run time asks for one at compile time. */
function classifyCompile(e: unknown): { status: Status; message: string } {
  const message = (e instanceof Error ? e.message : String(e)).split('\n')[0];
  const op = /^(\w+) node "/.exec(message)?.[1] ?? '';
  if (
    COMPILE_TIME_INPUT.test(message) &&
    RUN_TIME_INPUT_OPS.has(op) &&
    !/is computed at run time/.test(message)
  )
    return { status: 'fail', message: `${message} (the op reads it at run time)` };
  return classify(e);
}

/** Compile and run one model per data set, its inputs fed at run time. */
async function runCase(
  modelPath: string,
  dataSets: { inputs: HostTensor[]; outputs: HostTensor[] }[],
  rtol: number,
  atol: number,
): Promise<{ status: Status; message?: string }> {
  const bytes = readFileSync(modelPath);
  let inputNames: string[];
  try {
    inputNames = parseOnnxModel(bytes, { baseDir: join(modelPath, '..') }).inputs.map((i) => i.name);
  } catch (e) {
    return classify(e);
  }
  for (const ds of dataSets) {
    const given = new Map(inputNames.map((n, i) => [n, ds.inputs[i]]));
    let files;
    try {
      files = await compileModel(bytes, { baseDir: join(modelPath, '..'), targets });
    } catch (e) {
      return classifyCompile(e);
    }
    let model;
    try {
      model = await loadModel(files, { backend, gpu });
    } catch (e) {
      const message = e instanceof Error ? e.message.split('\n')[0] : String(e);
      // a model larger than this adapter's biggest storage buffer is refused with the numbers: this
      // device cannot hold it. Anything else (e.g. a WGSL module Dawn rejects) means broken output.
      return { status: /but this adapter's max/.test(message) ? 'unsupported' : 'fail', message };
    }
    try {
      const feeds: Record<string, Feed> = {};
      for (const sig of model.inputs) feeds[sig.name] = given.get(sig.name) as Feed;
      const out = await model.run(feeds);
      for (let i = 0; i < model.outputs.length; i++) {
        const name = model.outputs[i].name;
        const problem = compareTensors(out[name] as HostTensor, ds.outputs[i], rtol, atol);
        if (problem) return { status: 'fail', message: `output "${name}": ${problem}` };
      }
    } catch (e) {
      return { status: 'fail', message: e instanceof Error ? e.message.split('\n')[0] : String(e) };
    } finally {
      model.dispose();
    }
  }
  return { status: 'pass' };
}

function readDataSets(dir: string) {
  return readdirSync(dir)
    .filter((d) => d.startsWith('test_data_set_'))
    .sort()
    .map((d) => {
      const files = readdirSync(join(dir, d));
      const read = (prefix: string) =>
        files
          .filter((f) => f.startsWith(prefix) && f.endsWith('.pb'))
          .sort((a, b) => Number(a.match(/\d+/)![0]) - Number(b.match(/\d+/)![0]))
          .map((f) => readTensorProto(readFileSync(join(dir, d, f))) as HostTensor);
      return { inputs: read('input_'), outputs: read('output_') };
    });
}

function opOf(modelPath: string, testName: string): string {
  try {
    const g = parseOnnxModel(readFileSync(modelPath));
    const ops = [...new Set(g.nodes.map((n) => n.op))];
    return testName.endsWith('_expanded')
      ? `${ops.length === 1 ? ops[0] : 'expanded'}*`
      : (ops[0] ?? '(none)');
  } catch {
    return '(unparseable)';
  }
}

function lightInput(modelPath: string): HostTensor {
  const g = parseOnnxModel(readFileSync(modelPath));
  const consts = new Set(g.initializers.keys());
  const input = g.inputs.find((i) => !consts.has(i.name))!;
  const dims = input.shape.map(Number);
  const n = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = i / n;
  return { dtype: 'float32', dims, data };
}

async function main() {
  const results: CaseResult[] = [];
  const cases: { suite: 'node' | 'light'; name: string; run: () => Promise<CaseResult> }[] = [];
  if (existsSync(NODE_DIR)) {
    for (const name of readdirSync(NODE_DIR).sort()) {
      const dir = join(NODE_DIR, name);
      const modelPath = join(dir, 'model.onnx');
      if (!existsSync(modelPath)) continue;
      cases.push({
        suite: 'node',
        name,
        run: async () => {
          const t0 = performance.now();
          let data;
          try {
            data = readDataSets(dir);
          } catch (e) {
            // sequence and optional test data (SequenceProto, OptionalProto) are not tensors
            const message = `test data is not a tensor: ${e instanceof Error ? e.message : e}`;
            return { suite: 'node', name, op: opOf(modelPath, name), status: 'unsupported', message, ms: 0 };
          }
          const r = await runCase(modelPath, data, 1e-3, 1e-7);
          return { suite: 'node', name, op: opOf(modelPath, name), ...r, ms: performance.now() - t0 };
        },
      });
    }
  } else console.error(`warning: ${NODE_DIR} not found (apt-get install libonnx-testdata)`);
  if (!args['skip-light'] && !existsSync(LIGHT_DIR)) console.error(`warning: ${LIGHT_DIR} not found`);
  if (!args['skip-light'] && existsSync(LIGHT_DIR)) {
    for (const file of readdirSync(LIGHT_DIR)
      .filter((f) => f.endsWith('.onnx'))
      .sort()) {
      const name = file.replace(/\.onnx$/, '');
      const modelPath = join(LIGHT_DIR, file);
      cases.push({
        suite: 'light',
        name,
        run: async () => {
          const t0 = performance.now();
          const expected = readTensorProto(
            readFileSync(join(LIGHT_DIR, `${name}_output_0.pb`)),
          ) as HostTensor;
          const rtol = name.includes('densenet') ? 2e-3 : 1e-3;
          const r = await runCase(
            modelPath,
            [{ inputs: [lightInput(modelPath)], outputs: [expected] }],
            rtol,
            1e-7,
          );
          return { suite: 'light', name, op: 'model', ...r, ms: performance.now() - t0 };
        },
      });
    }
  }
  const selected = cases.filter((c) => !filter || filter.test(c.name));
  const tty = process.stderr.isTTY;
  for (const [i, c] of selected.entries()) {
    if (tty) process.stderr.write(`\r[${i + 1}/${selected.length}] ${c.name}`.padEnd(80));
    const r = await c.run();
    results.push(r);
    if (args.verbose && r.status !== 'pass') console.log(`${r.status.toUpperCase()} ${r.name}: ${r.message}`);
  }
  if (tty) process.stderr.write('\r'.padEnd(81) + '\r');
  report(results);
}

function report(results: CaseResult[]) {
  const byOp = new Map<string, Record<Status, number>>();
  for (const r of results) {
    const row = byOp.get(r.op) ?? { pass: 0, fail: 0, unsupported: 0 };
    row[r.status]++;
    byOp.set(r.op, row);
  }
  console.log(`${'op'.padEnd(34)} ${'pass'.padStart(5)} ${'fail'.padStart(5)} ${'unsup'.padStart(5)}`);
  for (const [op, row] of [...byOp].sort(([a], [b]) => a.localeCompare(b)))
    console.log(
      `${op.padEnd(34)} ${String(row.pass).padStart(5)} ${String(row.fail).padStart(5)} ${String(row.unsupported).padStart(5)}`,
    );
  const totals = (suite: string) => {
    const rs = results.filter((r) => r.suite === suite);
    return {
      total: rs.length,
      pass: rs.filter((r) => r.status === 'pass').length,
      fail: rs.filter((r) => r.status === 'fail').length,
      unsupported: rs.filter((r) => r.status === 'unsupported').length,
    };
  };
  const summary = { node: totals('node'), light: totals('light') };
  for (const [suite, t] of Object.entries(summary))
    console.log(`${suite}: ${t.pass} passed, ${t.fail} failed, ${t.unsupported} unsupported (of ${t.total})`);
  console.log('every input fed at run time (no --const)');
  for (const r of results.filter((r) => r.suite === 'light'))
    console.log(`  ${r.name}: ${r.status}${r.message ? ` — ${r.message}` : ''} (${r.ms.toFixed(0)} ms)`);
  if (args.json) {
    mkdirSync(join(args.json, '..'), { recursive: true });
    writeFileSync(args.json, JSON.stringify({ summary, results }, null, 1));
  }
  if (args['update-baseline']) {
    writeFileSync(
      BASELINE,
      JSON.stringify({ node: summary.node.pass, light: summary.light.pass }, null, 2) + '\n',
    );
    console.log(`baseline written to ${BASELINE}`);
  }
  if (args['check-baseline']) {
    const base = JSON.parse(readFileSync(BASELINE, 'utf8')) as { node: number; light: number };
    const drops = (['node', 'light'] as const).filter((s) => summary[s].pass < base[s]);
    const failed = results.filter((r) => r.status === 'fail');
    if (drops.length || failed.length) {
      for (const s of drops)
        console.error(`conformance: ${s} passes fell to ${summary[s].pass}, baseline is ${base[s]}`);
      for (const r of failed) console.error(`conformance: ${r.name} failed: ${r.message}`);
      process.exit(1);
    }
    console.log(`conformance: at or above baseline (node ${base.node}, light ${base.light})`);
  }
}

await main();
