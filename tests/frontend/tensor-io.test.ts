import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TypedArray } from '../../src/ir/dtype.js';
import { tensorBytes, tensorFromNumbers, type HostTensor } from '../../src/ir/tensor.js';
import {
  readNpy,
  readTensorFile,
  readTensorProto,
  writeNpy,
  writeTensorFile,
  writeTensorProto,
} from '../../src/tensor-io/index.js';
import { onnx } from '../../src/frontend/onnx/proto.js';

const NODE = '/usr/include/onnx/backend/test/data/node';

function expectSameTensor(a: HostTensor, b: HostTensor): void {
  expect(a.dtype).toBe(b.dtype);
  expect(a.dims).toEqual(b.dims);
  if (a.dtype === 'string') expect(a.data).toEqual(b.data);
  else {
    expect((b.data as TypedArray).constructor).toBe((a.data as TypedArray).constructor);
    expect(Buffer.from(tensorBytes(a)).equals(Buffer.from(tensorBytes(b)))).toBe(true);
  }
}

describe('TensorProto files of the ONNX backend tests', () => {
  const dirs = existsSync(NODE) ? readdirSync(NODE).sort() : [];
  // ~50 tests spread over the alphabet, plus ones whose data uses uncommon element types.
  const picked = [
    ...dirs.filter((_, i) => i % 19 === 0),
    ...[
      'test_cast_FLOAT_to_FLOAT16',
      'test_cast_FLOAT_to_DOUBLE',
      'test_cast_FLOAT_to_STRING',
      'test_not_2d',
    ],
    ...[
      'test_dequantizelinear',
      'test_bitshift_right_uint64',
      'test_bitshift_left_uint16',
      'test_cumsum_1d_int32_exclusive',
    ],
  ].filter((d, i, all) => all.indexOf(d) === i && existsSync(`${NODE}/${d}/test_data_set_0`));
  const files = picked.flatMap((d) =>
    readdirSync(`${NODE}/${d}/test_data_set_0`)
      .filter((f) => f.endsWith('.pb'))
      .map((f) => `${d}/test_data_set_0/${f}`),
  );
  // Sequence/optional data is not a TensorProto; its bytes decode to something else, which must be refused.
  const readable = files.filter((f) => !/seq|opt|BFLOAT16/i.test(f));

  it('covers about fifty tests and several element types', () => {
    expect(new Set(readable.map((f) => f.split('/')[0])).size).toBeGreaterThanOrEqual(50);
    const dtypes = new Set(readable.map((f) => readTensorProto(readFileSync(`${NODE}/${f}`)).dtype));
    for (const d of ['float32', 'float16', 'float64', 'int64', 'int32', 'bool', 'string', 'uint64', 'uint8'])
      expect(dtypes).toContain(d);
  });

  it.each(readable)('%s round-trips through TensorProto and .npy bit-exactly', (file) => {
    const bytes = readFileSync(`${NODE}/${file}`);
    const t = readTensorProto(bytes);
    expect(t.name).toBe(onnx.TensorProto.decode(bytes).name || undefined);
    const again = readTensorProto(writeTensorProto(t, t.name ?? 'x'));
    expectSameTensor(t, again);
    expect(again.name).toBe(t.name ?? 'x');
    if (t.dtype !== 'string') expectSameTensor(t, readNpy(writeNpy(t)));
  });
});

// Written by NumPy 2.4 (np.save / np.lib.format.write_array), base64.
const NUMPY = {
  f4: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAACAPgAAAD8AAEA/AACAPwAAoD8=',
  b1: 'k05VTVBZAQB2AHsnZGVzY3InOiAnfGIxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAAE=',
  f2: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGYyJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAPgDA',
  i8scalar:
    'k05VTVBZAQB2AHsnZGVzY3InOiAnPGk4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKCksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAr5/////////w==',
  u1v2: 'k05VTVBZAgB0AAAAeydkZXNjcic6ICd8dTEnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwgMiksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAgME',
  i4v3: 'k05VTVBZAwB0AAAAeydkZXNjcic6ICc8aTQnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMSwpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoFAAAA',
  bigEndian:
    'k05VTVBZAQB2AHsnZGVzY3InOiAnPmk0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDEsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAB',
  fortran:
    'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBUcnVlLCAnc2hhcGUnOiAoMiwgMyksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
  unicode:
    'k05VTVBZAQB2AHsnZGVzY3InOiAnPFUyJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDEsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAphAAAAYgAAAA==',
};
const numpy = (k: keyof typeof NUMPY) => new Uint8Array(Buffer.from(NUMPY[k], 'base64'));

