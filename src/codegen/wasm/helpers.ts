/**
 * Small wasm helper functions the emitter calls instead of inlining multi-use expressions or trapping
 * instructions: non-trapping integer division, integer min/max/abs, float16 conversion, exact fmod.
 * binaryen inlines them when optimizing. The math library registers its functions here too.
 */

interface Helper {
  /** the complete `(func $name ...)` text */
  wat: string;
  /** helpers this one calls */
  deps?: string[];
}

const HELPERS = new Map<string, Helper>();

/** Register a helper; the helpers it calls are found from its `(call $name` sites. */
export function defineHelper(name: string, wat: string): void {
  const deps = [...wat.matchAll(/\(call \$([\w.]+)/g)].map((m) => m[1]).filter((d) => d !== name);
  HELPERS.set(name, { wat, deps: [...new Set(deps)] });
}

/** WAT text of the named helpers and everything they call, each once. */
export function renderHelpers(used: Iterable<string>): string {
  const seen = new Set<string>();
  const out: string[] = [];
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    const h = HELPERS.get(name);
    if (!h) throw new Error(`wasm codegen: internal error, no helper function named ${name}`);
    for (const d of h.deps ?? []) visit(d);
    out.push(h.wat);
  };
  for (const name of used) visit(name);
  return out.join('\n');
}

for (const T of ['i32', 'i64'] as const) {
  const MIN = T === 'i32' ? '-2147483648' : '-9223372036854775808';
  const bin = (name: string, body: string): void =>
    defineHelper(
      `${name}_${T}`,
      `(func $${name}_${T} (param $a ${T}) (param $b ${T}) (result ${T}) ${body})`,
    );
  // Division by zero and MIN/-1 trap in wasm; ONNX leaves them undefined, we define them as 0 so the process survives.
  bin(
    'div_s',
    `(if (result ${T}) (i32.or (${T}.eqz (local.get $b)) (i32.and (${T}.eq (local.get $a) (${T}.const ${MIN})) (${T}.eq (local.get $b) (${T}.const -1))))
      (then (${T}.const 0)) (else (${T}.div_s (local.get $a) (local.get $b))))`,
  );
  for (const op of ['rem_s', 'div_u', 'rem_u'])
    bin(
      op,
      `(if (result ${T}) (${T}.eqz (local.get $b)) (then (${T}.const 0)) (else (${T}.${op} (local.get $a) (local.get $b))))`,
    );
  bin('min_s', `(select (local.get $a) (local.get $b) (${T}.lt_s (local.get $a) (local.get $b)))`);
  bin('max_s', `(select (local.get $a) (local.get $b) (${T}.gt_s (local.get $a) (local.get $b)))`);
  defineHelper(
    `abs_${T}`,
    `(func $abs_${T} (param $a ${T}) (result ${T})
      (select (local.get $a) (${T}.sub (${T}.const 0) (local.get $a)) (${T}.ge_s (local.get $a) (${T}.const 0))))`,
  );
}

for (const T of ['f32', 'f64'] as const)
  defineHelper(
    `isnan_${T}`,
    `(func $isnan_${T} (param $a ${T}) (result i32) (${T}.ne (local.get $a) (local.get $a)))`,
  );

defineHelper(
  'f16_to_f32',
  `(func $f16_to_f32 (param $h i32) (result f32) (local $s i32) (local $e i32) (local $m i32)
    (local.set $s (i32.shl (i32.and (local.get $h) (i32.const 0x8000)) (i32.const 16)))
    (local.set $e (i32.and (i32.shr_u (local.get $h) (i32.const 10)) (i32.const 31)))
    (local.set $m (i32.and (local.get $h) (i32.const 0x3ff)))
    (if (i32.eq (local.get $e) (i32.const 31))
      (then (return (f32.reinterpret_i32
        (i32.or (i32.or (local.get $s) (i32.const 0x7f800000)) (i32.shl (local.get $m) (i32.const 13)))))))
    (if (i32.eqz (local.get $e))
      ;; zero or subnormal: m * 2^-24 is exact in f32
      (then (return (f32.copysign (f32.mul (f32.convert_i32_u (local.get $m)) (f32.const 0x1p-24))
                                  (f32.reinterpret_i32 (local.get $s))))))
    (f32.reinterpret_i32 (i32.or (i32.or (local.get $s) (i32.shl (i32.add (local.get $e) (i32.const 112)) (i32.const 23)))
                                 (i32.shl (local.get $m) (i32.const 13)))))`,
);

// Round-to-nearest-even f32 → f16 (after F. Giesen's float_to_half_fast3): subnormal results let the FPU
// round by adding 0.5, whose f32 ulp equals the f16 subnormal ulp; normal results round with a biased add.
defineHelper(
  'f32_to_f16',
  `(func $f32_to_f16 (param $f f32) (result i32) (local $x i32) (local $s i32) (local $a i32)
    (local.set $x (i32.reinterpret_f32 (local.get $f)))
    (local.set $s (i32.and (i32.shr_u (local.get $x) (i32.const 16)) (i32.const 0x8000)))
    (local.set $a (i32.and (local.get $x) (i32.const 0x7fffffff)))
    (if (i32.gt_u (local.get $a) (i32.const 0x7f800000))
      (then (return (i32.or (local.get $s) (i32.or (i32.const 0x7e00) (i32.and (i32.shr_u (local.get $a) (i32.const 13)) (i32.const 0x1ff)))))))
    (if (i32.ge_u (local.get $a) (i32.const 0x477ff000))
      (then (return (i32.or (local.get $s) (i32.const 0x7c00)))))
    (if (i32.lt_u (local.get $a) (i32.const 0x38800000))
      (then (return (i32.or (local.get $s)
        (i32.sub (i32.reinterpret_f32 (f32.add (f32.reinterpret_i32 (local.get $a)) (f32.const 0.5))) (i32.const 0x3f000000))))))
    (i32.or (local.get $s) (i32.shr_u
      (i32.add (local.get $a) (i32.add (i32.const 0xc8000fff) (i32.and (i32.shr_u (local.get $a) (i32.const 13)) (i32.const 1))))
      (i32.const 13))))`,
);

