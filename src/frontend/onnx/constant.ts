/** Constant nodes become initializers: their value is known from the attributes alone. */
import type { AttrValue, Node } from '../../ir/graph.js';
import { tensorFromNumbers, type HostTensor } from '../../ir/tensor.js';
import { fail, invalid, q } from './errors.js';

const VALUE_ATTRS = [
  'value',
  'value_float',
  'value_floats',
  'value_int',
  'value_ints',
  'value_string',
  'value_strings',
];

export function constantValue(node: Node): HostTensor {
  const label = `Constant node ${q(node.name)}`;
  if (node.outputs.length !== 1 || node.outputs[0] === '')
    throw invalid(`${label} must have exactly one named output, found [${node.outputs.map(q).join(', ')}]`);
  if ('sparse_value' in node.attrs)
    throw fail(`${label}: attribute 'sparse_value' (sparse tensors) is not supported`);
  const given = VALUE_ATTRS.filter((a) => a in node.attrs);
  if (given.length !== 1)
    throw invalid(`${label} needs exactly one of ${VALUE_ATTRS.join(', ')}; found ${given.length}`);
  const key = given[0];
  const v: AttrValue = node.attrs[key];
  const wrong = () => invalid(`${label}: attribute '${key}' has the wrong type`);
  switch (key) {
    case 'value':
      if (typeof v !== 'object' || Array.isArray(v) || !('dtype' in v)) throw wrong();
      return v;
    case 'value_float':
      if (typeof v !== 'number') throw wrong();
      return tensorFromNumbers('float32', [], [v]);
    case 'value_int':
      if (typeof v !== 'number') throw wrong();
      return tensorFromNumbers('int64', [], [v]);
    case 'value_string':
      if (typeof v !== 'string') throw wrong();
      return { dtype: 'string', dims: [], data: [v] };
    case 'value_floats':
    case 'value_ints': {
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'number')) throw wrong();
      const nums = v as number[];
      return tensorFromNumbers(key === 'value_floats' ? 'float32' : 'int64', [nums.length], nums);
    }
    default: {
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw wrong();
      const strs = v as string[];
      return { dtype: 'string', dims: [strs.length], data: [...strs] };
    }
  }
}
