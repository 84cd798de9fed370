/** The bundle format (DESIGN.md §3.1), Node-free. Directory I/O for Node lives in ./node.js. */
export * from './manifest.js';
export * from './files.js';
export { sha256Hex } from './hash.js';
export { verifyBundle, checkManifestShape } from './verify.js';
export { readBundle, type BundleFileReader, type ReadOptions } from './read.js';
export { packWeights, sealBundle, alignUp } from './seal.js';
