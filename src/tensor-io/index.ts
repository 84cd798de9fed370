export { readNpy, writeNpy } from './npy.js';
export { readTensorProto, writeTensorProto, type ReadTensorProtoOptions } from './tensorproto.js';
export { readTensorFile, writeTensorFile } from './files.js';
