#!/usr/bin/env node
// Writes the engine's fused element-wise kernels for the wasm backend (engine/kernels/wasm-ops.ts loads them):
//   engine/kernels/ops.wat        the WebAssembly text, generated below (read this, not the base64)
//   engine/kernels/ops-binary.ts  its binary as base64
// `node scripts/build-ops.mjs` regenerates both; `--check` exits 1 when the committed files differ (a unit test runs it).
//
// Unlike the GEMM module, this one imports tfjs-backend-wasm's OWN memory: its functions read and write tensors in
// place on the backend's heap (pointers are the tensors' byte offsets), so a fused kernel costs one pass over its
// operands and no copies. The kernels, all float32 and 128-bit SIMD (no FMA: products and sums round like the
// reference's separate multiply and add):
//   add_rms_norm(a, b, y, r, rows, D, eps)   y = (a + b) · r,  r = 1 / sqrt(mean((a + b)², last axis) + eps)  (D % 4 = 0)
//   swiglu(g, u, y, n)                        y = (g · sigmoid(g)) · u                                          (n % 4 = 0)
//   swiglu_grad(g, u, dy, dg, du, n)          its gradients: dg = dy·u·σ(g)·(1 + g·(1 − σ(g))), du = dy·g·σ(g)  (n % 4 = 0)
//   rope(x, y, cos, sin, rows, S, H, hd, sgn) rotary embedding, rotate-half convention, on [rows, H·hd] with row r at
//                                             position r mod S: y1 = x1·c − x2·(sgn·s), y2 = x2·c + x1·(sgn·s) for the
//                                             two halves of each head; sgn = −1 is the transpose (the gradient)  (hd % 8 = 0)
//   gemm_swiglu(a, bp, y, M, K, I, tile)     y = silu(a·Wg) ⊙ (a·Wu), the gate|up weight packed by pack: the MLP's two
//                                             products and swiglu in one pass (off the tape)                    (I % 16 = 0)
//   attention(q, k, v, out, scr, …)           softmax(q·kᵀ/√hd)·v per (batch, head) on [B·S, H·hd] rows       (hd % 16 = 0)
//   attention_grad(q, k, v, dO, dq, dk, dv, scr, …)  its gradients for dO, P recomputed the same way (products with the
//                                             GEMM micro-kernel; see the functions for the steps)
//   adam_atan2(p, g, m, v, po, mo, vo, n, …)  one AdamATan2 update (engine/train/adam-atan2.ts) in one pass, the ops in
//                                             the order of its tfjs composition; atan2 is musl's atan2f (what
//                                             tfjs-backend-wasm's Atan2 runs) lane by lane, so the bits are the same
//                                                                                                               (n % 4 = 0)
//   transpose_2d(src, dst, R, C)             dst [C, R] = srcᵀ, 4 × 4 blocks through shuffles (the Transpose kernel of
//                                             2-D float32 tensors: ~6× tfjs-backend-wasm's)
// exp is Cephes' expf (range reduction by ln 2 in two parts, degree-6 polynomial, 2^n built in the exponent bits):
// within ~1 ulp of a correctly rounded expf over the range used here.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';
import { writeOrCheck } from './generated-files.mjs';
import { gemmFunctions, kLoop, MR, NV, NR } from './gemm-wat.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/**
 * x[idx] = x[idx] op s for idx = 0, 16, … < bound (bytes): a row scaled in place by a splatted scalar (the RMS factor,
 * the softmax sum). `pad` indents the text; `labels` names the block and the loop.
 */
function vectorsInPlace(pad, [end, loop], idx, bound, x, op, s) {
  const at = `(i32.add (local.get ${x}) (local.get ${idx}))`;
  return [`(local.set ${idx} (i32.const 0))`, `(block $${end} (loop $${loop}`, `  (br_if $${end} (i32.ge_u (local.get ${idx}) (local.get ${bound})))`,
    `  (v128.store ${at} (f32x4.${op} (v128.load ${at}) (local.get ${s})))`, `  (local.set ${idx} (i32.add (local.get ${idx}) (i32.const 16)))`,
    `  (br $${loop})))`].map((l) => `${pad}${l}\n`).join('');
}

const f4 = (v) => `(v128.const f32x4 ${v} ${v} ${v} ${v})`;

/**
 * Inline exp of 4 lanes (Cephes expf) for U independent vectors at once: `expU(srcs, dsts, pad)` writes exp(srcs[s])
 * into the locals dsts[s]. Inputs are clamped to [-86.5, 88], so that every result is a normal float (≥ 2⁻¹²⁵·0.7: a
 * denormal result costs a microcode assist of ~100 cycles on x86, and the softmax's padding columns hit it on every
 * row); n = round(x·log2 e) comes from adding 1.5·2²³ (its bits
 * then hold n, and (bits + 127) << 23 is 2ⁿ); pmin/pmax are single instructions on x86, unlike min/max.
 * Two things make it fast under V8 (measured on [2624, 512]; docs/benchmarks.md §Kernel work: what was tried): the
 * constants live in locals set once per call (EXP_CONSTS_INIT), since V8 rebuilds a v128.const from general registers
 * each time it is used (shuffle-port instructions that bounded the loop); and the U chains are interleaved step by
 * step, since one chain is a sequence of dependent multiply-adds that left the core waiting (unrolled ×4: 3.3× faster
 * than one chain).
 */
const EXP_CONSTS = [['hi', '88.0'], ['lo', '-86.5'], ['log2e', '1.44269504088896341'], ['magic', '12582912.0'],
  ['c1', '0.693359375'], ['c2', '-2.12194440e-4'], ['p0', '1.9875691500e-4'], ['p1', '1.3981999507e-3'],
  ['p2', '8.3334519073e-3'], ['p3', '4.1665795894e-2'], ['p4', '1.6666665459e-1'], ['p5', '5.0000001201e-1'], ['one', '1.0']];
const EXP_CONSTS_LOCALS = `${EXP_CONSTS.map(([k]) => `(local $k_${k} v128)`).join(' ')} (local $k_bias v128)`;
const EXP_CONSTS_INIT = (pad) => [...EXP_CONSTS.map(([k, v]) => `(local.set $k_${k} ${f4(v)})`),
  '(local.set $k_bias (v128.const i32x4 127 127 127 127))'].map((l) => pad + l).join('\n');
const K = (k) => `(local.get $k_${k})`;
const expLocals = (U) => Array.from({ length: U }, (_, s) => ['ex', 'ej', 'en', 'er', 'ep'].map((v) => `(local $${v}${s} v128)`).join(' ')).join(' ');
function expU(srcs, dsts, pad) {
  const g = (v, s) => `(local.get $${v}${s})`;
  const steps = [
    (s) => `(local.set $ex${s} (f32x4.pmax (f32x4.pmin ${srcs[s]} ${K('hi')}) ${K('lo')}))`,
    (s) => `(local.set $ej${s} (f32x4.add (f32x4.mul ${g('ex', s)} ${K('log2e')}) ${K('magic')}))`,
    (s) => `(local.set $en${s} (f32x4.sub ${g('ej', s)} ${K('magic')}))`,
    (s) => `(local.set $er${s} (f32x4.sub ${g('ex', s)} (f32x4.mul ${g('en', s)} ${K('c1')})))`,
    (s) => `(local.set $er${s} (f32x4.sub ${g('er', s)} (f32x4.mul ${g('en', s)} ${K('c2')})))`,
    (s) => `(local.set $ep${s} (f32x4.add (f32x4.mul ${K('p0')} ${g('er', s)}) ${K('p1')}))`,
    ...['p2', 'p3', 'p4', 'p5'].map((c) => (s) => `(local.set $ep${s} (f32x4.add (f32x4.mul ${g('ep', s)} ${g('er', s)}) ${K(c)}))`),
    (s) => `(local.set $ep${s} (f32x4.add (f32x4.add (f32x4.mul (f32x4.mul ${g('ep', s)} ${g('er', s)}) ${g('er', s)}) ${g('er', s)}) ${K('one')}))`,
    (s) => `(local.set ${dsts[s]} (f32x4.mul ${g('ep', s)} (i32x4.shl (i32x4.add ${g('ej', s)} ${K('bias')}) (i32.const 23))))`,
  ];
  const L = [];
  for (const step of steps) for (let s = 0; s < srcs.length; s++) L.push(pad + step(s));
  return L.join('\n');
}
/**
 * The loops of swiglu and swiglu_grad over n floats of g: U vectors per iteration, then one at a time; each step
 * loads g into $x{s}, puts exp(−g) in $sig{s} and calls `store(s, byteOffset, pad)` for the lane group's results.
 */
