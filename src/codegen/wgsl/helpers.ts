/**
 * WGSL helper functions for what WGSL lacks or defines differently from the Kernel IR: narrow loads and
 * stores, float16 conversion, NaN-aware min/max and tests (the compiler may assume no NaN in float
 * comparisons, so they test bits), C fmod and pow, erf, non-trapping integer division defined as the wasm
 * generator defines it (0 on division by zero and INT_MIN / -1), saturating float → int casts, and
 * 64-bit integer arithmetic (INT64 below).
 * A kernel names helpers by calling them; renderHelpers finds the calls. The helpers that touch memory
 * are called for one storage binding: `ld_u8_mem2` is ld_u8 over binding 2's `mem2`.
 */

const HELPERS: Record<string, string> = {
  f32_bits: `fn f32_bits(b: u32) -> f32 { return bitcast<f32>(b); }`,
  is_nan: `fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }`,
  is_inf: `fn is_inf(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }`,

  ld_u8: `fn ld_u8(b: i32) -> i32 { return i32((mem[b >> 2u] >> (u32(b & 3) * 8u)) & 0xffu); }`,
  ld_i8: `fn ld_i8(b: i32) -> i32 { return (bitcast<i32>(mem[b >> 2u]) << ((3u - u32(b & 3)) * 8u)) >> 24u; }`,
  ld_u16: `fn ld_u16(b: i32) -> i32 { return i32((mem[b >> 2u] >> (u32(b & 2) * 8u)) & 0xffffu); }`,
  ld_i16: `fn ld_i16(b: i32) -> i32 { return (bitcast<i32>(mem[b >> 2u]) << ((2u - u32(b & 2)) * 8u)) >> 16u; }`,
  ld_f16: `fn ld_f16(b: i32) -> f32 { return f16_to_f32(u32(ld_u16(b))); }`,
  // read-modify-write of the containing word: callers keep such stores to one invocation
  st_8: `fn st_8(b: i32, v: i32) {
  let w = b >> 2u;
  let s = u32(b & 3) * 8u;
  mem[w] = (mem[w] & ~(0xffu << s)) | ((bitcast<u32>(v) & 0xffu) << s);
}`,
  st_16: `fn st_16(b: i32, v: i32) {
  let w = b >> 2u;
  let s = u32(b & 2) * 8u;
  mem[w] = (mem[w] & ~(0xffffu << s)) | ((bitcast<u32>(v) & 0xffffu) << s);
}`,
  st_f16: `fn st_f16(b: i32, v: f32) { st_16(b, i32(f32_to_f16(v))); }`,
  // the same for kernels computing in f16 (half.ts), in the module's part that enables f16
  ld_h16: `fn ld_h16(b: i32) -> f16 { return bitcast<vec2<f16>>(mem[b >> 2u])[(b >> 1u) & 1]; }`,
  st_h16: `fn st_h16(b: i32, v: f16) { st_16(b, bitcast<i32>(bitcast<u32>(vec2<f16>(v, 0.0h)))); }`,
  // exact, like the wasm helpers: pack2x16float/unpack2x16float leave overflow and subnormals undefined
  f16_to_f32: `fn f16_to_f32(h: u32) -> f32 {
  let s = (h & 0x8000u) << 16u;
  let e = (h >> 10u) & 31u;
  let m = h & 0x3ffu;
  if (e == 31u) { return bitcast<f32>(s | 0x7f800000u | (m << 13u)); }
  // zero or subnormal: m * 2^-24 is exact in f32
  if (e == 0u) { return bitcast<f32>(s | bitcast<u32>(f32(m) * bitcast<f32>(0x33800000u))); }
  return bitcast<f32>(s | ((e + 112u) << 23u) | (m << 13u));
}`,
  // round to nearest even (F. Giesen's float_to_half_fast3), as the wasm generator's f32_to_f16
  f32_to_f16: `fn f32_to_f16(f: f32) -> u32 {
  let x = bitcast<u32>(f);
  let s = (x >> 16u) & 0x8000u;
  let a = x & 0x7fffffffu;
  if (a > 0x7f800000u) { return s | 0x7e00u | ((a >> 13u) & 0x1ffu); }
  if (a >= 0x477ff000u) { return s | 0x7c00u; }
  if (a < 0x38800000u) { return s | (bitcast<u32>(bitcast<f32>(a) + 0.5f) - 0x3f000000u); }
  return s | ((a + 0xc8000fffu + ((a >> 13u) & 1u)) >> 13u);
}`,

  // wasm's f32.min/max: NaN if either is NaN, and -0 < +0
  fmin_f32: `fn fmin_f32(a: f32, b: f32) -> f32 {
  if (is_nan(a) || is_nan(b)) { return f32_bits(0x7fc00000u); }
  if (a == b) { return bitcast<f32>(bitcast<u32>(a) | bitcast<u32>(b)); }
  return select(b, a, a < b);
}`,
  fmax_f32: `fn fmax_f32(a: f32, b: f32) -> f32 {
  if (is_nan(a) || is_nan(b)) { return f32_bits(0x7fc00000u); }
  if (a == b) { return bitcast<f32>(bitcast<u32>(a) & bitcast<u32>(b)); }
  return select(b, a, a > b);
}`,

  div_s_i32: `fn div_s_i32(a: i32, b: i32) -> i32 {
  if (b == 0i || (b == -1i && a == (-2147483647i - 1i))) { return 0i; }
  return a / b;
}`,
  rem_s_i32: `fn rem_s_i32(a: i32, b: i32) -> i32 {
  if (b == 0i || b == -1i) { return 0i; }
  return a % b;
}`,
  div_u_i32: `fn div_u_i32(a: i32, b: i32) -> i32 {
  if (b == 0i) { return 0i; }
  return bitcast<i32>(bitcast<u32>(a) / bitcast<u32>(b));
}`,
  rem_u_i32: `fn rem_u_i32(a: i32, b: i32) -> i32 {
  if (b == 0i) { return 0i; }
  return bitcast<i32>(bitcast<u32>(a) % bitcast<u32>(b));
}`,

  f32_to_i32_sat: `fn f32_to_i32_sat(x: f32) -> i32 {
  if (is_nan(x)) { return 0i; }
  if (x >= 2147483648.0f) { return 2147483647i; }
  if (x < -2147483648.0f) { return -2147483647i - 1i; }
  return i32(x);
}`,
  f32_to_u32_sat: `fn f32_to_u32_sat(x: f32) -> i32 {
  if (is_nan(x) || x <= -1.0f) { return 0i; }
  if (x >= 4294967296.0f) { return -1i; }
  return bitcast<i32>(u32(max(x, 0.0f)));
}`,

  // C fmod, exact (musl's fmodf: bitwise long division), so results match the wasm generator's
  fmod_f32: `fn fmod_f32(x: f32, y: f32) -> f32 {
  var ux = bitcast<u32>(x);
  var uy = bitcast<u32>(y);
  var ex = i32((ux >> 23u) & 0xffu);
  var ey = i32((uy >> 23u) & 0xffu);
  let sx = ux & 0x80000000u;
  if ((uy << 1u) == 0u || is_nan(y) || ex == 0xff) { return f32_bits(0x7fc00000u); }
  if ((ux << 1u) <= (uy << 1u)) {
    if ((ux << 1u) == (uy << 1u)) { return bitcast<f32>(sx); }
    return x;
  }
  if (ex == 0) {
    var i = ux << 9u;
    while ((i >> 31u) == 0u) { ex = ex - 1; i = i << 1u; }
    ux = ux << u32(1 - ex);
  } else {
    ux = (ux & 0x7fffffu) | 0x800000u;
  }
  if (ey == 0) {
    var i = uy << 9u;
    while ((i >> 31u) == 0u) { ey = ey - 1; i = i << 1u; }
    uy = uy << u32(1 - ey);
  } else {
    uy = (uy & 0x7fffffu) | 0x800000u;
  }
  while (ex > ey) {
    let i = ux - uy;
    if ((i >> 31u) == 0u) {
      if (i == 0u) { return bitcast<f32>(sx); }
      ux = i;
    }
    ux = ux << 1u;
    ex = ex - 1;
  }
  let i = ux - uy;
  if ((i >> 31u) == 0u) {
    if (i == 0u) { return bitcast<f32>(sx); }
    ux = i;
  }
  while ((ux >> 23u) == 0u) { ux = ux << 1u; ex = ex - 1; }
  if (ex > 0) { ux = (ux - 0x800000u) | (u32(ex) << 23u); } else { ux = ux >> u32(1 - ex); }
  return bitcast<f32>(ux | sx);
}`,

  // C pow: negative bases with integer exponents, the special cases of zeros, infinities and NaN; small
  // integer exponents by repeated squaring (exact for exact results), the rest as exp2(y·log2|x|)
  pow_f32: `fn pow_f32(x: f32, y: f32) -> f32 {
  if (y == 0.0f || x == 1.0f) { return 1.0f; }
  if (is_nan(x) || is_nan(y)) { return f32_bits(0x7fc00000u); }
  let ax = abs(x);
  let ay = abs(y);
  if (is_inf(y)) {
    if (ax == 1.0f) { return 1.0f; }
    return select(0.0f, f32_bits(0x7f800000u), (ax > 1.0f) == (y > 0.0f));
  }
  let y_int = floor(y) == y;
  let y_odd = y_int && ay < 16777216.0f && (u32(ay) & 1u) == 1u;
  let negate = y_odd && bitcast<u32>(x) >= 0x80000000u;
  var r: f32;
  if (ax == 0.0f || is_inf(x)) {
    r = select(0.0f, f32_bits(0x7f800000u), (ax == 0.0f) == (y < 0.0f));
  } else if (x < 0.0f && !y_int) {
    return f32_bits(0x7fc00000u);
  } else if (y_int && ay <= 64.0f) {
    var n = u32(ay);
    var base = ax;
    r = 1.0f;
    while (n != 0u) {
      if ((n & 1u) == 1u) { r = r * base; }
      base = base * base;
      n = n >> 1u;
    }
    if (y < 0.0f) { r = 1.0f / r; }
  } else {
    r = exp2(y * log2(ax));
  }
  return select(r, -r, negate);
}`,

  // |x| < 1: Taylor series (error < 1.1e-9); else Abramowitz–Stegun 7.1.26 (absolute error < 1.5e-7)
  erf_f32: `fn erf_f32(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  let a = abs(x);
  if (a < 1.0f) {
    let z = x * x;
    var p = 1.3122532963802806e-8f;
    p = p * z - 1.4503852223150468e-7f;
    p = p * z + 1.4589169000933706e-6f;
    p = p * z - 1.3227513227513228e-5f;
    p = p * z + 1.0683760683760684e-4f;
    p = p * z - 7.575757575757576e-4f;
    p = p * z + 4.629629629629629e-3f;
    p = p * z - 2.3809523809523808e-2f;
    p = p * z + 0.1f;
    p = p * z - 0.3333333333333333f;
    p = p * z + 1.0f;
    return x * 1.1283791670955126f * p;
  }
  let t = 1.0f / (1.0f + 0.3275911f * a);
  let poly = ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t;
  let r = 1.0f - poly * exp(-a * a);
  return select(r, -r, x < 0.0f);
}`,
};