describe('.npy', () => {
  it('reads files written by NumPy, versions 1.0, 2.0 and 3.0', () => {
    expect(readNpy(numpy('f4'))).toEqual({
      dtype: 'float32',
      dims: [2, 3],
      data: Float32Array.of(0, 0.25, 0.5, 0.75, 1, 1.25),
    });
    expect(readNpy(numpy('b1'))).toEqual({ dtype: 'bool', dims: [3], data: Uint8Array.of(1, 0, 1) });
    expect(readNpy(numpy('f2'))).toEqual({
      dtype: 'float16',
      dims: [2],
      data: Uint16Array.of(0x3e00, 0xc000),
    });
    expect(readNpy(numpy('i8scalar'))).toEqual({ dtype: 'int64', dims: [], data: BigInt64Array.of(-7n) });
    expect(readNpy(numpy('u1v2'))).toEqual({ dtype: 'uint8', dims: [2, 2], data: Uint8Array.of(1, 2, 3, 4) });
    expect(readNpy(numpy('i4v3'))).toEqual({ dtype: 'int32', dims: [1], data: Int32Array.of(5) });
  });

  it('writes exactly what NumPy writes', () => {
    for (const k of ['f4', 'b1', 'f2', 'i8scalar'] as const)
      expect(writeNpy(readNpy(numpy(k)))).toEqual(numpy(k));
  });

  it('refuses big-endian, Fortran-order, unsupported dtypes and inconsistent sizes clearly', () => {
    expect(() => readNpy(numpy('bigEndian'))).toThrow(/'>i4' is big-endian/);
    expect(() => readNpy(numpy('fortran'))).toThrow(/Fortran/);
    expect(() => readNpy(numpy('unicode'))).toThrow(/unsupported \.npy dtype '<U2'/);
    expect(() => readNpy(numpy('f4').subarray(0, 140))).toThrow(/needs 24 data bytes, the file has 12/);
    expect(() => readNpy(new Uint8Array(20))).toThrow(/bad magic/);
    expect(() => writeNpy({ dtype: 'string', dims: [1], data: ['a'] })).toThrow(/string/);
  });

  it('refuses a malformed header and an absurd shape before allocating', () => {
    const withHeader = (h: string) => {
      const head = new TextEncoder().encode(h);
      const out = new Uint8Array(10 + head.length);
      out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, head.length & 0xff, head.length >> 8]);
      out.set(head, 10);
      return out;
    };
    expect(() => readNpy(withHeader("{'descr': '<f4', 'shape': (2,), }"))).toThrow(/fortran_order/);
    expect(() => readNpy(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2,"))).toThrow(
      /invalid \.npy header/,
    );
    expect(() =>
      readNpy(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000), }")),
    ).toThrow(/larger than/);
  });
});

describe('tensor files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-tensor-io-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('chooses the format by extension', () => {
    const t = tensorFromNumbers('int64', [2, 2], [1, -2, 3, 2 ** 40]);
    writeTensorFile(join(dir, 'a.npy'), t);
    writeTensorFile(join(dir, 'b.pb'), t);
    expectSameTensor(t, readTensorFile(join(dir, 'a.npy')));
    const pb = readTensorFile(join(dir, 'b.pb'));
    expectSameTensor(t, pb);
    expect(pb.name).toBe('b');
    expect(readNpy(readFileSync(join(dir, 'a.npy')))).toEqual(t);
    expect(() => writeTensorFile(join(dir, 'c.bin'), t)).toThrow(
      /unknown extension '\.bin', expected \.npy or \.pb/,
    );
  });

  it('writes string tensors as TensorProto', () => {
    const t: HostTensor = { dtype: 'string', dims: [2], data: ['héllo', ''] };
    expectSameTensor(t, readTensorProto(writeTensorProto(t, 's')));
  });

  it('reports a broken TensorProto as such', () => {
    expect(() => readTensorProto(Uint8Array.of(0x0a, 0xff))).toThrow(/^invalid TensorProto: /);
    const tooShort = onnx.TensorProto.encode({ dims: [4], dataType: 1, rawData: new Uint8Array(8) }).finish();
    expect(() => readTensorProto(tooShort)).toThrow(/^invalid TensorProto: .*need 16 bytes of data, found 8/);
  });
});
