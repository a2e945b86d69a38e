/**
 * The WebAssembly text of `dot_f32_listed`: one hidden row's exact scores of listed items, summed
 * as the wasm backend's matMul sums an output-layer score (bias first, then each product in k
 * order, every step rounded to float32), so the same bits as a decode.
 *
 *   out[n] = (withBias ? row[0] : 0) + row[1] * h[0] + ... + row[width] * h[width - 1],
 *   row = rows + list[n] * stride (bytes): an item's row, its bias then its weights
 *
 * Four listed items at a time, one in each lane: gathered lane by lane, so each lane is still its
 * own sum in order (a SIMD sum over k would change the order, hence the bits). The rest one at a
 * time. Used by ranking's exact rescoring of the candidates the quantised pass leaves.
 */
export function dotF32ListedWat(): string {
  const itemRow = (d: number) =>
    `(local.set $p${d} (i32.add (local.get $rows) (i32.mul (i32.load offset=${4 * d} (i32.add (local.get $list) (i32.shl (local.get $n) (i32.const 2)))) (local.get $stride))))`;
  const biasLane = (d: number) => `(local.set $acc (v128.load32_lane ${d} (local.get $p${d}) (local.get $acc)))`;
  const weightLane = (d: number) =>
    `(local.set $w (v128.load32_lane offset=4 ${d} (i32.add (local.get $p${d}) (local.get $j)) (local.get $w)))`;
  return `(module
  (import "env" "memory" (memory 1))
  (func (export "dot_f32_listed") (param $rows i32) (param $stride i32) (param $hidden i32) (param $width i32)
    (param $list i32) (param $count i32) (param $with_bias i32) (param $out i32)
    (local $n i32) (local $quads i32) (local $end i32) (local $j i32) (local $p i32)
    (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32)
    (local $acc v128) (local $w v128) (local $s f32)
    (local.set $end (i32.shl (local.get $width) (i32.const 2)))
    (local.set $quads (i32.and (local.get $count) (i32.const -4)))
    (block $quads_done (loop $quad
      (br_if $quads_done (i32.ge_u (local.get $n) (local.get $quads)))
      ${[0, 1, 2, 3].map(itemRow).join('\n      ')}
      (local.set $acc (v128.const i32x4 0 0 0 0))
      (if (local.get $with_bias) (then
        ${[0, 1, 2, 3].map(biasLane).join('\n        ')}))
      (local.set $j (i32.const 0))
      (block $k_done (loop $k
        (br_if $k_done (i32.ge_u (local.get $j) (local.get $end)))
        (local.set $w (v128.load32_zero offset=4 (i32.add (local.get $p0) (local.get $j))))
        ${[1, 2, 3].map(weightLane).join('\n        ')}
        (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (local.get $w) (v128.load32_splat (i32.add (local.get $hidden) (local.get $j))))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $k)))
      (v128.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))) (local.get $acc))
      (local.set $n (i32.add (local.get $n) (i32.const 4)))
      (br $quad)))
    (block $rest_done (loop $rest
      (br_if $rest_done (i32.ge_u (local.get $n) (local.get $count)))
      (local.set $p (i32.add (local.get $rows) (i32.mul (i32.load (i32.add (local.get $list) (i32.shl (local.get $n) (i32.const 2)))) (local.get $stride))))
      (local.set $s (f32.const 0))
      (if (local.get $with_bias) (then (local.set $s (f32.load (local.get $p)))))
      (local.set $j (i32.const 0))
      (block $k1_done (loop $k1
        (br_if $k1_done (i32.ge_u (local.get $j) (local.get $end)))
        (local.set $s (f32.add (local.get $s) (f32.mul (f32.load offset=4 (i32.add (local.get $p) (local.get $j))) (f32.load (i32.add (local.get $hidden) (local.get $j))))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $k1)))
      (f32.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))) (local.get $s))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $rest)))
  )
)
`;
}