/**
 * Math functions WGSL leaves too inaccurate (atan is allowed 4096 ULP; tanh, sinh, asinh, atanh are only
 * "inherited" from exp/log formulas that cancel near 0 or overflow early): Cephes' single-precision
 * algorithms, a few ULP each.
 */
const MATH: Record<string, string> = {
  atan_f32: `fn atan_f32(v: f32) -> f32 {
  if (is_nan(v)) { return v; }
  var x = abs(v);
  var y = 0.0f;
  if (x > 2.414213562373095f) {
    y = 1.5707963267948966f;
    x = -1.0f / x;
  } else if (x > 0.4142135623730950f) {
    y = 0.7853981633974483f;
    x = (x - 1.0f) / (x + 1.0f);
  }
  let z = x * x;
  y = y + ((((8.05374449538e-2f * z - 1.38776856032e-1f) * z + 1.99777106478e-1f) * z - 3.33329491539e-1f) * z * x + x);
  return select(y, -y, v < 0.0f);
}`,
  // C atan2 with its signed zeros and infinities
  atan2_f32: `fn atan2_f32(y: f32, x: f32) -> f32 {
  if (is_nan(x) || is_nan(y)) { return f32_bits(0x7fc00000u); }
  let pi = 3.141592653589793f;
  let y_neg = bitcast<u32>(y) >= 0x80000000u;
  let x_neg = bitcast<u32>(x) >= 0x80000000u;
  var r: f32;
  if (y == 0.0f) {
    r = select(0.0f, pi, x_neg);
  } else if (x == 0.0f) {
    r = pi / 2.0f;
  } else if (is_inf(x)) {
    if (is_inf(y)) { r = select(pi / 4.0f, 3.0f * pi / 4.0f, x_neg); } else { r = select(0.0f, pi, x_neg); }
  } else if (is_inf(y)) {
    r = pi / 2.0f;
  } else {
    r = atan_f32(abs(y / x));
    if (x_neg) { r = pi - r; }
  }
  return select(r, -r, y_neg);
}`,
  asin_f32: `fn asin_f32(v: f32) -> f32 {
  let a = abs(v);
  if (is_nan(v) || a > 1.0f) { return f32_bits(0x7fc00000u); }
  var x = a;
  var z: f32;
  var flip = false;
  if (a > 0.5f) {
    z = 0.5f * (1.0f - a);
    x = sqrt(z);
    flip = true;
  } else {
    z = a * a;
  }
  var r = ((((4.2163199048e-2f * z + 2.4181311049e-2f) * z + 4.5470025998e-2f) * z + 7.4953002686e-2f) * z + 1.6666752422e-1f) * z * x + x;
  if (flip) { r = 1.5707963267948966f - (r + r); }
  return select(r, -r, v < 0.0f);
}`,
  acos_f32: `fn acos_f32(x: f32) -> f32 {
  if (x < -0.5f) { return 3.141592653589793f - 2.0f * asin_f32(sqrt(0.5f * (1.0f + x))); }
  if (x > 0.5f) { return 2.0f * asin_f32(sqrt(0.5f * (1.0f - x))); }
  return 1.5707963267948966f - asin_f32(x);
}`,
  sinh_f32: `fn sinh_f32(x: f32) -> f32 {
  let a = abs(x);
  var r: f32;
  if (a < 1.0f) {
    let z = x * x;
    return ((2.03721912945e-4f * z + 8.33028376239e-3f) * z + 1.66667160211e-1f) * z * x + x;
  }
  if (a > 20.0f) {
    // e^a / 2 as (e^(a/2) / 2) · e^(a/2): finite up to sinh's own overflow
    let h = exp(0.5f * a);
    r = (0.5f * h) * h;
  } else {
    let e = exp(a);
    r = 0.5f * (e - 1.0f / e);
  }
  return select(r, -r, x < 0.0f);
}`,
  tanh_f32: `fn tanh_f32(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  let a = abs(x);
  if (a < 0.625f) {
    let z = x * x;
    return ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z + 1.33314422036e-1f) * z - 3.33332819422e-1f) * z * x + x;
  }
  var r = 1.0f;
  if (a < 9.0f) { r = 1.0f - 2.0f / (exp(a + a) + 1.0f); }
  return select(r, -r, x < 0.0f);
}`,
  asinh_f32: `fn asinh_f32(x: f32) -> f32 {
  if (is_nan(x) || is_inf(x)) { return x; }
  let a = abs(x);
  var r: f32;
  if (a > 1500.0f) {
    r = log(a) + 0.6931471805599453f;
  } else if (a < 0.5f) {
    let z = a * a;
    r = (((2.0122003309e-2f * z - 4.2699340972e-2f) * z + 7.4847586088e-2f) * z - 1.6666288134e-1f) * z * a + a;
  } else {
    r = log(a + sqrt(a * a + 1.0f));
  }
  return select(r, -r, x < 0.0f);
}`,
  acosh_f32: `fn acosh_f32(x: f32) -> f32 {
  if (is_nan(x) || x < 1.0f) { return f32_bits(0x7fc00000u); }
  if (x > 1500.0f) { return log(x) + 0.6931471805599453f; }
  let z = x - 1.0f;
  if (z < 0.5f) {
    return ((((1.7596881071e-3f * z - 7.5272886713e-3f) * z + 2.6454905019e-2f) * z - 1.1784741703e-1f) * z + 1.4142135263f) * sqrt(z);
  }
  return log(x + sqrt(z * (x + 1.0f)));
}`,
  atanh_f32: `fn atanh_f32(x: f32) -> f32 {
  let a = abs(x);
  if (is_nan(x) || a > 1.0f) { return f32_bits(0x7fc00000u); }
  if (a == 1.0f) { return select(f32_bits(0x7f800000u), f32_bits(0xff800000u), x < 0.0f); }
  if (a < 0.5f) {
    let z = x * x;
    return ((((1.81740078349e-1f * z + 8.24370301058e-2f) * z + 1.46691431730e-1f) * z + 1.99782164500e-1f) * z + 3.33337300303e-1f) * z * x + x;
  }
  return 0.5f * log((1.0f + x) / (1.0f - x));
}`,
};