function overG(store) {
  return `    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $end4 (i32.and (local.get $end) (i32.const ${-16 * U})))
    (block $e (loop $l
      (br_if $e (i32.ge_u (local.get $i) (local.get $end4)))
${lanes.map((s) => `      (local.set $x${s} (v128.load offset=${16 * s} (i32.add (local.get $g) (local.get $i))))`).join('\n')}
${expU(lanes.map((s) => `(f32x4.neg (local.get $x${s}))`), lanes.map((s) => `$sig${s}`), '      ')}
${lanes.map((s) => store(s, 16 * s, '      ')).join('\n')}
      (local.set $i (i32.add (local.get $i) (i32.const ${16 * U})))
      (br $l)))
    (block $e1 (loop $l1
      (br_if $e1 (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $x0 (v128.load (i32.add (local.get $g) (local.get $i))))
${expU(['(f32x4.neg (local.get $x0))'], ['$sig0'], '      ')}
${store(0, 0, '      ')}
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $l1)))`;
}

/** swiglu's store for lane group s: y = (g · (1 / (1 + exp(−g)))) · u. */
function swigluStore(s, off, pad) {
  return [`(v128.store offset=${off} (i32.add (local.get $y) (local.get $i))`,
    `  (f32x4.mul (f32x4.mul (local.get $x${s}) (f32x4.div ${K('one')} (f32x4.add ${K('one')} (local.get $sig${s}))))`,
    `    (v128.load offset=${off} (i32.add (local.get $u) (local.get $i)))))`].map((l) => pad + l).join('\n');
}
/**
 * swiglu_grad's stores for lane group s (byte offset off from $i): σ from exp(−g) in $sig{s}, then dg and du.
 */
function swigluGradStore(s, off, pad) {
  const at = (p) => `(i32.add (local.get ${p}) (local.get $i))`;
  return [
    `(local.set $sig${s} (f32x4.div ${K('one')} (f32x4.add ${K('one')} (local.get $sig${s}))))`,
    `(local.set $y${s} (v128.load offset=${off} ${at('$dy')}))`,
    `(v128.store offset=${off} ${at('$dg')} (f32x4.mul (f32x4.mul (local.get $y${s}) (v128.load offset=${off} ${at('$u')}))`,
    `  (f32x4.mul (local.get $sig${s}) (f32x4.add ${K('one')} (f32x4.mul (local.get $x${s}) (f32x4.sub ${K('one')} (local.get $sig${s})))))))`,
    `(v128.store offset=${off} ${at('$du')} (f32x4.mul (local.get $y${s}) (f32x4.mul (local.get $x${s}) (local.get $sig${s}))))`,
  ].map((l) => pad + l).join('\n');
}
/**
 * The attention kernel's loop over one (batch, head) block: key rows i < S ($row = $base + i·row stride), and in each
 * the head's columns in 16-byte steps ($d); `body` runs per step. `labels`: the block and loop names of both loops.
 */
function headRows([iend, iloop, dend, dloop], body) {
  return `        (local.set $i (i32.const 0))
        (block $${iend} (loop $${iloop}
          (br_if $${iend} (i32.ge_u (local.get $i) (local.get $S)))
          (local.set $row (i32.add (local.get $base) (i32.mul (local.get $i) (local.get $D4))))
          (local.set $d (i32.const 0))
          (block $${dend} (loop $${dloop}
            (br_if $${dend} (i32.ge_u (local.get $d) (local.get $hd4)))
${body}            (local.set $d (i32.add (local.get $d) (i32.const 16)))
            (br $${dloop})))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $${iloop})))
`;
}

/**
 * The attention kernels' loop over (batch b, head h), with $base the byte offset of the block's first row and head
 * columns in a [B·S, H·hd] tensor; the body goes between the two halves.
 */
const PER_HEAD_OPEN = `    (local.set $b (i32.const 0))
    (block $bend (loop $bloop
      (br_if $bend (i32.ge_u (local.get $b) (local.get $B)))
      (local.set $h (i32.const 0))
      (block $hend (loop $hloop
        (br_if $hend (i32.ge_u (local.get $h) (local.get $H)))
        (local.set $base (i32.add (i32.mul (i32.mul (local.get $b) (local.get $S)) (local.get $D4)) (i32.mul (local.get $h) (local.get $hd4))))
`;
const PER_HEAD_CLOSE = `        (local.set $h (i32.add (local.get $h) (i32.const 1)))
        (br $hloop)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bloop)))
`;
const perHead = (body) => PER_HEAD_OPEN + body + PER_HEAD_CLOSE;

const U = 4;
const lanes = Array.from({ length: U }, (_, s) => s);

/**
 * gemm_swiglu(a, bp, y, M, K, I, tile): y [M, I] = silu(A·Wg) ⊙ (A·Wu) for A [M, K] and the gate|up weight [K, 2I]
 * packed by $pack (gate panels first, then up panels): per 2-row tile of 16 columns, the gate tile is computed with
 * the GEMM micro-kernel's chain and parked at `tile` (128 bytes of scratch), the up tile computed the same way, and
 * silu(gate)·up stored, with swiglu's own formula and exp. Every value is the bits of the separate products followed by
 * swiglu; the gate and up products never reach memory. M % 2 = 0, I % 16 = 0.
 */
