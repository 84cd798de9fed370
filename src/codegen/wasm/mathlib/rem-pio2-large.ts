/**
 * Payne–Hanek argument reduction for sin/cos/tan of huge arguments (|x| ≥ 2^20·π/2): x·2/π is computed
 * exactly enough from a 192-bit window of the bits of 2/π chosen by x's exponent, with 32-bit limbs in i64
 * arithmetic. The bits of 2/π and π/2 are computed here with BigInt (Machin's formula), not typed in.
 */
import { defineMath } from './wat.js';

/** floor(π · 2^bits) */
function piFixed(bits: number): bigint {
  const guard = 64n;
  const one = 1n << (BigInt(bits) + guard);
  const atanInv = (x: bigint): bigint => {
    let sum = 0n;
    let power = one / x;
    for (let k = 1n, sign = 1n; power !== 0n; k += 2n, sign = -sign, power /= x * x)
      sum += (sign * power) / k;
    return sum;
  };
  return (16n * atanInv(5n) - 4n * atanInv(239n)) >> guard;
}

/** Leading zero bits before 2/π's first bit in the table, so windows for |x| ≥ 2^-32·… start inside it. */
const PAD = 64;
const TABLE_BITS = 1344;
const PI = piFixed(TABLE_BITS + 64);
/** 2/π · 2^(TABLE_BITS - PAD): table bit t (from the top) is bit t + 1 - PAD of 2/π's binary expansion */
const TWO_OVER_PI = (1n << BigInt(2 * TABLE_BITS + 64 - PAD + 1)) / PI;
const WORDS = Array.from({ length: TABLE_BITS / 32 }, (_, w) =>
  Number((TWO_OVER_PI >> BigInt(TABLE_BITS - 32 * (w + 1))) & 0xffffffffn),
);

/** π/2 in three 26-bit pieces, so products with 26-bit pieces of the fraction are exact in f64. */
const PIO2_PIECES = [0, 1, 2].map((i) => {
  const bits = 25 + 26 * i; // piece i is floor(π/2 · 2^bits) mod 2^26
  const piece = (PI >> BigInt(TABLE_BITS + 64 + 1 - bits)) & ((1n << 26n) - 1n);
  return Number(piece) * 2 ** -bits;
});

// word(w) of the table via a jump table (wasm has no constant arrays outside linear memory, which is the planner's)
defineMath(
  'two_over_pi_word',
  `(func $two_over_pi_word (param $w i32) (result i64)
    ${WORDS.map((_, i) => `(block $w${WORDS.length - 1 - i}`).join(' ')}
    (br_table ${WORDS.map((_, i) => `$w${i}`).join(' ')} %w)
    ${WORDS.map((word, i) => `) (return (i64.const ${word}))`).join('\n')}
  )`,
);

const limbs = [0, 1, 2, 3, 4, 5];
/** column c of the product m × window: 32-bit pieces of l_j·ml and l_j·mh landing in it, plus the carry */
const column = (c: number): string => {
  const terms = ['%carry'];
  const l = (j: number) => `%l${j}`;
  if (c <= 5) terms.push(`(i64.and (i64.mul ${l(c)} %ml) I:0xffffffff)`);
  if (c >= 1 && c - 1 <= 5)
    terms.push(
      `(i64.shr_u (i64.mul ${l(c - 1)} %ml) I:32)`,
      `(i64.and (i64.mul ${l(c - 1)} %mh) I:0xffffffff)`,
    );
  if (c >= 2 && c - 2 <= 5) terms.push(`(i64.shr_u (i64.mul ${l(c - 2)} %mh) I:32)`);
  const sum = terms.reduce((a, b) => `(i64.add ${a} ${b})`);
  return `(local.set $sum ${sum}) (local.set $r${c} (i64.and %sum I:0xffffffff)) (local.set $carry (i64.shr_u %sum I:32))`;
};

