/** Lambda's limits against a package (src/deploy/lambda-limits.ts), on synthetic manifests and zips. */
import { randomFillSync } from 'node:crypto';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import type { Manifest, TensorSignature } from '../../src/bundle/manifest.js';
import { checkLambdaLimits, LAMBDA_LIMITS } from '../../src/deploy/lambda-limits.js';
import { DeployError } from '../../src/deploy/types.js';

const MB = 2 ** 20;

function tensor(name: string, elements: number): TensorSignature {
  return { name, dtype: 'float32', shape: [1, elements], offset: 0, byteLength: elements * 4 };
}

function manifest(
  name: string,
  options: { memoryMb?: number; inputs?: number; outputs?: number } = {},
): Manifest {
  return {
    model: { name },
    memory: { totalBytes: (options.memoryMb ?? 1) * MB, weightsBytes: 0 },
    inputs: [tensor('x', options.inputs ?? 64)],
    outputs: [tensor('y', options.outputs ?? 10)],
  } as Manifest;
}

const smallZip = zipSync({ 'index.mjs': new Uint8Array(1000) });

function check(manifests: Manifest[], zip = smallZip, directUpload = false) {
  const warnings: string[] = [];
  const result = checkLambdaLimits(zip, manifests, directUpload, (w) => warnings.push(w));
  return { ...result, warnings };
}

describe('Lambda limits', () => {
  it('gives small models one vCPU of memory and plans their payloads', () => {
    const result = check([manifest('tiny')]);
    expect(result.memoryMb).toBe(1769);
    expect(result.unzippedBytes).toBe(1000);
    expect(result.warnings).toEqual([]);
    expect(result.plan).toContain(
      "model tiny: a request carries 256 B, a response 40 B of binary tensors (Lambda's payload limit: 6.0 MB each, base64-encoded)",
    );
  });

  it('sizes memory from the memory plans, and refuses more than 10,240 MB', () => {
    expect(check([manifest('a', { memoryMb: 3000 }), manifest('b', { memoryMb: 1000 })]).memoryMb).toBe(
      3000 + 1000 + 256,
    );
    expect(() => check([manifest('huge', { memoryMb: 10_000 })])).toThrow(
      new DeployError(
        "the bundles need about 10256.0 MB of memory, over Lambda's 10240 MB maximum: deploy fewer or smaller bundles, or use --target gpu",
      ),
    );
  });

  it('refuses a model whose binary request cannot fit in the 6 MB event, base64 included', () => {
    // 4.5 MB of float32 becomes 6 MB of base64
    const elements = (4.5 * MB) / 4;
    expect(() => check([manifest('wide', { inputs: elements })])).toThrow(
      "model wide: an inference request is 6.1 MB even as binary tensors (base64 in the Lambda event), over Lambda's 6.0 MB payload limit: use --target gpu",
    );
    expect(() => check([manifest('tall', { outputs: elements })])).toThrow(
      /^model tall: an inference response/,
    );
  });

  it('warns when JSON bodies may not fit but binary ones do', () => {
    const { warnings } = check([manifest('mid', { inputs: 1_000_000 })]);
    expect(warnings).toEqual([
      "model mid: a JSON inference request may reach 15.3 MB, over Lambda's 6.0 MB payload limit; use the binary tensor extension (Inference-Header-Content-Length), which needs 5.1 MB",
    ]);
  });

  it('refuses more than 250 MB unzipped, and more than 50 MB zipped only for a direct upload', () => {
    // zeros compress to almost nothing: the unzipped size is read from the zip's directory
    const unzippedTooLarge = zipSync({
      'models/a/weights.bin': new Uint8Array(LAMBDA_LIMITS.unzippedBytes + 1),
    });
    expect(() => check([manifest('a')], unzippedTooLarge)).toThrow(
      /^the Lambda package is 250\.0 MB unzipped, over Lambda's 250\.0 MB limit/,
    );
    // random bytes do not compress: stored, the zip is as large as they are
    const random = randomFillSync(new Uint8Array(51 * MB));
    const bigZip = zipSync({ 'models/a/weights.bin': random }, { level: 0 });
    expect(check([manifest('a')], bigZip, false).zipBytes).toBeGreaterThan(
      LAMBDA_LIMITS.directUploadZipBytes,
    );
    expect(() => check([manifest('a')], bigZip, true)).toThrow(
      /^the Lambda zip is 51\.0 MB, over the 50\.0 MB Lambda accepts uploaded directly \(--update-code\): deploy without --update-code, which uploads through S3$/,
    );
  });
});