function gemmSwiglu(relaxed) {
  const acc = [];
  for (let r = 0; r < MR; r++) for (let v = 0; v < NV; v++) acc.push([r, v, `$c${r}_${v}`]);
  const L = [];
  L.push('  (func (export "gemm_swiglu") (param $a i32) (param $bp i32) (param $y i32) (param $M i32) (param $K i32) (param $I i32) (param $tile i32)');
  L.push('    (local $i i32) (local $j i32) (local $k i32) (local $ap i32) (local $bg i32) (local $bu i32) (local $b i32) (local $yp i32) (local $ldy i32) (local $lda i32)');
  L.push('    (local $panel i32) (local $half i32) (local $pass i32) (local $s v128)');
  L.push(`    ${acc.map(([, , n]) => `(local ${n} v128)`).join(' ')} ${Array.from({ length: NV }, (_, v) => `(local $b${v} v128)`).join(' ')}`);
  L.push(`    ${EXP_CONSTS_LOCALS} ${expLocals(U)} ${lanes.map((l) => `(local $x${l} v128) (local $sig${l} v128)`).join(' ')}`);
  L.push(EXP_CONSTS_INIT('    '));
  L.push('    (local.set $ldy (i32.shl (local.get $I) (i32.const 2)))');
  L.push('    (local.set $lda (i32.shl (local.get $K) (i32.const 2)))');
  L.push(`    (local.set $panel (i32.mul (local.get $K) (i32.const ${NR * 4})))`);
  L.push(`    (local.set $half (i32.mul (i32.div_u (local.get $I) (i32.const ${NR})) (local.get $panel)))`);
  L.push('    (block $jend (loop $jloop');
  L.push('      (br_if $jend (i32.ge_u (local.get $j) (local.get $I)))');
  L.push(`      (local.set $bg (i32.add (local.get $bp) (i32.mul (i32.div_u (local.get $j) (i32.const ${NR})) (local.get $panel))))`);
  L.push('      (local.set $bu (i32.add (local.get $bg) (local.get $half)))');
  L.push('      (local.set $i (i32.const 0))');
  L.push('      (block $iend (loop $iloop');
  L.push('        (br_if $iend (i32.ge_u (local.get $i) (local.get $M)))');
  L.push('        ;; pass 0: the gate tile (parked at $tile), pass 1: the up tile (kept in the accumulators)');
  L.push('        (local.set $pass (i32.const 0))');
  L.push('        (block $pend (loop $ploop');
  L.push('          (br_if $pend (i32.ge_u (local.get $pass) (i32.const 2)))');
  for (const [, , n] of acc) L.push(`          (local.set ${n} (v128.const i32x4 0 0 0 0))`);
  L.push('          (local.set $ap (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $lda))))');
  L.push('          (local.set $b (select (local.get $bu) (local.get $bg) (local.get $pass)))');
  L.push('          (local.set $k (local.get $K))');
  L.push(...kLoop(relaxed, '$b', '          '));
  L.push('          (if (i32.eqz (local.get $pass)) (then');
  acc.forEach(([, , n], t) => L.push(`            (v128.store offset=${16 * t} (local.get $tile) (local.get ${n}))`));
  L.push('          ))');
  L.push('          (local.set $pass (i32.add (local.get $pass) (i32.const 1)))');
  L.push('          (br $ploop)))');
  L.push('        (local.set $yp (i32.add (local.get $y) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $I)) (local.get $j)) (i32.const 2))))');
  // silu(gate) · up, U vectors at a time, exactly swiglu's formula
  for (let g0 = 0; g0 < acc.length; g0 += U) {
    const grp = acc.slice(g0, g0 + U);
    grp.forEach((_, l) => L.push(`        (local.set $x${l} (v128.load offset=${16 * (g0 + l)} (local.get $tile)))`));
    L.push(expU(grp.map((_, l) => `(f32x4.neg (local.get $x${l}))`), grp.map((_, l) => `$sig${l}`), '        '));
    grp.forEach(([r, v, n], l) => {
      const addr = r === 0 ? '(local.get $yp)' : `(i32.add (local.get $yp) (i32.mul (local.get $ldy) (i32.const ${r})))`;
      L.push(`        (v128.store offset=${16 * v} ${addr}`);
      L.push(`          (f32x4.mul (f32x4.mul (local.get $x${l}) (f32x4.div ${K('one')} (f32x4.add ${K('one')} (local.get $sig${l})))) (local.get ${n})))`);
    });
  }
  L.push(`        (local.set $i (i32.add (local.get $i) (i32.const ${MR})))`);
  L.push('        (br $iloop)))');
  L.push(`      (local.set $j (i32.add (local.get $j) (i32.const ${NR})))`);
  L.push('      (br $jloop)))');
  L.push('  )');
  return L.join('\n');
}


/**
 * adam_atan2: per 4 lanes, m' = m·b1 + g·c1, v' = v·b2 + (g·g)·c2, y = m'/bc1, x = √v'/bc2, p' = p·decay − atan2(y, x)·lr,
 * each operation rounded like the tfjs composition it replaces. atan2 for x ≥ +0 (√ of a sum of squares) is musl's
 * atan2f/atanf without branches: t = |y/x|, the reduction of atanf picked by t's bits ((a·t − b)/(c + d·t) with
 * (a, b, c, d) = (1, 0, 1, 0) below 7/16, where it is t itself, (2, 1, 2, 1), (1, 1, 1, 1), (1, 1.5, 1, 1.5) and
 * (0, 1, 0, 1), i.e. −1/t — atanf's id 0…3 for t in [7/16, 11/16), [11/16, 19/16), [19/16, 39/16), [39/16, 2²⁶)),
 * the same polynomial, hi − ((r·s − lo) − r) (which is r − r·s
 * for hi = lo = 0), then atanf's and atan2f's special cases: t < 2⁻¹² gives t, t ≥ 2²⁶ atanhi[3], |y| ≥ 2²⁶·x (bits)
 * or x = 0 gives π/2 (except x = 1, where atan2f calls atanf(y)), y = ±0 gives y, NaN gives x + y; the sign of y last.
 */
const ATAN = [['hi0', '4.6364760399e-01'], ['hi1', '7.8539812565e-01'], ['hi2', '9.8279368877e-01'], ['hi3', '1.5707962513e+00'],
  ['lo0', '5.0121582440e-09'], ['lo1', '3.7748947079e-08'], ['lo2', '3.4473217170e-08'], ['lo3', '7.5497894159e-08'],
  ['t0', '3.3333328366e-01'], ['t1', '-1.9999158382e-01'], ['t2', '1.4253635705e-01'], ['t3', '-1.0648017377e-01'], ['t4', '6.1687607318e-02'],
  ['half_pi', '1.57079637050628662109375'], ['zero', '0'], ['one', '1'], ['two', '2'], ['one5', '1.5']];
const ATAN_BITS = [['abs', '0x7fffffff'], ['sign', '0x80000000'], ['b26', '0x4c800000'], ['b12', '0x39800000'], ['b7_16', '0x3ee00000'],
  ['b11_16', '0x3f300000'], ['b19_16', '0x3f980000'], ['b39_16', '0x401c0000'], ['e26', '0x0d000000'], ['fone', '0x3f800000']];
