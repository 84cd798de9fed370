/** Compare an actual tensor with an expected one the way ONNX's backend tests do (rtol/atol, NaN equal). */
import type { HostTensor } from '../src/ir/tensor.js';
import { halfToFloat } from '../src/ir/float16.js';

export function compareTensors(
  actual: HostTensor,
  expected: HostTensor,
  rtol: number,
  atol: number,
): string | undefined {
  if (actual.dtype !== expected.dtype) return `dtype ${actual.dtype}, expected ${expected.dtype}`;
  if (actual.dims.join(',') !== expected.dims.join(','))
    return `shape [${actual.dims.join(',')}], expected [${expected.dims.join(',')}]`;
  const a = actual.data;
  const e = expected.data;
  const float = actual.dtype.startsWith('float');
  for (let i = 0; i < e.length; i++) {
    let x = a[i] as number | bigint | string;
    let y = e[i] as number | bigint | string;
    if (actual.dtype === 'float16') {
      x = halfToFloat(x as number);
      y = halfToFloat(y as number);
    }
    if (float) {
      const xf = x as number;
      const yf = y as number;
      if (Number.isNaN(yf) && Number.isNaN(xf)) continue;
      if (xf === yf) continue;
      if (!(Math.abs(xf - yf) <= atol + rtol * Math.abs(yf))) return `element ${i} is ${xf}, expected ${yf}`;
    } else if (x !== y) return `element ${i} is ${x}, expected ${y}`;
  }
  return undefined;
}
