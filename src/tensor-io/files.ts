/** Tensor files by extension: .npy (NumPy) or .pb (ONNX TensorProto). For the CLI; uses node:fs. */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname } from 'node:path';
import type { HostTensor } from '../ir/tensor.js';
import { fileReader } from '../frontend/onnx/external.js';
import { readNpy, writeNpy } from './npy.js';
import { readTensorProto, writeTensorProto } from './tensorproto.js';
import { fileError } from '../text/file-error.js';

function kindOf(path: string): 'npy' | 'pb' {
  const ext = extname(path).toLowerCase();
  if (ext === '.npy') return 'npy';
  if (ext === '.pb') return 'pb';
  throw new Error(`tensor file ${JSON.stringify(path)}: unknown extension '${ext}', expected .npy or .pb`);
}

export function readTensorFile(path: string): HostTensor & { name?: string } {
  const kind = kindOf(path);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw fileError('cannot read tensor file', path, err);
  }
  try {
    return kind === 'npy'
      ? readNpy(bytes)
      : readTensorProto(bytes, { readExternal: fileReader(dirname(path)) });
  } catch (e) {
    throw new Error(`${JSON.stringify(path)}: ${(e as Error).message}`);
  }
}

/** Write `t`; a .pb file names the tensor after the file unless `t.name` is given. */
export function writeTensorFile(path: string, t: HostTensor & { name?: string }): void {
  const kind = kindOf(path);
  const bytes = kind === 'npy' ? writeNpy(t) : writeTensorProto(t, t.name ?? basename(path, extname(path)));
  try {
    writeFileSync(path, bytes);
  } catch (err) {
    throw fileError('cannot write tensor file', path, err);
  }
}