// C fmod, exact (musl's bitwise long division), so results match JS `%`.
defineHelper(
  'fmod_f64',
  `(func $fmod_f64 (param $x f64) (param $y f64) (result f64)
    (local $ux i64) (local $uy i64) (local $ex i32) (local $ey i32) (local $sx i64) (local $i i64)
    (local.set $ux (i64.reinterpret_f64 (local.get $x)))
    (local.set $uy (i64.reinterpret_f64 (local.get $y)))
    (local.set $ex (i32.wrap_i64 (i64.and (i64.shr_u (local.get $ux) (i64.const 52)) (i64.const 0x7ff))))
    (local.set $ey (i32.wrap_i64 (i64.and (i64.shr_u (local.get $uy) (i64.const 52)) (i64.const 0x7ff))))
    (local.set $sx (i64.and (local.get $ux) (i64.const 0x8000000000000000)))
    (if (i32.or (i32.or (i64.eqz (i64.shl (local.get $uy) (i64.const 1))) (f64.ne (local.get $y) (local.get $y)))
                (i32.eq (local.get $ex) (i32.const 0x7ff)))
      (then (return (f64.div (f64.mul (local.get $x) (local.get $y)) (f64.mul (local.get $x) (local.get $y))))))
    (if (i64.le_u (i64.shl (local.get $ux) (i64.const 1)) (i64.shl (local.get $uy) (i64.const 1)))
      (then (if (i64.eq (i64.shl (local.get $ux) (i64.const 1)) (i64.shl (local.get $uy) (i64.const 1)))
              (then (return (f64.mul (f64.const 0) (local.get $x)))))
            (return (local.get $x))))
    (if (i32.eqz (local.get $ex))
      (then
        (local.set $i (i64.shl (local.get $ux) (i64.const 12)))
        (block $done (loop $norm
          (br_if $done (i64.lt_s (local.get $i) (i64.const 0)))
          (local.set $ex (i32.sub (local.get $ex) (i32.const 1)))
          (local.set $i (i64.shl (local.get $i) (i64.const 1)))
          (br $norm)))
        (local.set $ux (i64.shl (local.get $ux) (i64.extend_i32_u (i32.sub (i32.const 1) (local.get $ex))))))
      (else (local.set $ux (i64.or (i64.and (local.get $ux) (i64.const 0xfffffffffffff)) (i64.const 0x10000000000000)))))
    (if (i32.eqz (local.get $ey))
      (then
        (local.set $i (i64.shl (local.get $uy) (i64.const 12)))
        (block $done (loop $norm
          (br_if $done (i64.lt_s (local.get $i) (i64.const 0)))
          (local.set $ey (i32.sub (local.get $ey) (i32.const 1)))
          (local.set $i (i64.shl (local.get $i) (i64.const 1)))
          (br $norm)))
        (local.set $uy (i64.shl (local.get $uy) (i64.extend_i32_u (i32.sub (i32.const 1) (local.get $ey))))))
      (else (local.set $uy (i64.or (i64.and (local.get $uy) (i64.const 0xfffffffffffff)) (i64.const 0x10000000000000)))))
    (block $done (loop $div
      (br_if $done (i32.le_s (local.get $ex) (local.get $ey)))
      (local.set $i (i64.sub (local.get $ux) (local.get $uy)))
      (if (i64.ge_s (local.get $i) (i64.const 0))
        (then (if (i64.eqz (local.get $i)) (then (return (f64.mul (f64.const 0) (local.get $x)))))
              (local.set $ux (local.get $i))))
      (local.set $ux (i64.shl (local.get $ux) (i64.const 1)))
      (local.set $ex (i32.sub (local.get $ex) (i32.const 1)))
      (br $div)))
    (local.set $i (i64.sub (local.get $ux) (local.get $uy)))
    (if (i64.ge_s (local.get $i) (i64.const 0))
      (then (if (i64.eqz (local.get $i)) (then (return (f64.mul (f64.const 0) (local.get $x)))))
            (local.set $ux (local.get $i))))
    (block $done (loop $renorm
      (br_if $done (i64.ne (i64.shr_u (local.get $ux) (i64.const 52)) (i64.const 0)))
      (local.set $ux (i64.shl (local.get $ux) (i64.const 1)))
      (local.set $ex (i32.sub (local.get $ex) (i32.const 1)))
      (br $renorm)))
    (if (i32.gt_s (local.get $ex) (i32.const 0))
      (then (local.set $ux (i64.or (i64.sub (local.get $ux) (i64.const 0x10000000000000))
                                   (i64.shl (i64.extend_i32_u (local.get $ex)) (i64.const 52)))))
      (else (local.set $ux (i64.shr_u (local.get $ux) (i64.extend_i32_u (i32.sub (i32.const 1) (local.get $ex)))))))
    (f64.reinterpret_i64 (i64.or (local.get $ux) (local.get $sx))))`,
);
defineHelper(
  'fmod_f32',
  `(func $fmod_f32 (param $x f32) (param $y f32) (result f32)
    (f32.demote_f64 (call $fmod_f64 (f64.promote_f32 (local.get $x)) (f64.promote_f32 (local.get $y)))))`,
);