const A = (k) => `(local.get $a_${k})`;
/** bitselect(yes, no, mask) for a chain of (mask, value) pairs: the first mask that holds wins, else `last`. */
const pick = (pairs, last) => pairs.reduceRight((acc, [mask, val]) => `(v128.bitselect ${val} ${acc} ${mask})`, last);
const adamAtan2 = `  (func (export "adam_atan2") (param $p i32) (param $g i32) (param $m i32) (param $v i32) (param $po i32) (param $mo i32) (param $vo i32) (param $n i32)
    (param $b1 f32) (param $c1 f32) (param $b2 f32) (param $c2 f32) (param $decay f32) (param $bc1 f32) (param $bc2 f32) (param $lr f32)
    (local $i i32) (local $end i32) (local $gv v128) (local $mv v128) (local $vv v128) (local $y v128) (local $x v128) (local $t v128) (local $it v128)
    (local $r v128) (local $z v128) (local $w v128) (local $s v128) (local $q v128) (local $m1 v128) (local $m0 v128) (local $mid1 v128) (local $mid2 v128)
    (local $ay v128) (local $ax v128)
    (local $sb1 v128) (local $sc1 v128) (local $sb2 v128) (local $sc2 v128) (local $sdecay v128) (local $sbc1 v128) (local $sbc2 v128) (local $slr v128)
    ${[...ATAN, ...ATAN_BITS].map(([k]) => `(local $a_${k} v128)`).join(' ')}
${[...ATAN.map(([k, v]) => `(local.set $a_${k} ${f4(v)})`), ...ATAN_BITS.map(([k, v]) => `(local.set $a_${k} (v128.const i32x4 ${v} ${v} ${v} ${v}))`),
  ...['b1', 'c1', 'b2', 'c2', 'decay', 'bc1', 'bc2', 'lr'].map((k) => `(local.set $s${k} (f32x4.splat (local.get $${k})))`)].map((l) => `    ${l}`).join('\n')}
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $e (loop $l
      (br_if $e (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $gv (v128.load (i32.add (local.get $g) (local.get $i))))
      (local.set $mv (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $m) (local.get $i))) (local.get $sb1)) (f32x4.mul (local.get $gv) (local.get $sc1))))
      (local.set $vv (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $v) (local.get $i))) (local.get $sb2))
        (f32x4.mul (f32x4.mul (local.get $gv) (local.get $gv)) (local.get $sc2))))
      (v128.store (i32.add (local.get $mo) (local.get $i)) (local.get $mv))
      (v128.store (i32.add (local.get $vo) (local.get $i)) (local.get $vv))
      (local.set $y (f32x4.div (local.get $mv) (local.get $sbc1)))
      (local.set $x (f32x4.div (f32x4.sqrt (local.get $vv)) (local.get $sbc2)))
      ;; atanf(t), t = |y / x|, by the bits of t (non-negative, so they order like the values)
      (local.set $t (v128.and (f32x4.div (local.get $y) (local.get $x)) ${A('abs')}))
      (local.set $it (local.get $t))
      (local.set $m1 (i32x4.lt_s (local.get $it) ${A('b7_16')}))
      (local.set $m0 (i32x4.lt_s (local.get $it) ${A('b11_16')}))
      (local.set $mid1 (i32x4.lt_s (local.get $it) ${A('b19_16')}))
      (local.set $mid2 (i32x4.lt_s (local.get $it) ${A('b39_16')}))
      (local.set $r (f32x4.div
        (f32x4.sub (f32x4.mul ${pick([['(local.get $m1)', A('one')], ['(local.get $m0)', A('two')], ['(local.get $mid2)', A('one')]], A('zero'))} (local.get $t))
          ${pick([['(local.get $m1)', A('zero')], ['(local.get $m0)', A('one')], ['(local.get $mid1)', A('one')], ['(local.get $mid2)', A('one5')]], A('one'))})
        (f32x4.add ${pick([['(local.get $m1)', A('one')], ['(local.get $m0)', A('two')], ['(local.get $mid2)', A('one')]], A('zero'))}
          (f32x4.mul ${pick([['(local.get $m1)', A('zero')], ['(local.get $m0)', A('one')], ['(local.get $mid1)', A('one')], ['(local.get $mid2)', A('one5')]], A('one'))} (local.get $t)))))
      (local.set $z (f32x4.mul (local.get $r) (local.get $r)))
      (local.set $w (f32x4.mul (local.get $z) (local.get $z)))
      (local.set $s (f32x4.add
        (f32x4.mul (local.get $z) (f32x4.add ${A('t0')} (f32x4.mul (local.get $w) (f32x4.add ${A('t2')} (f32x4.mul (local.get $w) ${A('t4')})))))
        (f32x4.mul (local.get $w) (f32x4.add ${A('t1')} (f32x4.mul (local.get $w) ${A('t3')})))))
      (local.set $q (f32x4.sub
        ${pick([['(local.get $m1)', A('zero')], ['(local.get $m0)', A('hi0')], ['(local.get $mid1)', A('hi1')], ['(local.get $mid2)', A('hi2')]], A('hi3'))}
        (f32x4.sub (f32x4.sub (f32x4.mul (local.get $r) (local.get $s))
          ${pick([['(local.get $m1)', A('zero')], ['(local.get $m0)', A('lo0')], ['(local.get $mid1)', A('lo1')], ['(local.get $mid2)', A('lo2')]], A('lo3'))})
          (local.get $r))))
      (local.set $q ${pick([['(i32x4.lt_s (local.get $it) ' + A('b12') + ')', '(local.get $t)'], ['(i32x4.ge_s (local.get $it) ' + A('b26') + ')', A('hi3')]], '(local.get $q)')})
      ;; atan2f's cases around it (x ≥ +0): |y| ≥ 2²⁶·x by the bits, or x = 0, gives π/2 (not when x = 1); then the sign of y
      (local.set $ay (v128.and (local.get $y) ${A('abs')}))
      (local.set $ax (v128.and (local.get $x) ${A('abs')}))
      (local.set $q (v128.bitselect ${A('half_pi')} (local.get $q)
        (v128.or (i32x4.eq (local.get $ax) ${A('zero')})
          (v128.andnot (i32x4.lt_u (i32x4.add (local.get $ax) ${A('e26')}) (local.get $ay)) (i32x4.eq (local.get $x) ${A('fone')})))))
      (local.set $q (v128.xor (local.get $q) (v128.and (local.get $y) ${A('sign')})))
      (local.set $q (v128.bitselect (local.get $y) (local.get $q) (i32x4.eq (local.get $ay) ${A('zero')})))
      (local.set $q (v128.bitselect (f32x4.add (local.get $x) (local.get $y)) (local.get $q)
        (v128.or (f32x4.ne (local.get $x) (local.get $x)) (f32x4.ne (local.get $y) (local.get $y)))))
      (v128.store (i32.add (local.get $po) (local.get $i))
        (f32x4.sub (f32x4.mul (v128.load (i32.add (local.get $p) (local.get $i))) (local.get $sdecay)) (f32x4.mul (local.get $q) (local.get $slr))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $l)))
  )`;

