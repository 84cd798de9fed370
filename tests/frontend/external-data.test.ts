import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseOnnxModel } from '../../src/frontend/onnx/index.js';
import { encodeModel, reluModel, valueInfo } from '../helpers/onnx-builder.js';

/** `y = x + w` where w (float32 [2, 3]) lives in an external file. */
function addModel(location: string, offset?: number, length?: number): Uint8Array {
  const externalData = [{ key: 'location', value: location }];
  if (offset !== undefined) externalData.push({ key: 'offset', value: String(offset) });
  if (length !== undefined) externalData.push({ key: 'length', value: String(length) });
  return encodeModel(
    reluModel({
      input: [valueInfo({ name: 'x', dtype: 'float32', shape: [2, 3] })],
      initializer: [{ name: 'w', dims: [2, 3], dataType: 1, dataLocation: 1, externalData }],
      node: [{ opType: 'Add', input: ['x', 'w'], output: ['y'] }],
    }),
  );
}

describe('external tensor data', () => {
  const root = mkdtempSync(join(tmpdir(), 'kiln-external-'));
  const modelDir = join(root, 'model');
  mkdirSync(join(modelDir, 'weights'), { recursive: true });
  const values = Float32Array.of(1, 2, 3, 4, 5, 6);
  // 5 bytes of padding first, so the tensor is read from an unaligned offset.
  const file = new Uint8Array(5 + values.byteLength);
  file.set(new Uint8Array(values.buffer), 5);
  writeFileSync(join(modelDir, 'weights', 'w.bin'), file);
  writeFileSync(join(root, 'secret.bin'), file);
  symlinkSync(join(root, 'secret.bin'), join(modelDir, 'link.bin'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('reads an initializer from a file relative to baseDir, at an offset', () => {
    const g = parseOnnxModel(addModel('weights/w.bin', 5, 24), { baseDir: modelDir });
    expect(g.initializers.get('w')).toEqual({ dtype: 'float32', dims: [2, 3], data: values });
    expect(
      parseOnnxModel(addModel('weights/w.bin', 5), { baseDir: modelDir }).initializers.get('w')!.data,
    ).toEqual(values);
  });

  it('passes location, offset and length to a custom reader', () => {
    const calls: unknown[] = [];
    const g = parseOnnxModel(addModel('w.bin', 8, 24), {
      readExternal: (path, offset, length) => (calls.push([path, offset, length]), new Uint8Array(24)),
    });
    expect(calls).toEqual([['w.bin', 8, 24]]);
    expect(g.initializers.get('w')!.data).toEqual(new Float32Array(6));
  });

  it('refuses absolute paths and paths escaping baseDir, also for custom readers', () => {
    const never = () => {
      throw new Error('reader must not be called');
    };
    for (const loc of [
      '../secret.bin',
      'weights/../../secret.bin',
      '/etc/passwd',
      'C:\\x.bin',
      '..\\secret.bin',
    ]) {
      expect(() => parseOnnxModel(addModel(loc), { baseDir: modelDir })).toThrow(
        /^invalid ONNX model: initializer "w": external data location .* (escapes the model directory|is an absolute path)/,
      );
      expect(() => parseOnnxModel(addModel(loc), { readExternal: never })).toThrow(/escapes|absolute/);
    }
  });

  it('refuses a symlink that leads outside baseDir', () => {
    expect(() => parseOnnxModel(addModel('link.bin', 5), { baseDir: modelDir })).toThrow(
      /resolves outside the model directory/,
    );
  });

  it('reports missing files, short files, wrong lengths and a missing baseDir clearly', () => {
    expect(() => parseOnnxModel(addModel('nope.bin'), { baseDir: modelDir })).toThrow(
      /initializer "w": cannot read external data "nope.bin": ENOENT/,
    );
    expect(() => parseOnnxModel(addModel('weights/w.bin', 10), { baseDir: modelDir })).toThrow(
      /offset 10 \+ length 24 is past its end/,
    );
    expect(() => parseOnnxModel(addModel('weights/w.bin', 0, 12), { baseDir: modelDir })).toThrow(
      /external data length 12 does not match the 24 bytes/,
    );
    expect(() => parseOnnxModel(addModel('weights/w.bin', -1), { baseDir: modelDir })).toThrow(
      /offset "-1" is not a byte count/,
    );
    expect(() => parseOnnxModel(addModel('weights/w.bin'))).toThrow(
      /no model directory \(baseDir\) was given/,
    );
  });
});
