/**
 * Names from a model or a request never reach a terminal or a log raw: a node name, op type, dim or
 * input name holding ESC sequences or a carriage return is printed with its control characters escaped.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printable, printableJson } from '../../src/text/printable.js';
import { compileModel } from '../../src/compiler/compile.js';
import { deferredLineLogger, type RequestLog } from '../../src/serve/log.js';
import { buildModel } from '../helpers/onnx-builder.js';
import { runKiln } from '../helpers/cli-main.js';
import { curlExample } from '../../src/cli/commands/serve.js';
import { loadModel } from '../../src/runtime/index.js';
import { execFile } from 'node:child_process';

const CLEAR = '\x1b[2J';
const FAKE = '\rkiln: compiled OK';
/** any C0 control but the newline that ends each line, DEL, or C1 */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-printable-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('printable', () => {
  it('escapes C0, DEL and C1 and keeps other Unicode', () => {
    expect(printable(`a${CLEAR}b\r\n\t\u0000\u007f\u009b`)).toBe('a\\x1b[2Jb\\r\\n\\t\\x00\\x7f\\x9b');
    expect(printable('Größe ✓ 名前 🙂')).toBe('Größe ✓ 名前 🙂');
  });

  it('printableJson leaves no raw control character and parses back to the same value', () => {
    const value = { name: `x${CLEAR}\u009b2J\u007f`, n: 1 };
    const line = printableJson(value);
    expect(line).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(line)).toEqual(value);
  });
});

describe('names from a model', () => {
  it('kiln compile: an unsupported op whose type and node name hold ESC and CR is reported escaped', async () => {
    const model = join(dir, 'hostile-op.onnx');
    await writeFile(
      model,
      buildModel({
        inputs: [{ name: 'x', dtype: 'float32', shape: [2] }],
        outputs: [{ name: 'y', dtype: 'float32', shape: [2] }],
        nodes: [{ op: `Nope${FAKE}`, name: `n${CLEAR}`, inputs: ['x'], outputs: ['y'] }],
      }),
    );
    const r = await runKiln(['compile', model, '-o', join(dir, 'never')]);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(RAW_CONTROL);
    expect(r.stderr).toContain('Nope\\rkiln: compiled OK');
    expect(r.stderr).toContain('n\\x1b[2J');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('compileModel: a bad attribute on such a node throws an escaped message', async () => {
    const bytes = buildModel({
      inputs: [
        { name: 'x', dtype: 'float32', shape: [3, 4] },
        { name: 'i', dtype: 'int64', shape: [2] },
      ],
      outputs: [{ name: 'y', dtype: 'float32' }],
      nodes: [
        {
          op: 'Gather',
          name: `g${CLEAR}${FAKE}`,
          inputs: ['x', 'i'],
          outputs: ['y'],
          attrs: { axis: { s: 'one' } },
        },
      ],
    });
    const message = ((await compileModel(bytes, { relaxed: false }).catch((e) => e)) as Error).message;
    expect(message).toContain(`Gather node "g\\x1b[2J\\rkiln: compiled OK": attribute 'axis'`);
    expect(message).not.toMatch(RAW_CONTROL);
  });

  it('compile warnings, compile output and kiln inspect escape input, dim and node names', async () => {
    const input = `x${CLEAR}`;
    const model = join(dir, 'hostile-names.onnx');
    await writeFile(
      model,
      buildModel({
        inputs: [{ name: input, dtype: 'float32', shape: [`n${FAKE}`, 2] }],
        outputs: [{ name: `y\u009b2J`, dtype: 'float32', shape: [`n${FAKE}`, 2] }],
        nodes: [{ op: 'Relu', name: `r${CLEAR}`, inputs: [input], outputs: [`y\u009b2J`] }],
      }),
    );
    const out = join(dir, 'hostile-names');
    const compiled = await runKiln(['compile', model, '-o', out, '--no-relaxed']);
    expect(compiled.code).toBe(0);
    expect(compiled.stderr).toContain('n\\rkiln: compiled OK'); // the symbolic dim defaulted to 1
    expect(compiled.stderr + compiled.stdout).not.toMatch(RAW_CONTROL);

    const inspected = await runKiln(['inspect', out]);
    expect(inspected.code).toBe(0);
    expect(inspected.stdout).toContain('x\\x1b[2J: float32[1,2]');
    expect(inspected.stdout).toContain('y\\x9b2J: float32[1,2]');
    expect(inspected.stdout).not.toMatch(RAW_CONTROL);

    const json = await runKiln(['inspect', out, '--json']);
    expect(json.stdout).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(json.stdout).outputs[0].name).toBe('y\u009b2J');
  });
});

describe('the curl example kiln serve prints', () => {
  it('quotes input and model names holding single quotes as one shell word each', async () => {
    const input = `x'; echo injected; '`;
    const bytes = buildModel({
      name: `m'1`,
      inputs: [{ name: input, dtype: 'float32', shape: [2] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [2] }],
      nodes: [{ op: 'Relu', inputs: [input], outputs: ['y'] }],
    });
    const model = await loadModel(await compileModel(bytes, { relaxed: false, name: `m'1` }), {
      backend: 'wasm',
    });
    const command = curlExample('http://127.0.0.1:1', model, false);
    model.dispose();
    // the part that writes the request body, run by bash as a user would paste it
    const [writeRequest] = command.split(' | curl ');
    const body = await new Promise<string>((resolve, reject) =>
      execFile('bash', ['-c', writeRequest], (err, out) => (err ? reject(err) : resolve(out))),
    );
    expect(JSON.parse(body).inputs[0].name).toBe(input);
    expect(command).toContain(`'http://127.0.0.1:1/v2/models/m'\\''1/infer'`);
  });
});

describe('request data in serve logs', () => {
  it('a log line quoting a hostile path and input name holds no raw control character', () => {
    let written = '';
    const log = deferredLineLogger(
      (lines) => (written += lines),
      (flush) => flush(),
    );
    const entry: RequestLog = {
      time: 't',
      request_id: '1',
      method: 'POST',
      path: `/v2/models/m\u009b2J/infer`,
      status: 400,
      duration_ms: 1,
      error: `input "${CLEAR}\u007f" is not an input of the model`,
    };
    log(entry);
    expect(written).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(written)).toEqual(entry);
  });
});
