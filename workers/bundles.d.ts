/** The module src/deploy/worker-build.ts generates: one in-memory source per bundle the Worker serves. */
declare module 'kiln:bundles' {
  const bundles: { manifest: string; wasm: WebAssembly.Module; weights: ArrayBuffer }[];
  export default bundles;
}
