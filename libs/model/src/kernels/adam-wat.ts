/**
 * The WebAssembly text of the Adam kernels: adam0, adam1 and adam2 update float32 parameters in
 * place from 0, 1 or 2 gradient arrays (one per shard), over `count` floats at byte offsets of a
 * shared memory. Four floats per step (SIMD), each widened to float64 for the arithmetic, in
 * exactly the order of the JS loops in adam.ts, and rounded back to float32 where they store: the
 * same bits as those loops, several times faster (V8 runs them scalar, and slower still on
 * SharedArrayBuffers). `npm run build:kernels` compiles this text into adam-wasm.ts.
 *
 *   grad = (g0 + g1) + decay * w
 *   m = b1 * m + c1 * grad;  v = b2 * v + (c2 * grad) * grad
 *   w = w - (lr * m) / (sqrt(v) + eps)         (m, v unrounded here, as in the JS)
 */
export function adamWat(): string {
  const variants = [0, 1, 2].flatMap((shards) => [adamFunction(shards, false), adamFunction(shards, true)]);
  return `(module
  (import "env" "memory" (memory 1 65536 shared))
${variants.join('')})
`;
}

/**
 * `adam<shards>`, or with `transposed` `adam<shards>t`, which also stores each new weight at
 * $wt + e * $wt_stride for the e-th float: a row of a weight matrix written into a column of
 * its transpose, which the next forward pass needs (cheaper here than a transpose pass later).
 */
function adamFunction(shards: number, transposed: boolean): string {
  const grads = ['$g0', '$g1'].slice(0, shards);
  const params =
    ['$w', ...grads, '$m', '$v'].map((p) => `(param ${p} i32)`).join(' ') +
    (transposed ? ' (param $wt i32) (param $wt_stride i32)' : '');
  const splat = (p: string) => `(f64x2.splat (local.get ${p}))`;
  const load = (p: string) => `(v128.load (i32.add (local.get ${p}) (local.get $i)))`;
  // lanes 0-1 (low) or 2-3 (high) of four floats, widened to two doubles
  const widen = (v: string, high: boolean) =>
    high
      ? `(f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get ${v}) (local.get ${v})))`
      : `(f64x2.promote_low_f32x4 (local.get ${v}))`;
  const narrow = (a: string) =>
    `(i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (f32x4.demote_f64x2_zero (local.get $${a}_lo)) (f32x4.demote_f64x2_zero (local.get $${a}_hi)))`;

  let halves = '';
  for (const high of [false, true]) {
    const h = high ? 'hi' : 'lo';
    const decayed = `(f64x2.mul ${splat('$decay')} (local.get $w_${h}))`;
    const grad =
      shards === 0
        ? decayed
        : `(f64x2.add ${sum(
            grads.map((g) => widen(`${g}v`, high)),
            'f64x2',
          )} ${decayed})`;
    halves += `
      (local.set $w_${h} ${widen('$wv', high)})
      (local.set $g_${h} ${grad})
      (local.set $m_${h} (f64x2.add (f64x2.mul ${splat('$b1')} ${widen('$mv', high)}) (f64x2.mul ${splat('$c1')} (local.get $g_${h}))))
      (local.set $v_${h} (f64x2.add (f64x2.mul ${splat('$b2')} ${widen('$vv', high)}) (f64x2.mul (f64x2.mul ${splat('$c2')} (local.get $g_${h})) (local.get $g_${h}))))
      (local.set $w_${h} (f64x2.sub (local.get $w_${h}) (f64x2.div (f64x2.mul ${splat('$lr')} (local.get $m_${h})) (f64x2.add (f64x2.sqrt (local.get $v_${h})) ${splat('$eps')}))))`;
  }

  // the last count % 4 floats, one at a time
  const loadOne = (p: string) => `(f64.promote_f32 (f32.load (i32.add (local.get ${p}) (local.get $i))))`;
  const decayedOne = `(f64.mul (local.get $decay) (local.get $w1))`;
  const gradOne = shards === 0 ? decayedOne : `(f64.add ${sum(grads.map(loadOne), 'f64')} ${decayedOne})`;

  const storeTransposed = (value: string) => `
      (f32.store (local.get $wt) ${value})
      (local.set $wt (i32.add (local.get $wt) (local.get $wt_stride)))`;
  const lanes = transposed
    ? [0, 1, 2, 3].map((lane) => storeTransposed(`(f32x4.extract_lane ${lane} (local.get $wn))`)).join('')
    : '';

  return `  (func (export "adam${shards}${transposed ? 't' : ''}") ${params} (param $count i32)
    (param $lr f64) (param $b1 f64) (param $b2 f64) (param $c1 f64) (param $c2 f64) (param $eps f64) (param $decay f64)
    (local $i i32) (local $end i32) (local $vectors_end i32)
    (local $wv v128) ${grads.map((g) => `(local ${g}v v128)`).join(' ')} (local $mv v128) (local $vv v128)
    (local $w_lo v128) (local $w_hi v128) (local $g_lo v128) (local $g_hi v128)
    (local $m_lo v128) (local $m_hi v128) (local $v_lo v128) (local $v_hi v128)
    (local $wn v128) (local $w1 f64) (local $grad1 f64) (local $m1 f64) (local $v1 f64) (local $wn1 f32)
    (local.set $end (i32.shl (local.get $count) (i32.const 2)))
    (local.set $vectors_end (i32.and (local.get $end) (i32.const -16)))
    (block $vectors_done (loop $vectors
      (br_if $vectors_done (i32.ge_u (local.get $i) (local.get $vectors_end)))
      (local.set $wv ${load('$w')})
${grads.map((g) => `      (local.set ${g}v ${load(g)})\n`).join('')}      (local.set $mv ${load('$m')})
      (local.set $vv ${load('$v')})${halves}
      (v128.store (i32.add (local.get $m) (local.get $i)) ${narrow('m')})
      (v128.store (i32.add (local.get $v) (local.get $i)) ${narrow('v')})
      (local.set $wn ${narrow('w')})
      (v128.store (i32.add (local.get $w) (local.get $i)) (local.get $wn))${lanes}
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $vectors)))
    (block $tail_done (loop $tail
      (br_if $tail_done (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $w1 ${loadOne('$w')})
      (local.set $grad1 ${gradOne})
      (local.set $m1 (f64.add (f64.mul (local.get $b1) ${loadOne('$m')}) (f64.mul (local.get $c1) (local.get $grad1))))
      (local.set $v1 (f64.add (f64.mul (local.get $b2) ${loadOne('$v')}) (f64.mul (f64.mul (local.get $c2) (local.get $grad1)) (local.get $grad1))))
      (f32.store (i32.add (local.get $m) (local.get $i)) (f32.demote_f64 (local.get $m1)))
      (f32.store (i32.add (local.get $v) (local.get $i)) (f32.demote_f64 (local.get $v1)))
      (local.set $wn1 (f32.demote_f64 (f64.sub (local.get $w1) (f64.div (f64.mul (local.get $lr) (local.get $m1)) (f64.add (f64.sqrt (local.get $v1)) (local.get $eps))))))
      (f32.store (i32.add (local.get $w) (local.get $i)) (local.get $wn1))${transposed ? storeTransposed('(local.get $wn1)') : ''}
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $tail)))
  )
`;
}

/** ((a + b) + c)...: left to right, as JS adds. */
function sum(terms: string[], type: 'f64' | 'f64x2'): string {
  return terms.reduce((a, b) => `(${type}.add ${a} ${b})`);
}
