/**
 * A bundle's weights inside the Worker: a Data module as it is, or an object of an R2 bucket binding
 * read on the first request (weights too large for the script). loadModel then checks them against
 * the manifest's sha256, so a wrong or tampered object is refused, never run.
 */

/** The part of the Workers R2 bucket binding this reads. */
interface R2BucketBinding {
  get(key: string): Promise<{ arrayBuffer(): Promise<ArrayBuffer> } | null>;
}

export type BundleWeights = ArrayBuffer | { r2Binding: string; key: string };

export async function readWeights(
  model: string,
  weights: BundleWeights,
  env: Record<string, unknown>,
): Promise<ArrayBuffer> {
  if (weights instanceof ArrayBuffer) return weights;
  const { r2Binding, key } = weights;
  const bucket = env[r2Binding] as R2BucketBinding | undefined;
  if (typeof bucket?.get !== 'function')
    throw new Error(
      `model "${model}": its weights are in R2, but the Worker has no R2 bucket binding ${r2Binding}; add it to wrangler.toml ([[r2_buckets]] binding = "${r2Binding}")`,
    );
  const object = await bucket.get(key);
  if (object === null)
    throw new Error(
      `model "${model}": the R2 object "${key}" is missing from the bucket bound as ${r2Binding}; upload it with \`wrangler r2 object put BUCKET/${key} --file weights.bin --remote\` (kiln deploy does)`,
    );
  return object.arrayBuffer();
}