defineMath(
  'rem_pio2_large',
  `(func $rem_pio2_large (param $x f64) (result i32)
    (local $bits i64) (local $e i32) (local $t0 i32) (local $pos i32) (local $n i32) (local $lz i64) (local $scale f64)
    (local $ml i64) (local $mh i64) (local $sum i64) (local $carry i64)
    ${limbs.map((j) => `(local $l${j} i64)`).join(' ')} ${[0, 1, 2, 3, 4, 5, 6, 7].map((c) => `(local $r${c} i64)`).join(' ')}
    (local $a1 i64) (local $a2 i64) (local $a3 i64) (local $neg i32)
    (local $c1 f64) (local $c2 f64) (local $c3 f64) (local $s f64) (local $t f64) (local $y0 f64)
    (local.set $bits (i64.reinterpret_f64 (f64.abs %x)))
    (local.set $e (i32.sub (i32.wrap_i64 (i64.shr_u %bits I:52)) i:1075))
    (local.set $ml (i64.and %bits I:0xffffffff))
    (local.set $mh (i64.or (i64.and (i64.shr_u %bits I:32) I:0xfffff) I:0x100000))
    ;; window of 192 bits of 2/π starting at bit e - 1 (earlier bits only add multiples of 4)
    (local.set $t0 (i32.add %e i:${PAD - 2}))
    ${limbs
      .map((k) => {
        const j = 5 - k; // l0 is the least significant limb
        return `(local.set $pos (i32.add %t0 i:${32 * k}))
    (local.set $l${j} (i64.and (i64.shr_u
      (i64.or (i64.shl (call $two_over_pi_word (i32.shr_u %pos i:5)) I:32) (call $two_over_pi_word (i32.add (i32.shr_u %pos i:5) i:1)))
      (i64.extend_i32_u (i32.sub i:32 (i32.and %pos i:31)))) I:0xffffffff))`;
      })
      .join('\n    ')}
    ${[0, 1, 2, 3, 4, 5, 6, 7].map(column).join('\n    ')}
    ;; the product is x·2/π·2^190: bits 190..191 are the quadrant, bits 189..0 the fraction
    (local.set $n (i32.wrap_i64 (i64.and (i64.shr_u %r5 I:30) I:3)))
    (local.set $a1 (i64.or (i64.or (i64.shl (i64.and %r5 I:0x3fffffff) I:34) (i64.shl %r4 I:2)) (i64.shr_u %r3 I:30)))
    (local.set $a2 (i64.or (i64.or (i64.shl (i64.and %r3 I:0x3fffffff) I:34) (i64.shl %r2 I:2)) (i64.shr_u %r1 I:30)))
    (local.set $a3 (i64.or (i64.shl (i64.and %r1 I:0x3fffffff) I:34) (i64.shl %r0 I:2)))
    ;; a fraction ≥ 1/2 becomes (fraction - 1) of the next quadrant: negate the 192-bit value
    (if (i64.lt_s %a1 I:0)
      (then
        (local.set $neg i:1)
        (local.set $n (i32.add %n i:1))
        (local.set $a1 (i64.add (i64.xor %a1 I:-1) (i64.extend_i32_u (i32.and (i64.eqz %a3) (i64.eqz %a2)))))
        (local.set $a2 (i64.add (i64.xor %a2 I:-1) (i64.extend_i32_u (i64.eqz %a3))))
        (local.set $a3 (i64.sub I:0 %a3))))
    (local.set $scale f:0x1p-64)
    (if (i64.eqz %a1)
      (then (local.set $a1 %a2) (local.set $a2 %a3) (local.set $a3 I:0) (local.set $scale f:0x1p-128)))
    (local.set $lz (i64.clz %a1))
    (if (i64.ne %lz I:0)
      (then
        (local.set $a1 (i64.or (i64.shl %a1 %lz) (i64.shr_u %a2 (i64.sub I:64 %lz))))
        (local.set $a2 (i64.or (i64.shl %a2 %lz) (i64.shr_u %a3 (i64.sub I:64 %lz))))))
    (local.set $scale (f64.mul %scale (call $scalbn f:1 (i32.wrap_i64 (i64.sub I:0 %lz)))))
    ;; fraction = (c1 + c2 + c3)·scale in 26-bit pieces; times π/2 in 26-bit pieces, every product exact
    (local.set $c1 (f64.mul (f64.convert_i64_u (i64.shr_u %a1 I:38)) (f64.mul %scale f:0x1p38)))
    (local.set $c2 (f64.mul (f64.convert_i64_u (i64.and (i64.shr_u %a1 I:12) I:0x3ffffff)) (f64.mul %scale f:0x1p12)))
    (local.set $c3 (f64.mul (f64.convert_i64_u (i64.or (i64.shl (i64.and %a1 I:0xfff) I:14) (i64.shr_u %a2 I:50)))
                            (f64.mul %scale f:0x1p-14)))
    (local.set $s (f64.mul %c1 f:${PIO2_PIECES[0]}))
    (local.set $t (f64.add
      (f64.add (f64.mul %c1 f:${PIO2_PIECES[1]}) (f64.mul %c2 f:${PIO2_PIECES[0]}))
      (f64.add (f64.add (f64.mul %c1 f:${PIO2_PIECES[2]}) (f64.mul %c2 f:${PIO2_PIECES[1]}))
               (f64.add (f64.mul %c3 f:${PIO2_PIECES[0]}) (f64.add (f64.mul %c2 f:${PIO2_PIECES[2]}) (f64.mul %c3 f:${PIO2_PIECES[1]}))))))
    (local.set $y0 (f64.add %s %t))
    (local.set $t (f64.sub %t (f64.sub %y0 %s)))
    (if %neg (then (local.set $y0 (f64.neg %y0)) (local.set $t (f64.neg %t))))
    (if (f64.lt %x f:0)
      (then (local.set $y0 (f64.neg %y0)) (local.set $t (f64.neg %t)) (local.set $n (i32.sub i:0 %n))))
    (global.set $rem_hi %y0)
    (global.set $rem_lo %t)
    %n)`,
);
