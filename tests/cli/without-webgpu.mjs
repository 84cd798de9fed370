// `node --import ./tests/cli/without-webgpu.mjs ...`: the process resolves the `webgpu` package the way
// Node does when it is not installed, so the CLI's install hint can be tested in a tree that has it.
import { register } from 'node:module';

const hooks = `
export async function resolve(specifier, context, next) {
  if (specifier !== 'webgpu') return next(specifier, context);
  const err = new Error("Cannot find package 'webgpu' imported from " + context.parentURL);
  err.code = 'ERR_MODULE_NOT_FOUND';
  throw err;
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
