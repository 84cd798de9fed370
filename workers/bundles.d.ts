/** The module src/deploy/worker-build.ts generates: one in-memory source per bundle the Worker serves. */
declare module 'kiln:bundles' {
  const bundles: {
    name: string;
    manifest: string;
    wasm: WebAssembly.Module;
    /** model.relaxed.wasm, when the bundle has one */
    relaxedWasm?: WebAssembly.Module;
    /** tokenizer.json's text, for a text model */
    tokenizer?: string;
    /** a Data module, or where the Worker reads the weights on its first request */
    weights: import('./weights.js').BundleWeights;
  }[];
  export default bundles;
}