/**
 * 64-bit integers as vec2<u32> (low word, high word), two's complement, wrapping as wasm's i64: loads and
 * stores of two words, carries, a 32×32 → 64-bit product from 16-bit limbs, shifts by the count modulo 64,
 * division by shift-and-subtract (x / 0 = 0, INT64_MIN / -1 = 0, as the IR defines them), and exact
 * conversions to and from f32 (round to nearest even; float → int truncates and saturates, NaN → 0).
 */
const INT64: Record<string, string> = {
  ld_i64: `fn ld_i64(w: i32) -> vec2<u32> { return vec2<u32>(mem[w], mem[w + 1i]); }`,
  st_i64: `fn st_i64(w: i32, v: vec2<u32>) {
  mem[w] = v.x;
  mem[w + 1i] = v.y;
}`,
  i64_from_i32: `fn i64_from_i32(a: i32) -> vec2<u32> { return vec2<u32>(bitcast<u32>(a), bitcast<u32>(a >> 31u)); }`,
  i64_add: `fn i64_add(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  let lo = a.x + b.x;
  return vec2<u32>(lo, a.y + b.y + select(0u, 1u, lo < a.x));
}`,
  i64_sub: `fn i64_sub(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  return vec2<u32>(a.x - b.x, a.y - b.y - select(0u, 1u, a.x < b.x));
}`,
  i64_neg: `fn i64_neg(a: vec2<u32>) -> vec2<u32> { return i64_sub(vec2<u32>(0u, 0u), a); }`,
  i64_abs: `fn i64_abs(a: vec2<u32>) -> vec2<u32> { return select(a, i64_neg(a), a.y >= 0x80000000u); }`,
  // the full product of two u32: partial products of 16-bit limbs, each < 2^32
  u32_mul_wide: `fn u32_mul_wide(a: u32, b: u32) -> vec2<u32> {
  let a0 = a & 0xffffu;
  let a1 = a >> 16u;
  let b0 = b & 0xffffu;
  let b1 = b >> 16u;
  let p00 = a0 * b0;
  let p01 = a0 * b1;
  let p10 = a1 * b0;
  let mid = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
  return vec2<u32>((p00 & 0xffffu) | (mid << 16u), a1 * b1 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u));
}`,
  i64_mul: `fn i64_mul(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  let p = u32_mul_wide(a.x, b.x);
  return vec2<u32>(p.x, p.y + a.x * b.y + a.y * b.x);
}`,
  i64_lt_s: `fn i64_lt_s(a: vec2<u32>, b: vec2<u32>) -> bool {
  if (a.y != b.y) { return bitcast<i32>(a.y) < bitcast<i32>(b.y); }
  return a.x < b.x;
}`,
  i64_lt_u: `fn i64_lt_u(a: vec2<u32>, b: vec2<u32>) -> bool {
  if (a.y != b.y) { return a.y < b.y; }
  return a.x < b.x;
}`,
  i64_min: `fn i64_min(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> { return select(b, a, i64_lt_s(a, b)); }`,
  i64_max: `fn i64_max(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> { return select(b, a, i64_lt_s(b, a)); }`,
  i64_shl: `fn i64_shl(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  let s = b.x & 63u;
  if (s == 0u) { return a; }
  if (s >= 32u) { return vec2<u32>(0u, a.x << (s - 32u)); }
  return vec2<u32>(a.x << s, (a.y << s) | (a.x >> (32u - s)));
}`,
  i64_shr_u: `fn i64_shr_u(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  let s = b.x & 63u;
  if (s == 0u) { return a; }
  if (s >= 32u) { return vec2<u32>(a.y >> (s - 32u), 0u); }
  return vec2<u32>((a.x >> s) | (a.y << (32u - s)), a.y >> s);
}`,
  i64_shr_s: `fn i64_shr_s(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  let s = b.x & 63u;
  let hi = bitcast<i32>(a.y);
  if (s == 0u) { return a; }
  if (s >= 32u) { return vec2<u32>(bitcast<u32>(hi >> (s - 32u)), bitcast<u32>(hi >> 31u)); }
  return vec2<u32>((a.x >> s) | (a.y << (32u - s)), bitcast<u32>(hi >> s));
}`,
  // quotient (xy) and remainder (zw) of unsigned a / b for b != 0; one bit per step, 32-bit when it can
  u64_divmod: `fn u64_divmod(a: vec2<u32>, b: vec2<u32>) -> vec4<u32> {
  if (a.y == 0u && b.y == 0u) { return vec4<u32>(a.x / b.x, 0u, a.x % b.x, 0u); }
  var q = vec2<u32>(0u, 0u);
  var r = vec2<u32>(0u, 0u);
  var n = a;
  for (var i = 0u; i < 64u; i++) {
    // r < b before the shift, so a carry out of r means 2r + bit >= b
    let carry = r.y >> 31u;
    r = vec2<u32>((r.x << 1u) | (n.y >> 31u), (r.y << 1u) | (r.x >> 31u));
    n = vec2<u32>(n.x << 1u, (n.y << 1u) | (n.x >> 31u));
    q = vec2<u32>(q.x << 1u, (q.y << 1u) | (q.x >> 31u));
    if (carry != 0u || !i64_lt_u(r, b)) {
      r = i64_sub(r, b);
      q.x = q.x | 1u;
    }
  }
  return vec4<u32>(q, r);
}`,
  i64_div_u: `fn i64_div_u(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  if (all(b == vec2<u32>(0u, 0u))) { return b; }
  return u64_divmod(a, b).xy;
}`,
  i64_rem_u: `fn i64_rem_u(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  if (all(b == vec2<u32>(0u, 0u))) { return b; }
  return u64_divmod(a, b).zw;
}`,
  i64_div_s: `fn i64_div_s(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  let zero = vec2<u32>(0u, 0u);
  if (all(b == zero) || (all(b == vec2<u32>(0xffffffffu, 0xffffffffu)) && all(a == vec2<u32>(0u, 0x80000000u)))) {
    return zero;
  }
  let q = u64_divmod(i64_abs(a), i64_abs(b)).xy;
  return select(q, i64_neg(q), (a.y >> 31u) != (b.y >> 31u));
}`,
  i64_rem_s: `fn i64_rem_s(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  if (all(b == vec2<u32>(0u, 0u))) { return b; }
  let r = u64_divmod(i64_abs(a), i64_abs(b)).zw;
  return select(r, i64_neg(r), a.y >= 0x80000000u);
}`,
  // rounds the top 24 significant bits to nearest even by hand (WGSL leaves integer → float rounding open)
  u64_to_f32: `fn u64_to_f32(a: vec2<u32>) -> f32 {
  if (a.y == 0u && a.x < 0x1000000u) { return f32(a.x); }
  let z = select(countLeadingZeros(a.y), 32u + countLeadingZeros(a.x), a.y == 0u);
  let n = i64_shl(a, vec2<u32>(z, 0u));
  var m = n.y >> 8u;
  let rest = n.y & 0xffu;
  if (rest > 0x80u || (rest == 0x80u && (n.x != 0u || (m & 1u) == 1u))) { m = m + 1u; }
  // a ≈ m · 2^(40 - z); a mantissa rounded up to 2^24 carries into the exponent
  return bitcast<f32>(((190u - z) << 23u) + (m - 0x800000u));
}`,
  i64_to_f32: `fn i64_to_f32(a: vec2<u32>) -> f32 {
  let negative = a.y >= 0x80000000u;
  let r = u64_to_f32(i64_abs(a));
  return select(r, -r, negative);
}`,
  // x: a non-negative f32 below 2^64; the high word and the rest are exact in f32
  f32_to_u64_trunc: `fn f32_to_u64_trunc(x: f32) -> vec2<u32> {
  let t = trunc(x);
  let hi = floor(t * 0x1p-32f);
  return vec2<u32>(u32(t - hi * 0x1p32f), u32(hi));
}`,
  f32_to_i64_sat: `fn f32_to_i64_sat(x: f32) -> vec2<u32> {
  if (is_nan(x)) { return vec2<u32>(0u, 0u); }
  if (x >= 0x1p63f) { return vec2<u32>(0xffffffffu, 0x7fffffffu); }
  if (x <= -0x1p63f) { return vec2<u32>(0u, 0x80000000u); }
  let m = f32_to_u64_trunc(abs(x));
  return select(m, i64_neg(m), x < 0.0f);
}`,
  f32_to_u64_sat: `fn f32_to_u64_sat(x: f32) -> vec2<u32> {
  if (is_nan(x) || x <= -1.0f) { return vec2<u32>(0u, 0u); }
  if (x >= 0x1p64f) { return vec2<u32>(0xffffffffu, 0xffffffffu); }
  return f32_to_u64_trunc(max(x, 0.0f));
}`,
};

