/** One-input math: Abs Neg Sign Reciprocal, rounding, roots, exp/log, trigonometry, Erf, IsNaN, IsInf. */
import type { UnOp } from '../../kernels/ir.js';
import { bin, cmp, div, select, un } from '../../kernels/build.js';
import { OpError, attrInt, registerOp } from '../registry.js';
import { FLOATS, NUMERIC, SIGNED, elementwiseOp, isUnsigned } from './common.js';
import { absOf, k, negOf } from './scalar.js';

const FLOAT_UNARY: Record<string, UnOp> = {
  Floor: 'floor',
  Ceil: 'ceil',
  Round: 'nearest', // ONNX Round is round-half-to-even
  Sqrt: 'sqrt',
  Exp: 'exp',
  Log: 'log',
  Sin: 'sin',
  Cos: 'cos',
  Tan: 'tan',
  Asin: 'asin',
  Acos: 'acos',
  Atan: 'atan',
  Sinh: 'sinh',
  Cosh: 'cosh',
  Tanh: 'tanh',
  Asinh: 'asinh',
  Acosh: 'acosh',
  Atanh: 'atanh',
  Erf: 'erf',
};
for (const [op, unop] of Object.entries(FLOAT_UNARY))
  registerOp(op, elementwiseOp({ arity: 1, allowed: FLOATS, compute: (_, [a]) => un(unop, a) }));

registerOp(
  'Abs',
  elementwiseOp({ arity: 1, allowed: NUMERIC, compute: (_, [a], d) => absOf(a, isUnsigned(d)) }),
);
registerOp('Neg', elementwiseOp({ arity: 1, allowed: SIGNED, compute: (_, [a]) => negOf(a) }));
registerOp(
  'Reciprocal',
  elementwiseOp({ arity: 1, allowed: FLOATS, compute: (_, [a]) => div(k(a.t, 1), a) }),
);
registerOp(
  'Sign',
  elementwiseOp(
    {
      arity: 1,
      allowed: NUMERIC,
      // NaN fails both tests and falls through to itself, as numpy.sign(nan) = nan.
      compute: (_, [a], d) => {
        const zero = k(a.t, 0);
        if (isUnsigned(d)) return select(cmp('ne', a, zero), k(a.t, 1), zero);
        return select(
          cmp('gt', a, zero),
          k(a.t, 1),
          select(cmp('lt', a, zero), k(a.t, -1), select(cmp('eq', a, zero), zero, a)),
        );
      },
    },
    9,
  ),
);

const toBool = () => 'bool' as const;
registerOp(
  'IsNaN',
  elementwiseOp({ arity: 1, allowed: FLOATS, outDtype: toBool, compute: (_, [a]) => un('isnan', a) }, 9),
);
registerOp(
  'IsInf',
  elementwiseOp(
    {
      arity: 1,
      allowed: FLOATS,
      outDtype: toBool,
      check: (ctx) => {
        for (const name of ['detect_positive', 'detect_negative']) {
          const value = attrInt(ctx.node, name, 1);
          if (value !== 0 && value !== 1)
            throw new OpError(ctx.node, ctx.opset, `attribute ${name} must be 0 or 1, found ${value}`);
        }
      },
      compute: (ctx, [a]) => {
        const pos = attrInt(ctx.node, 'detect_positive', 1) === 1;
        const neg = attrInt(ctx.node, 'detect_negative', 1) === 1;
        if (pos && neg) return bin('or', un('isinf_pos', a), un('isinf_neg', a));
        if (pos) return un('isinf_pos', a);
        if (neg) return un('isinf_neg', a);
        return k('i32', 0);
      },
    },
    10,
  ),
);
