/** Items and rows per block of the kernel's inner loop: 8 accumulators, 11 vector registers live (x64 has 16). An odd last item runs alone. */
const ITEM_BLOCK = 2;
const ROW_BLOCK = 4;

/**
 * The WebAssembly text of `dot_i16` and `dot_i8`: approximate scores of `rows` quantised rows
 * against every item's quantised weights, with `i32x4.dot_i16x8_s` (8 products an instruction,
 * against 4 per two instructions for a float32 product without fused multiply-add).
 *
 *   out[i * rows + r] = bias[i] + f32(sum_k w[i][k] * h[r][k]) * (itemScale[i] * rowScale[r])
 *
 * w is items x k int16 (dot_i16) or int8 (dot_i8, widened to int16 as it is loaded: half the
 * bytes streamed per item for the same instructions), item-major, k a multiple of 8; h rows x k
 * int16, out items x rows float32 (items-major, as the decoder's product leaves its scores). The
 * integer sums wrap: the caller quantises so that no sum can pass 2^31. Blocks of 2 items x 4 rows
 * share their loads; the remaining items and rows run in smaller blocks of the same code.
 */
export function dotI16Wat(): string {
  return `(module
  (import "env" "memory" (memory 1))
  ${dotFunction('dot_i16', 2)}
  ${dotFunction('dot_i8', 1)}
)
`;
}

/** Bytes of an item's weight: 2 (int16) or 1 (int8, sign-extended to int16 by its load). */
type WeightBytes = 1 | 2;

function dotFunction(name: string, bytes: WeightBytes): string {
  return `(func (export "${name}") (param $w i32) (param $h i32) (param $item_scale i32) (param $row_scale i32) (param $bias i32) (param $out i32)
    (param $items i32) (param $rows i32) (param $k i32)
    (local $kb i32) (local $kw i32) (local $i i32) (local $r i32) (local $wi i32) (local $hr i32) (local $j i32)
    (local $items_main i32) (local $rows_main i32)
    ${locals()}
    (local.set $kb (i32.shl (local.get $k) (i32.const 1)))
    (local.set $kw (i32.mul (local.get $k) (i32.const ${bytes})))
    (local.set $items_main (i32.and (local.get $items) (i32.const ${-ITEM_BLOCK})))
    (local.set $rows_main (i32.and (local.get $rows) (i32.const ${-ROW_BLOCK})))
    ${itemLoop(ITEM_BLOCK, '$items_main', bytes)}
    (if (i32.lt_u (local.get $i) (local.get $items)) (then ${itemBody(1, bytes)}))
  )`;
}

function locals(): string {
  const out: string[] = [];
  for (let a = 0; a < ITEM_BLOCK; a++) {
    out.push(`(local $wv${a} v128)`);
    for (let b = 0; b < ROW_BLOCK; b++) out.push(`(local $acc${a}${b} v128)`);
  }
  out.push('(local $hv v128)');
  return out.join(' ');
}

/** Items [i, end) in blocks of `ib`. */
function itemLoop(ib: number, end: string, bytes: WeightBytes): string {
  return `(local.set $i (i32.const 0))
    (block $items_done (loop $items_loop
      (br_if $items_done (i32.ge_u (local.get $i) (local.get ${end})))
      ${itemBody(ib, bytes)}
      (local.set $i (i32.add (local.get $i) (i32.const ${ib})))
      (br $items_loop)))`;
}

/** Items [i, i + ib) against every row: blocks of 4 rows, then the remaining rows one at a time. */
function itemBody(ib: number, bytes: WeightBytes): string {
  return `(local.set $wi (i32.add (local.get $w) (i32.mul (local.get $i) (local.get $kw))))
      (local.set $r (i32.const 0))
      (block $rows_done (loop $rows_loop
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows_main)))
        ${block(ib, ROW_BLOCK, bytes)}
        (local.set $r (i32.add (local.get $r) (i32.const ${ROW_BLOCK})))
        (br $rows_loop)))
      (block $tail_done (loop $tail_loop
        (br_if $tail_done (i32.ge_u (local.get $r) (local.get $rows)))
        ${block(ib, 1, bytes)}
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $tail_loop)))`;
}

/** Items [i, i + ib) x rows [r, r + rb): the k loop, then each sum scaled, biased and stored. */
function block(ib: number, rb: number, bytes: WeightBytes): string {
  const pairs: [number, number][] = [];
  for (let a = 0; a < ib; a++) for (let b = 0; b < rb; b++) pairs.push([a, b]);
  const zero = pairs.map(([a, b]) => `(local.set $acc${a}${b} (v128.const i32x4 0 0 0 0))`).join(' ');
  // item a's row starts a * kw bytes on; j counts h's bytes, of which an int8 item has half
  const at = (a: number) => {
    const row = a === 0 ? '(local.get $wi)' : '(i32.add (local.get $wi) (local.get $kw))';
    return bytes === 2
      ? `(i32.add ${row} (local.get $j))`
      : `(i32.add ${row} (i32.shr_u (local.get $j) (i32.const 1)))`;
  };
  const wLoad = (a: number) => `(local.set $wv${a} (${bytes === 2 ? 'v128.load' : 'v128.load8x8_s'} ${at(a)}))`;
  const rowsOf = Array.from({ length: rb }, (_, b) => {
    const hLoad = `(local.set $hv (v128.load (i32.add (i32.add (local.get $hr) (i32.mul (i32.const ${b}) (local.get $kb))) (local.get $j))))`;
    const dots = Array.from(
      { length: ib },
      (_, a) =>
        `(local.set $acc${a}${b} (i32x4.add (local.get $acc${a}${b}) (i32x4.dot_i16x8_s (local.get $wv${a}) (local.get $hv))))`,
    );
    return [hLoad, ...dots].join('\n          ');
  });
  const stores = pairs.map(([a, b]) => store(a, b)).join('\n        ');
  return `(local.set $hr (i32.add (local.get $h) (i32.mul (local.get $r) (local.get $kb))))
        ${zero}
        (local.set $j (i32.const 0))
        (loop $k_loop
          ${Array.from({ length: ib }, (_, a) => wLoad(a)).join('\n          ')}
          ${rowsOf.join('\n          ')}
          (br_if $k_loop (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 16))) (local.get $kb))))
        ${stores}`;
}

/** out[(i + a) * rows + r + b] = bias + f32(lane sum) * scales. */
function store(a: number, b: number): string {
  const acc = `(local.get $acc${a}${b})`;
  const item = a === 0 ? '(local.get $i)' : `(i32.add (local.get $i) (i32.const ${a}))`;
  const row = b === 0 ? '(local.get $r)' : `(i32.add (local.get $r) (i32.const ${b}))`;
  const f32At = (base: string, index: string) =>
    `(f32.load (i32.add (local.get ${base}) (i32.shl ${index} (i32.const 2))))`;
  const sum = `(i32.add (i32.add (i32x4.extract_lane 0 ${acc}) (i32x4.extract_lane 1 ${acc})) (i32.add (i32x4.extract_lane 2 ${acc}) (i32x4.extract_lane 3 ${acc})))`;
  const value = `(f32.add ${f32At('$bias', item)} (f32.mul (f32.convert_i32_s ${sum}) (f32.mul ${f32At('$item_scale', item)} ${f32At('$row_scale', row)})))`;
  return `(f32.store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul ${item} (local.get $rows)) ${row}) (i32.const 2))) ${value})`;
}