/**
 * float64 storage: WGSL has no f64, so a float64 element (two words, low first, as wasm lays it out) is read
 * rounded to the nearest f32 (ties to even; past f32's range: infinity or a signed zero) and written widened
 * from f32, which is exact.
 */
const FLOAT64: Record<string, string> = {
  ld_f64: `fn ld_f64(w: i32) -> f32 { return f64_to_f32(mem[w], mem[w + 1i]); }`,
  st_f64: `fn st_f64(w: i32, v: f32) {
  let d = f32_to_f64(v);
  mem[w] = d.x;
  mem[w + 1i] = d.y;
}`,
  f64_to_f32: `fn f64_to_f32(lo: u32, hi: u32) -> f32 {
  let s = hi & 0x80000000u;
  let e = i32((hi >> 20u) & 0x7ffu);
  if (e == 0x7ff) {
    if (((hi & 0xfffffu) | lo) == 0u) { return bitcast<f32>(s | 0x7f800000u); }
    return bitcast<f32>(s | 0x7fc00000u | ((hi & 0xfffffu) << 3u) | (lo >> 29u));
  }
  // the f32 biased exponent; f64 zeros and subnormals (e == 0) are far below f32's range
  let fe = e - 896;
  if (e == 0 || fe < -23) { return bitcast<f32>(s); }
  if (fe >= 255) { return bitcast<f32>(s | 0x7f800000u); }
  // the significand 1.m in bits 31..0, and whether any of the 21 bits below those is set
  let sig = 0x80000000u | ((hi & 0xfffffu) << 11u) | (lo >> 21u);
  let sticky = (lo & 0x1fffffu) != 0u;
  // just below half the smallest subnormal: rounds to it unless exactly half (a tie, to even: zero)
  if (fe == -23) { return bitcast<f32>(s | select(0u, 1u, sig > 0x80000000u || sticky)); }
  // a normal f32 keeps 24 bits of the significand, a subnormal fewer
  let shift = select(8u, u32(9 - fe), fe <= 0);
  let kept = sig >> shift;
  let dropped = sig & ((1u << shift) - 1u);
  let half = 1u << (shift - 1u);
  let up = dropped > half || (dropped == half && (sticky || (kept & 1u) == 1u));
  // a normal's leading 1 adds one to its exponent field; rounding up may carry into it (up to infinity)
  let bits = select(kept, (u32(fe - 1) << 23u) + kept, fe > 0) + select(0u, 1u, up);
  return bitcast<f32>(s | bits);
}`,
  f32_to_f64: `fn f32_to_f64(v: f32) -> vec2<u32> {
  let x = bitcast<u32>(v);
  let s = x & 0x80000000u;
  let e = (x >> 23u) & 0xffu;
  let m = x & 0x7fffffu;
  if (e == 0xffu) { return vec2<u32>(m << 29u, s | 0x7ff00000u | (m >> 3u)); }
  if (e == 0u) {
    if (m == 0u) { return vec2<u32>(0u, s); }
    // a subnormal, m · 2^-149: its leading 1 at bit p is 2^(p - 149), a normal f64
    let p = 31u - countLeadingZeros(m);
    let f = (m << (23u - p)) & 0x7fffffu;
    return vec2<u32>(f << 29u, s | ((p + 874u) << 20u) | (f >> 3u));
  }
  return vec2<u32>(m << 29u, s | ((e + 896u) << 20u) | (m >> 3u));
}`,
};