const opsWat = (RELAXED) => `;; generated by scripts/build-ops.mjs (${RELAXED ? 'relaxed SIMD' : 'SIMD'}); do not edit
(module
  (import "env" "memory" (memory 1))

  (func $hsum (param $v v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))

  (func (export "add_rms_norm") (param $a i32) (param $b i32) (param $y i32) (param $r i32) (param $rows i32) (param $D i32) (param $eps f32)
    (local $row i32) (local $i i32) (local $rb i32) (local $x v128) (local $acc v128) (local $rr f32) (local $s v128)
    (local.set $rb (i32.shl (local.get $D) (i32.const 2)))
    (block $rend (loop $rloop
      (br_if $rend (i32.ge_u (local.get $row) (local.get $rows)))
      (local.set $acc (v128.const i32x4 0 0 0 0))
      (local.set $i (i32.const 0))
      (block $e1 (loop $l1
        (br_if $e1 (i32.ge_u (local.get $i) (local.get $rb)))
        (local.set $x (f32x4.add (v128.load (i32.add (local.get $a) (local.get $i))) (v128.load (i32.add (local.get $b) (local.get $i)))))
        (v128.store (i32.add (local.get $y) (local.get $i)) (local.get $x))
        (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (local.get $x) (local.get $x))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $l1)))
      (local.set $rr (f32.div (f32.const 1)
        (f32.sqrt (f32.add (f32.div (call $hsum (local.get $acc)) (f32.convert_i32_u (local.get $D))) (local.get $eps)))))
      (f32.store (local.get $r) (local.get $rr))
      (local.set $s (f32x4.splat (local.get $rr)))
${vectorsInPlace('      ', ['e2', 'l2'], '$i', '$rb', '$y', 'mul', '$s')}      (local.set $a (i32.add (local.get $a) (local.get $rb)))
      (local.set $b (i32.add (local.get $b) (local.get $rb)))
      (local.set $y (i32.add (local.get $y) (local.get $rb)))
      (local.set $r (i32.add (local.get $r) (i32.const 4)))
      (local.set $row (i32.add (local.get $row) (i32.const 1)))
      (br $rloop)))
  )

  (func (export "swiglu") (param $g i32) (param $u i32) (param $y i32) (param $n i32)
    (local $i i32) (local $end i32) (local $end4 i32) ${EXP_CONSTS_LOCALS} ${expLocals(U)}
    ${lanes.map((s) => `(local $x${s} v128) (local $sig${s} v128)`).join(' ')}
${EXP_CONSTS_INIT('    ')}
${overG((s, off, pad) => swigluStore(s, off, pad))}
  )

  ;; swiglu_grad(g, u, dy, dg, du, n): the gradients of swiglu for dy, in the order of the tfjs composition they
  ;; replace: σ = 1 / (1 + exp(−g)), dg = (dy · u) · (σ · (1 + g · (1 − σ))), du = dy · (g · σ)      (n % 4 = 0)
  (func (export "swiglu_grad") (param $g i32) (param $u i32) (param $dy i32) (param $dg i32) (param $du i32) (param $n i32)
    (local $i i32) (local $end i32) (local $end4 i32) ${EXP_CONSTS_LOCALS} ${expLocals(U)}
    ${lanes.map((s) => `(local $x${s} v128) (local $sig${s} v128) (local $y${s} v128)`).join(' ')}
${EXP_CONSTS_INIT('    ')}
${overG(swigluGradStore)}
  )

  (func (export "rope") (param $x i32) (param $y i32) (param $cos i32) (param $sin i32) (param $rows i32) (param $S i32) (param $H i32) (param $hd i32) (param $sgn f32)
    (local $row i32) (local $h i32) (local $i i32) (local $pos i32) (local $half i32) (local $cb i32) (local $sb i32) (local $xb i32) (local $yb i32)
    (local $x1 v128) (local $x2 v128) (local $c1 v128) (local $c2 v128) (local $s1 v128) (local $s2 v128) (local $sg v128)
    (local.set $half (i32.shl (local.get $hd) (i32.const 1)))
    (local.set $sg (f32x4.splat (local.get $sgn)))
    (block $rend (loop $rloop
      (br_if $rend (i32.ge_u (local.get $row) (local.get $rows)))
      (local.set $cb (i32.add (local.get $cos) (i32.mul (local.get $pos) (i32.shl (local.get $hd) (i32.const 2)))))
      (local.set $sb (i32.add (local.get $sin) (i32.mul (local.get $pos) (i32.shl (local.get $hd) (i32.const 2)))))
      (local.set $h (i32.const 0))
      (block $hend (loop $hloop
        (br_if $hend (i32.ge_u (local.get $h) (local.get $H)))
        (local.set $i (i32.const 0))
        (block $iend (loop $iloop
          (br_if $iend (i32.ge_u (local.get $i) (local.get $half)))
          (local.set $xb (i32.add (local.get $x) (local.get $i)))
          (local.set $yb (i32.add (local.get $y) (local.get $i)))
          (local.set $x1 (v128.load (local.get $xb)))
          (local.set $x2 (v128.load (i32.add (local.get $xb) (local.get $half))))
          (local.set $c1 (v128.load (i32.add (local.get $cb) (local.get $i))))
          (local.set $c2 (v128.load (i32.add (i32.add (local.get $cb) (local.get $i)) (local.get $half))))
          (local.set $s1 (f32x4.mul (v128.load (i32.add (local.get $sb) (local.get $i))) (local.get $sg)))
          (local.set $s2 (f32x4.mul (v128.load (i32.add (i32.add (local.get $sb) (local.get $i)) (local.get $half))) (local.get $sg)))
          (v128.store (local.get $yb) (f32x4.add (f32x4.mul (local.get $x1) (local.get $c1)) (f32x4.mul (f32x4.neg (local.get $x2)) (local.get $s1))))
          (v128.store (i32.add (local.get $yb) (local.get $half)) (f32x4.add (f32x4.mul (local.get $x2) (local.get $c2)) (f32x4.mul (local.get $x1) (local.get $s2))))
          (local.set $i (i32.add (local.get $i) (i32.const 16)))
          (br $iloop)))
        (local.set $x (i32.add (local.get $x) (i32.shl (local.get $hd) (i32.const 2))))
        (local.set $y (i32.add (local.get $y) (i32.shl (local.get $hd) (i32.const 2))))
        (local.set $h (i32.add (local.get $h) (i32.const 1)))
        (br $hloop)))
      (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
      (if (i32.eq (local.get $pos) (local.get $S)) (then (local.set $pos (i32.const 0))))
      (local.set $row (i32.add (local.get $row) (i32.const 1)))
      (br $rloop)))
  )

  ;; softmax_rows(sc, S, Np): each row i < S of sc [·, Np] becomes the softmax of its first S columns; the columns
  ;; S..Np−1 are set to −3.4e38 first (their exp, ~1e-38, adds nothing to sums ≥ 1), then back to 0.
  (func $softmax_rows (param $sc i32) (param $S i32) (param $Np i32)
    (local $i i32) (local $j i32) (local $rowb i32) (local $n4 i32) (local $mv v128) (local $m f32) (local $sum v128) (local $inv v128)
    ${EXP_CONSTS_LOCALS} ${expLocals(U)} ${lanes.map((l) => `(local $e${l} v128)`).join(' ')}
${EXP_CONSTS_INIT('    ')}
    (local.set $i (i32.const 0))
    (block $send (loop $sloop
      (br_if $send (i32.ge_u (local.get $i) (local.get $S)))
      (local.set $rowb (i32.add (local.get $sc) (i32.shl (i32.mul (local.get $i) (local.get $Np)) (i32.const 2))))
      (local.set $j (local.get $S))
      (block $pend (loop $ploop
        (br_if $pend (i32.ge_u (local.get $j) (local.get $Np)))
        (f32.store (i32.add (local.get $rowb) (i32.shl (local.get $j) (i32.const 2))) (f32.const -3.4e38))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $ploop)))
      (local.set $n4 (i32.shl (local.get $Np) (i32.const 2)))
      (local.set $mv (v128.load (local.get $rowb)))
      (local.set $j (i32.const 16))
      (block $mend (loop $mloop
        (br_if $mend (i32.ge_u (local.get $j) (local.get $n4)))
        (local.set $mv (f32x4.pmax (local.get $mv) (v128.load (i32.add (local.get $rowb) (local.get $j)))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $mloop)))
      (local.set $m (f32.max (f32.max (f32x4.extract_lane 0 (local.get $mv)) (f32x4.extract_lane 1 (local.get $mv)))
                             (f32.max (f32x4.extract_lane 2 (local.get $mv)) (f32x4.extract_lane 3 (local.get $mv)))))
      (local.set $mv (f32x4.splat (local.get $m)))
      (local.set $sum (v128.const i32x4 0 0 0 0))
      (local.set $j (i32.const 0))
      (block $xend4 (loop $xloop4
        (br_if $xend4 (i32.gt_u (i32.add (local.get $j) (i32.const ${16 * U})) (local.get $n4)))
${expU(lanes.map((l) => `(f32x4.sub (v128.load offset=${16 * l} (i32.add (local.get $rowb) (local.get $j))) (local.get $mv))`), lanes.map((l) => `$e${l}`), '        ')}
${lanes.map((l) => `        (v128.store offset=${16 * l} (i32.add (local.get $rowb) (local.get $j)) (local.get $e${l}))`).join('\n')}
        (local.set $sum (f32x4.add (local.get $sum) ${lanes.slice(1).reduce((acc, l) => `(f32x4.add ${acc} (local.get $e${l}))`, '(local.get $e0)')}))
        (local.set $j (i32.add (local.get $j) (i32.const ${16 * U})))
        (br $xloop4)))
      (block $xend (loop $xloop
        (br_if $xend (i32.ge_u (local.get $j) (local.get $n4)))
${expU(['(f32x4.sub (v128.load (i32.add (local.get $rowb) (local.get $j))) (local.get $mv))'], ['$e0'], '        ')}
        (v128.store (i32.add (local.get $rowb) (local.get $j)) (local.get $e0))
        (local.set $sum (f32x4.add (local.get $sum) (local.get $e0)))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $xloop)))
      ;; the padding columns back to 0 (their exp, ~3e-38, divided by the sum would be a denormal: slow, and useless)
      (local.set $j (local.get $S))
      (block $zend (loop $zloop
        (br_if $zend (i32.ge_u (local.get $j) (local.get $Np)))
        (f32.store (i32.add (local.get $rowb) (i32.shl (local.get $j) (i32.const 2))) (f32.const 0))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $zloop)))
      (local.set $inv (f32x4.splat (call $hsum (local.get $sum))))
${vectorsInPlace('      ', ['nend', 'nloop'], '$j', '$n4', '$rowb', 'div', '$inv')}      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $sloop)))
  )

  ;; attention(q, k, v, out, scr, B, S, H, hd, scale): non-causal softmax attention per (batch, head) on [B·S, H·hd]
  ;; rows (head-major columns), out in the same layout; hd % 16 = 0. Per (b, h): Q·scale gathered into qa [Sp, hd],
  ;; Kᵀ packed into 16-column panels, scores = gemm [Sp, Np], softmax over the first S columns of each row (the
  ;; columns S..Np−1 are set to −3.4e38 first: their exp is ~1e-38, added to sums ≥ 1, and they meet zero rows
  ;; of V), V packed (rows ≥ S zero), O = gemm [Sp, hd], scattered back. scr holds qa | kp | sc | vp | o.
  (func (export "attention") (param $q i32) (param $k i32) (param $v i32) (param $out i32) (param $scr i32)
        (param $B i32) (param $S i32) (param $H i32) (param $hd i32) (param $scale f32)
    (local $b i32) (local $h i32) (local $i i32) (local $j i32) (local $d i32) (local $p i32)
    (local $D4 i32) (local $hd4 i32) (local $Sp i32) (local $Np i32) (local $S4 i32) (local $base i32) (local $row i32) (local $dst i32)
    (local $qa i32) (local $kp i32) (local $sc i32) (local $vp i32) (local $o i32) (local $sv v128) (local $rowb i32)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128) (local $u0 v128) (local $u1 v128) (local $u2 v128) (local $u3 v128)
    (local.set $D4 (i32.shl (i32.mul (local.get $H) (local.get $hd)) (i32.const 2)))
    (local.set $hd4 (i32.shl (local.get $hd) (i32.const 2)))
    (local.set $Sp (i32.add (local.get $S) (i32.and (local.get $S) (i32.const 1))))
    (local.set $Np (i32.and (i32.add (local.get $S) (i32.const 15)) (i32.const -16)))
    (local.set $S4 (i32.and (i32.add (local.get $S) (i32.const 3)) (i32.const -4)))
    (local.set $qa (local.get $scr))
    (local.set $kp (i32.add (local.get $qa) (i32.mul (local.get $Sp) (local.get $hd4))))
    (local.set $sc (i32.add (local.get $kp) (i32.mul (local.get $Np) (local.get $hd4))))
    (local.set $vp (i32.add (local.get $sc) (i32.shl (i32.mul (local.get $Sp) (local.get $Np)) (i32.const 2))))
    (local.set $o (i32.add (local.get $vp) (i32.mul (local.get $Np) (local.get $hd4))))
    ;; padding that no group overwrites: qa's last row, kp's columns ≥ S, vp's rows ≥ S
    (memory.fill (local.get $qa) (i32.const 0) (i32.mul (local.get $Sp) (local.get $hd4)))
    (memory.fill (local.get $kp) (i32.const 0) (i32.mul (local.get $Np) (local.get $hd4)))
    (memory.fill (local.get $vp) (i32.const 0) (i32.mul (local.get $Np) (local.get $hd4)))
    (local.set $sv (f32x4.splat (local.get $scale)))
${PER_HEAD_OPEN}        ;; 1. qa = Q · scale;  5. vp = V (panels of 16 columns)
${headRows(['iend', 'iloop', 'dend', 'dloop'], `            (v128.store (i32.add (i32.add (local.get $qa) (i32.mul (local.get $i) (local.get $hd4))) (local.get $d))
              (f32x4.mul (v128.load (i32.add (i32.add (local.get $q) (local.get $row)) (local.get $d))) (local.get $sv)))
            ;; V row i, columns d..d+3 → panel d/16, row i, lane d%16
            (v128.store (i32.add (local.get $vp)
                (i32.add (i32.shl (i32.add (i32.mul (i32.shr_u (local.get $d) (i32.const 6)) (local.get $Np)) (local.get $i)) (i32.const 6))
                         (i32.and (local.get $d) (i32.const 63))))
              (v128.load (i32.add (i32.add (local.get $v) (local.get $row)) (local.get $d))))
