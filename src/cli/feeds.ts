/** Feeds for `run` and `bench`: `--input NAME=FILE` files, and pseudo-random data for the rest when asked. */
import { readTensorFile } from '../tensor-io/index.js';
import { formatShape } from '../bundle/shape-dims.js';
import type { Feed, Model } from '../runtime/index.js';
import { splitAssignment } from './args.js';
import { UsageError } from './errors.js';
import { feedFromHostTensor, randomFeed } from './tensors.js';

export function feedsFromArgs(
  model: Model,
  inputArgs: string[],
  usage: string,
  fill: 'random' | 'none',
): Record<string, Feed> {
  const feeds: Record<string, Feed> = {};
  for (const arg of inputArgs) {
    const [name, file] = splitAssignment('--input', arg, usage);
    if (!model.inputs.some((i) => i.name === name))
      throw new UsageError(
        `--input ${arg}: the model has no input "${name}" (inputs: ${model.inputs.map((i) => i.name).join(', ')})`,
        usage,
      );
    feeds[name] = feedFromHostTensor(name, file, readTensorFile(file));
  }
  model.inputs.forEach((info, i) => {
    if (feeds[info.name]) return;
    if (fill === 'random') feeds[info.name] = randomFeed(info, 1 + i, model.manifest);
    else
      throw new UsageError(
        `missing --input ${info.name}=FILE (${info.dtype}${formatShape(info.shape)})`,
        usage,
      );
  });
  return feeds;
}