const ALL: Record<string, string> = { ...HELPERS, ...MATH, ...INT64, ...FLOAT64 };

const MEMORY_HELPERS = [
  'ld_u8',
  'ld_i8',
  'ld_u16',
  'ld_i16',
  'ld_f16',
  'st_8',
  'st_16',
  'st_f16',
  'ld_h16',
  'st_h16',
  'ld_i64',
  'st_i64',
  'ld_f64',
  'st_f64',
];
const MEMORY_CALL = new RegExp(`\\b(${MEMORY_HELPERS.join('|')})\\(`, 'g');

/** A helper's text: one of ALL, or a memory helper over the binding its name ends in. */
function helperText(name: string): string | undefined {
  if (name in ALL) return ALL[name];
  const m = /^([a-z0-9_]+)_(mem\d+)$/.exec(name);
  if (!m || !MEMORY_HELPERS.includes(m[1])) return undefined;
  return ALL[m[1]].replace(/\bmem\[/g, `${m[2]}[`).replace(MEMORY_CALL, `$1_${m[2]}(`);
}

/**
 * WGSL text of the helpers `code` calls, and of those they call, each once; but those in `rendered`, which
 * the module has already (the names rendered are added to it).
 */
export function renderHelpers(code: string, rendered = new Set<string>()): string {
  const used = new Map<string, string>();
  const visit = (text: string): void => {
    for (const m of text.matchAll(/\b([a-z0-9_]+)\(/g)) {
      const name = m[1];
      const text = used.has(name) || rendered.has(name) ? undefined : helperText(name);
      if (text === undefined) continue;
      used.set(name, text);
      visit(text);
    }
  };
  visit(code);
  for (const name of used.keys()) rendered.add(name);
  return [...used.values()].join('\n');
}