`)}        ;; 2. kp = Kᵀ: four keys at a time, each 4 × 4 block of (keys, dims) transposed with shuffles into panel i/16,
        ;; lanes i%16..i%16+3 of rows d..d+3; the last S mod 4 keys one float at a time ($packT)
        (local.set $i (i32.const 0))
        (block $kend (loop $kloop
          (br_if $kend (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $S)))
          (local.set $row (i32.add (i32.add (local.get $k) (local.get $base)) (i32.mul (local.get $i) (local.get $D4))))
          (local.set $dst (i32.add (local.get $kp) (i32.add (i32.mul (i32.shr_u (local.get $i) (i32.const 4)) (i32.shl (local.get $hd4) (i32.const 4)))
                                                             (i32.shl (i32.and (local.get $i) (i32.const 15)) (i32.const 2)))))
          (local.set $d (i32.const 0))
          (block $kdend (loop $kdloop
            (br_if $kdend (i32.ge_u (local.get $d) (local.get $hd4)))
            (local.set $t0 (v128.load (i32.add (local.get $row) (local.get $d))))
            (local.set $t1 (v128.load (i32.add (i32.add (local.get $row) (local.get $D4)) (local.get $d))))
            (local.set $t2 (v128.load (i32.add (i32.add (local.get $row) (i32.shl (local.get $D4) (i32.const 1))) (local.get $d))))
            (local.set $t3 (v128.load (i32.add (i32.add (local.get $row) (i32.mul (local.get $D4) (i32.const 3))) (local.get $d))))
            (local.set $u0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $t0) (local.get $t1)))
            (local.set $u1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $t0) (local.get $t1)))
            (local.set $u2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $t2) (local.get $t3)))
            (local.set $u3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $t2) (local.get $t3)))
            (local.set $rowb (i32.add (local.get $dst) (i32.shl (local.get $d) (i32.const 4))))
            (v128.store offset=0 (local.get $rowb) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $u0) (local.get $u2)))
            (v128.store offset=64 (local.get $rowb) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $u0) (local.get $u2)))
            (v128.store offset=128 (local.get $rowb) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $u1) (local.get $u3)))
            (v128.store offset=192 (local.get $rowb) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $u1) (local.get $u3)))
            (local.set $d (i32.add (local.get $d) (i32.const 16)))
            (br $kdloop)))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $kloop)))
        (call $packT (i32.add (local.get $k) (local.get $base)) (local.get $D4) (local.get $i) (local.get $S) (local.get $hd) (local.get $kp))
        ;; 3. scores
        (call $gemm (local.get $qa) (local.get $kp) (local.get $sc) (local.get $Sp) (local.get $hd) (local.get $Np))
        ;; 4. softmax of each row over its first S columns
        (call $softmax_rows (local.get $sc) (local.get $S) (local.get $Np))
        ;; 6. O = P · V
        (call $gemm (local.get $sc) (local.get $vp) (local.get $o) (local.get $Sp) (local.get $Np) (local.get $hd))
        ;; 7. scatter O rows back
${headRows(['oend', 'oloop', 'od', 'odl'], `            (v128.store (i32.add (i32.add (local.get $out) (local.get $row)) (local.get $d))
              (v128.load (i32.add (i32.add (local.get $o) (i32.mul (local.get $i) (local.get $hd4))) (local.get $d))))
`)}${PER_HEAD_CLOSE}  )

  ;; Helpers of attention_grad, per (batch, head) block of [B·S, H·hd] rows (row stride D4 bytes, head width hd4 bytes):
  ;; gather rows i < S into a contiguous [S, hd] (times sv), scatter them back (times sv; both through $rows: S rows of
  ;; hd4 bytes from a stride to a stride), pack them transposed into
  ;; 16-column panels [Np / 16][hd][16] from key i on (columns ≥ S left as they are: zero), and transpose a contiguous
  ;; matrix.
  (func $rows (param $src i32) (param $ss i32) (param $dst i32) (param $ds i32) (param $S i32) (param $hd4 i32) (param $sv v128)
    (local $i i32) (local $d i32)
    (block $iend (loop $iloop
      (br_if $iend (i32.ge_u (local.get $i) (local.get $S)))
      (local.set $d (i32.const 0))
      (block $dend (loop $dloop
        (br_if $dend (i32.ge_u (local.get $d) (local.get $hd4)))
        (v128.store (i32.add (local.get $dst) (local.get $d)) (f32x4.mul (v128.load (i32.add (local.get $src) (local.get $d))) (local.get $sv)))
        (local.set $d (i32.add (local.get $d) (i32.const 16)))
        (br $dloop)))
      (local.set $src (i32.add (local.get $src) (local.get $ss)))
      (local.set $dst (i32.add (local.get $dst) (local.get $ds)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $iloop)))
  )
  (func $gather (param $src i32) (param $D4 i32) (param $S i32) (param $hd4 i32) (param $dst i32) (param $sv v128)
    (call $rows (local.get $src) (local.get $D4) (local.get $dst) (local.get $hd4) (local.get $S) (local.get $hd4) (local.get $sv))
  )
  (func $scatter (param $src i32) (param $D4 i32) (param $S i32) (param $hd4 i32) (param $dst i32) (param $sv v128)
    (call $rows (local.get $src) (local.get $hd4) (local.get $dst) (local.get $D4) (local.get $S) (local.get $hd4) (local.get $sv))
  )
  (func $packT (param $src i32) (param $D4 i32) (param $i i32) (param $S i32) (param $hd i32) (param $dst i32)
    (local $j i32) (local $panel i32)
    (local.set $src (i32.add (local.get $src) (i32.mul (local.get $i) (local.get $D4))))
    (block $iend (loop $iloop
      (br_if $iend (i32.ge_u (local.get $i) (local.get $S)))
      (local.set $panel (i32.add (local.get $dst) (i32.add (i32.mul (i32.shr_u (local.get $i) (i32.const 4)) (i32.shl (local.get $hd) (i32.const 6)))
                                                         (i32.shl (i32.and (local.get $i) (i32.const 15)) (i32.const 2)))))
      (local.set $j (i32.const 0))
      (block $jend (loop $jloop
        (br_if $jend (i32.ge_u (local.get $j) (local.get $hd)))
        (f32.store (i32.add (local.get $panel) (i32.shl (local.get $j) (i32.const 6)))
          (f32.load (i32.add (local.get $src) (i32.shl (local.get $j) (i32.const 2)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $jloop)))
      (local.set $src (i32.add (local.get $src) (local.get $D4)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $iloop)))
  )
  ;; transpose_2d(src, dst, R, C): dst [C, R] = srcᵀ for src [R, C] row-major (the model's 2-D transposes: the weight
  ;; gradients' xᵀ, the input gradients' Wᵀ). 4 × 4 blocks through shuffles, rows in blocks of 4 and, inside, columns
  ;; in blocks of 4: the reads run along 4 source rows, the writes touch C output rows 16 bytes at a time (C · 64 bytes
  ;; of cache lines, in L1 for C ≤ 512). The last C mod 4 columns and R mod 4 rows one float at a time.
  (func (export "transpose_2d") (param $src i32) (param $dst i32) (param $R i32) (param $C i32)
    (local $r i32) (local $c i32) (local $j i32) (local $R4 i32) (local $C4 i32) (local $sp i32) (local $dp i32) (local $rs i32) (local $ds i32)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128) (local $u0 v128) (local $u1 v128) (local $u2 v128) (local $u3 v128)
    (local.set $R4 (i32.and (local.get $R) (i32.const -4)))
    (local.set $C4 (i32.and (local.get $C) (i32.const -4)))
    (local.set $rs (i32.shl (local.get $C) (i32.const 2)))
    (local.set $ds (i32.shl (local.get $R) (i32.const 2)))
    (block $rend (loop $rloop
      (br_if $rend (i32.ge_u (local.get $r) (local.get $R4)))
      (local.set $sp (i32.add (local.get $src) (i32.mul (local.get $r) (local.get $rs))))
      (local.set $dp (i32.add (local.get $dst) (i32.shl (local.get $r) (i32.const 2))))
      (local.set $c (i32.const 0))
      (block $cend (loop $cloop
        (br_if $cend (i32.ge_u (local.get $c) (local.get $C4)))
        (local.set $t0 (v128.load (local.get $sp)))
        (local.set $t1 (v128.load (i32.add (local.get $sp) (local.get $rs))))
        (local.set $t2 (v128.load (i32.add (local.get $sp) (i32.shl (local.get $rs) (i32.const 1)))))
        (local.set $t3 (v128.load (i32.add (local.get $sp) (i32.mul (local.get $rs) (i32.const 3)))))
        (local.set $u0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $t0) (local.get $t1)))
        (local.set $u1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $t0) (local.get $t1)))
        (local.set $u2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $t2) (local.get $t3)))
        (local.set $u3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $t2) (local.get $t3)))
        (v128.store (local.get $dp) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $u0) (local.get $u2)))
        (v128.store (i32.add (local.get $dp) (local.get $ds)) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $u0) (local.get $u2)))
        (v128.store (i32.add (local.get $dp) (i32.shl (local.get $ds) (i32.const 1))) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $u1) (local.get $u3)))
        (v128.store (i32.add (local.get $dp) (i32.mul (local.get $ds) (i32.const 3))) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $u1) (local.get $u3)))
        (local.set $sp (i32.add (local.get $sp) (i32.const 16)))
        (local.set $dp (i32.add (local.get $dp) (i32.shl (local.get $ds) (i32.const 2))))
        (local.set $c (i32.add (local.get $c) (i32.const 4)))
        (br $cloop)))
      ;; the last C mod 4 columns of these 4 rows
      (block $c2end (loop $c2loop
        (br_if $c2end (i32.ge_u (local.get $c) (local.get $C)))
        (local.set $j (i32.const 0))
        (block $jend (loop $jloop
          (br_if $jend (i32.ge_u (local.get $j) (i32.const 4)))
          (f32.store (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $R)) (i32.add (local.get $r) (local.get $j))) (i32.const 2)))
            (f32.load (i32.add (local.get $src) (i32.shl (i32.add (i32.mul (i32.add (local.get $r) (local.get $j)) (local.get $C)) (local.get $c)) (i32.const 2)))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $jloop)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $c2loop)))
      (local.set $r (i32.add (local.get $r) (i32.const 4)))
      (br $rloop)))
    ;; the last R mod 4 rows, every column
    (block $r2end (loop $r2loop
      (br_if $r2end (i32.ge_u (local.get $r) (local.get $R)))
      (local.set $c (i32.const 0))
      (block $c3end (loop $c3loop
        (br_if $c3end (i32.ge_u (local.get $c) (local.get $C)))
        (f32.store (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $R)) (local.get $r)) (i32.const 2)))
          (f32.load (i32.add (local.get $src) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $C)) (local.get $c)) (i32.const 2)))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $c3loop)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $r2loop)))
  )
  (func $transpose (param $src i32) (param $rows i32) (param $cols i32) (param $dst i32)
    (local $r i32) (local $c i32) (local $out i32)
    (block $rend (loop $rloop
      (br_if $rend (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $out (i32.add (local.get $dst) (i32.shl (local.get $r) (i32.const 2))))
      (local.set $c (i32.const 0))
      (block $cend (loop $cloop
        (br_if $cend (i32.ge_u (local.get $c) (local.get $cols)))
        (f32.store (local.get $out) (f32.load (local.get $src)))
        (local.set $src (i32.add (local.get $src) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.shl (local.get $rows) (i32.const 2))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $cloop)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rloop)))
  )

  ;; attention_grad(q, k, v, dO, dq, dk, dv, scr, B, S, H, hd, scale): the gradients of attention for dO, per (batch,
  ;; head), P recomputed exactly as attention computes it: qa = Q·c, P = softmax(qa·Kᵀ) (through $softmax_rows), then
  ;; dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P ⊙ (dP − Σ_j dP ⊙ P), dQ = c·(dS·K), dK = dSᵀ·qa. Padding (the odd query row, the key
  ;; columns S..Np−1) is zero in every operand, so it adds nothing. scr (4·Sp·hd + 5·Np·hd + 2·Sp·Np floats):
  ;; qa | kp | sc | oa | op | pt | t | vt | kr | krp | qp
  (func (export "attention_grad") (param $q i32) (param $k i32) (param $v i32) (param $dO i32) (param $dq i32) (param $dk i32) (param $dv i32)
        (param $scr i32) (param $B i32) (param $S i32) (param $H i32) (param $hd i32) (param $scale f32)
    (local $b i32) (local $h i32) (local $i i32) (local $j i32) (local $D4 i32) (local $hd4 i32) (local $Sp i32) (local $Np i32)
    (local $n4 i32) (local $base i32) (local $rowb i32) (local $prow i32) (local $acc v128) (local $sv v128) (local $one v128) (local $s v128)
    (local $qa i32) (local $kp i32) (local $sc i32) (local $oa i32) (local $op i32) (local $pt i32) (local $t i32) (local $vt i32)
    (local $kr i32) (local $krp i32) (local $qp i32) (local $sh i32) (local $nh i32) (local $ss i32)
    (local.set $D4 (i32.shl (i32.mul (local.get $H) (local.get $hd)) (i32.const 2)))
    (local.set $hd4 (i32.shl (local.get $hd) (i32.const 2)))
    (local.set $Sp (i32.add (local.get $S) (i32.and (local.get $S) (i32.const 1))))
    (local.set $Np (i32.and (i32.add (local.get $S) (i32.const 15)) (i32.const -16)))
    (local.set $n4 (i32.shl (local.get $Np) (i32.const 2)))
    (local.set $sh (i32.mul (local.get $Sp) (local.get $hd4)))
    (local.set $nh (i32.mul (local.get $Np) (local.get $hd4)))
    (local.set $ss (i32.shl (i32.mul (local.get $Sp) (local.get $Np)) (i32.const 2)))
    (local.set $qa (local.get $scr))
    (local.set $kp (i32.add (local.get $qa) (local.get $sh)))
    (local.set $sc (i32.add (local.get $kp) (local.get $nh)))
    (local.set $oa (i32.add (local.get $sc) (local.get $ss)))
    (local.set $op (i32.add (local.get $oa) (local.get $sh)))
    (local.set $pt (i32.add (local.get $op) (local.get $sh)))
    (local.set $t (i32.add (local.get $pt) (local.get $ss)))
    (local.set $vt (i32.add (local.get $t) (local.get $nh)))
    (local.set $kr (i32.add (local.get $vt) (local.get $nh)))
    (local.set $krp (i32.add (local.get $kr) (local.get $nh)))
    (local.set $qp (i32.add (local.get $krp) (local.get $nh)))
    ;; the padding no block overwrites: qa's and oa's odd row, kp's and vt's columns ≥ S, kr's rows ≥ S
    (memory.fill (local.get $scr) (i32.const 0) (i32.sub (i32.add (local.get $qp) (local.get $sh)) (local.get $scr)))
    (local.set $sv (f32x4.splat (local.get $scale)))
    (local.set $one (f32x4.splat (f32.const 1)))
${perHead(`        ;; P = softmax(qa · Kᵀ), as in attention
        (call $gather (i32.add (local.get $q) (local.get $base)) (local.get $D4) (local.get $S) (local.get $hd4) (local.get $qa) (local.get $sv))
        (call $packT (i32.add (local.get $k) (local.get $base)) (local.get $D4) (i32.const 0) (local.get $S) (local.get $hd) (local.get $kp))
        (call $gemm (local.get $qa) (local.get $kp) (local.get $sc) (local.get $Sp) (local.get $hd) (local.get $Np))
        (call $softmax_rows (local.get $sc) (local.get $S) (local.get $Np))
        ;; dV = Pᵀ · dO
        (call $gather (i32.add (local.get $dO) (local.get $base)) (local.get $D4) (local.get $S) (local.get $hd4) (local.get $oa) (local.get $one))
        (call $pack (local.get $oa) (local.get $op) (local.get $Sp) (local.get $hd))
        (call $transpose (local.get $sc) (local.get $Sp) (local.get $Np) (local.get $pt))
        (call $gemm (local.get $pt) (local.get $op) (local.get $t) (local.get $Np) (local.get $Sp) (local.get $hd))
        (call $scatter (local.get $t) (local.get $D4) (local.get $S) (local.get $hd4) (i32.add (local.get $dv) (local.get $base)) (local.get $one))
        ;; dP = dO · Vᵀ (into pt), then dS = P ⊙ (dP − Σ dP ⊙ P) in place, row by row (rows ≥ S stay zero)
        (call $packT (i32.add (local.get $v) (local.get $base)) (local.get $D4) (i32.const 0) (local.get $S) (local.get $hd) (local.get $vt))
        (call $gemm (local.get $oa) (local.get $vt) (local.get $pt) (local.get $Sp) (local.get $hd) (local.get $Np))
        (local.set $i (i32.const 0))
        (block $send (loop $sloop
          (br_if $send (i32.ge_u (local.get $i) (local.get $S)))
          (local.set $rowb (i32.add (local.get $pt) (i32.mul (local.get $i) (local.get $n4))))
          (local.set $prow (i32.add (local.get $sc) (i32.mul (local.get $i) (local.get $n4))))
          (local.set $acc (v128.const i32x4 0 0 0 0))
          (local.set $j (i32.const 0))
          (block $aend (loop $aloop
            (br_if $aend (i32.ge_u (local.get $j) (local.get $n4)))
            (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load (i32.add (local.get $rowb) (local.get $j))) (v128.load (i32.add (local.get $prow) (local.get $j))))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $aloop)))
          (local.set $s (f32x4.splat (call $hsum (local.get $acc))))
          (local.set $j (i32.const 0))
          (block $dend (loop $dloop
            (br_if $dend (i32.ge_u (local.get $j) (local.get $n4)))
            (v128.store (i32.add (local.get $rowb) (local.get $j))
              (f32x4.mul (v128.load (i32.add (local.get $prow) (local.get $j))) (f32x4.sub (v128.load (i32.add (local.get $rowb) (local.get $j))) (local.get $s))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $dloop)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $sloop)))
        ;; dQ = c · (dS · K)
        (call $gather (i32.add (local.get $k) (local.get $base)) (local.get $D4) (local.get $S) (local.get $hd4) (local.get $kr) (local.get $one))
        (call $pack (local.get $kr) (local.get $krp) (local.get $Np) (local.get $hd))
        (call $gemm (local.get $pt) (local.get $krp) (local.get $t) (local.get $Sp) (local.get $Np) (local.get $hd))
        (call $scatter (local.get $t) (local.get $D4) (local.get $S) (local.get $hd4) (i32.add (local.get $dq) (local.get $base)) (local.get $sv))
        ;; dK = dSᵀ · qa
        (call $transpose (local.get $pt) (local.get $Sp) (local.get $Np) (local.get $sc))
        (call $pack (local.get $qa) (local.get $qp) (local.get $Sp) (local.get $hd))
        (call $gemm (local.get $sc) (local.get $qp) (local.get $t) (local.get $Np) (local.get $Sp) (local.get $hd))
        (call $scatter (local.get $t) (local.get $D4) (local.get $S) (local.get $hd4) (i32.add (local.get $dk) (local.get $base)) (local.get $one))
`)}  )
${adamAtan2}
${gemmSwiglu(RELAXED)}
${gemmFunctions(RELAXED).join('\n')}
)
`;

const wabt = await wabtInit();
const binary = (wat, relaxed) => Buffer.from(wabt.parseWat('ops.wat', wat, { simd: true, relaxed_simd: relaxed, threads: true, bulk_memory: true }).toBinary({}).buffer).toString('base64');
// The threaded tfjs-backend-wasm build has a shared memory: the same module, importing a shared memory.
const shared = (wat) => wat.replace('(memory 1))', '(memory 1 65536 shared))');
const WAT = opsWat(true);
const watFile = path.join(root, 'engine/kernels/ops.wat');
const binFile = path.join(root, 'engine/kernels/ops-binary.ts');
const binText = `// Generated by scripts/build-ops.mjs from engine/kernels/ops.wat; do not edit. Regenerate: node scripts/build-ops.mjs
/** The fused kernels on the wasm backend's own memory, with relaxed SIMD (the attention products use an FMA). */
export const OPS_RELAXED_WASM = '${binary(WAT, true)}';
/** The same with plain SIMD, for engines without relaxed SIMD. */
export const OPS_SIMD_WASM = '${binary(opsWat(false), false)}';
/** Both importing a shared memory (the threaded tfjs-backend-wasm build). */
export const OPS_RELAXED_SHARED_WASM = '${binary(shared(WAT), true)}';
export const OPS_SIMD_SHARED_WASM = '${binary(shared(opsWat(false)), false)}';
`;
writeOrCheck(root, [[watFile, WAT], [binFile, binText]], 'ops kernel', 'node scripts/build-ops.mjs');
