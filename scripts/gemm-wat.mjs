// The GEMM functions as WebAssembly text, shared by scripts/build-gemm.mjs (the GEMM module, its own shared memory, for
// the dense products) and scripts/build-ops.mjs (the fused kernels on tfjs-backend-wasm's heap, whose attention kernel
// runs the same micro-kernel on small per-head products). See build-gemm.mjs for what the kernel does.
//   pack(b, out, K, N)            B [K, N] row-major → panels [ceil(N / NR)][K][NR], zero-padded
//   gemm(a, bp, c, Mp, K, Np)     C [Mp, Np] = A [Mp, K] · packed B; Mp % MR == 0, Np % NR == 0
//   unpad(src, dst, rows, Np, N)  rows of Np floats → rows of N floats
export const MR = 2;
export const NV = 4;
export const NR = NV * 4;
/** Cache blocks of the product: K in blocks of KC, rows of A in blocks of MC (a multiple of MR). */
export const KC = 512;
export const MC = 128;


/**
 * The micro-kernel's loop over k (the local $k counts down to 0): per k, the NV vectors of the B panel at `bp` and one
 * splatted A value per row (rows $lda bytes apart from $ap) into the MR × NV accumulators $c{r}_{v}; $ap and `bp`
 * advance. `pad` indents the lines. gemm and the ops module's gemm_swiglu share it, so both compute each element with
 * the same chain of multiply-adds.
 */
export function kLoop(relaxed, bp, pad) {
  const madd = (acc, s, b) => (relaxed
    ? `(local.set ${acc} (f32x4.relaxed_madd (local.get ${s}) (local.get ${b}) (local.get ${acc})))`
    : `(local.set ${acc} (f32x4.add (local.get ${acc}) (f32x4.mul (local.get ${s}) (local.get ${b}))))`);
  const L = ['(block $kend (loop $kloop', '  (br_if $kend (i32.eqz (local.get $k)))'];
  for (let v = 0; v < NV; v++) L.push(`  (local.set $b${v} (v128.load offset=${v * 16} (local.get ${bp})))`);
  for (let r = 0; r < MR; r++) {
    const addr = r === 0 ? '(local.get $ap)' : `(i32.add (local.get $ap) (i32.mul (local.get $lda) (i32.const ${r})))`;
    L.push(`  (local.set $s (v128.load32_splat ${addr}))`);
    for (let v = 0; v < NV; v++) L.push(`  ${madd(`$c${r}_${v}`, '$s', `$b${v}`)}`);
  }
  L.push('  (local.set $ap (i32.add (local.get $ap) (i32.const 4)))', `  (local.set ${bp} (i32.add (local.get ${bp}) (i32.const ${NR * 4})))`,
    '  (local.set $k (i32.sub (local.get $k) (i32.const 1)))', '  (br $kloop)))');
  return L.map((l) => pad + l);
}

export function gemmFunctions(relaxed) {
  const L = [];
  L.push(`  ;; pack(b, out, K, N): B [K, N] row-major → panels [ceil(N / ${NR})][K][${NR}], zero-padded`);
  L.push('  (func $pack (export "pack") (param $b i32) (param $out i32) (param $K i32) (param $N i32)');
  L.push('    (local $j i32) (local $k i32) (local $c i32) (local $src i32) (local $o i32) (local $w i32)');
  L.push('    (local.set $o (local.get $out))');
  L.push('    (block $jend (loop $jloop');
  L.push('      (br_if $jend (i32.ge_u (local.get $j) (local.get $N)))');
  L.push(`      (local.set $w (select (i32.sub (local.get $N) (local.get $j)) (i32.const ${NR}) (i32.lt_u (i32.sub (local.get $N) (local.get $j)) (i32.const ${NR}))))`);
  L.push('      (local.set $k (i32.const 0))');
  L.push('      (block $kend (loop $kloop');
  L.push('        (br_if $kend (i32.ge_u (local.get $k) (local.get $K)))');
  L.push('        (local.set $src (i32.add (local.get $b) (i32.shl (i32.add (i32.mul (local.get $k) (local.get $N)) (local.get $j)) (i32.const 2))))');
  L.push(`        (if (i32.eq (local.get $w) (i32.const ${NR}))`);
  L.push('          (then');
  for (let v = 0; v < NV; v++) L.push(`            (v128.store offset=${16 * v} (local.get $o) (v128.load offset=${16 * v} (local.get $src)))`);
  L.push('          )');
  L.push('          (else');
  L.push('            (local.set $c (i32.const 0))');
  L.push('            (block $cend (loop $cloop');
  L.push(`              (br_if $cend (i32.ge_u (local.get $c) (i32.const ${NR})))`);
  L.push('              (f32.store (i32.add (local.get $o) (i32.shl (local.get $c) (i32.const 2)))');
  L.push('                (select (f32.load (i32.add (local.get $src) (i32.shl (local.get $c) (i32.const 2)))) (f32.const 0) (i32.lt_u (local.get $c) (local.get $w))))');
  L.push('              (local.set $c (i32.add (local.get $c) (i32.const 1)))');
  L.push('              (br $cloop)))))');
  L.push(`        (local.set $o (i32.add (local.get $o) (i32.const ${NR * 4})))`);
  L.push('        (local.set $k (i32.add (local.get $k) (i32.const 1)))');
  L.push('        (br $kloop)))');
  L.push(`      (local.set $j (i32.add (local.get $j) (i32.const ${NR})))`);
  L.push('      (br $jloop)))');
  L.push('  )');
  L.push(`  ;; gemm(a, bp, c, Mp, K, Np): C [Mp, Np] = A [Mp, K] · packed B; Mp % ${MR} == 0, Np % ${NR} == 0.`);
  L.push(`  ;; Blocked for the caches: K in blocks of ${KC} (a tile's accumulators are stored, then reloaded for the next block:`);
  L.push('  ;; the same chain of multiply-adds, so the same bits as one pass), rows in blocks of ' + MC + ' (the block of A');
  L.push('  ;; stays in L2 while every panel of B passes over it).');
  L.push('  (func $gemm (export "gemm") (param $a i32) (param $b i32) (param $c i32) (param $M i32) (param $K i32) (param $N i32)');
  L.push('    (local $i i32) (local $j i32) (local $k i32) (local $ap i32) (local $bp i32) (local $cp i32) (local $ldc i32) (local $lda i32) (local $s v128) (local $panel i32)');
  L.push('    (local $k0 i32) (local $kc i32) (local $i0 i32) (local $i1 i32)');
  for (let r = 0; r < MR; r++) for (let v = 0; v < NV; v++) L.push(`    (local $c${r}_${v} v128)`);
  for (let v = 0; v < NV; v++) L.push(`    (local $b${v} v128)`);
  L.push('    (local.set $ldc (i32.shl (local.get $N) (i32.const 2)))');
  L.push('    (local.set $lda (i32.shl (local.get $K) (i32.const 2)))');
  L.push(`    (local.set $panel (i32.mul (local.get $K) (i32.const ${NR * 4})))`);
  const cAddr = (r) => (r === 0 ? '(local.get $cp)' : `(i32.add (local.get $cp) (i32.mul (local.get $ldc) (i32.const ${r})))`);
  L.push('    (block $k0end (loop $k0loop');
  L.push('      (br_if $k0end (i32.ge_u (local.get $k0) (local.get $K)))');
  L.push(`      (local.set $kc (select (i32.sub (local.get $K) (local.get $k0)) (i32.const ${KC}) (i32.lt_u (i32.sub (local.get $K) (local.get $k0)) (i32.const ${KC}))))`);
  L.push('      (local.set $i0 (i32.const 0))');
  L.push('      (block $i0end (loop $i0loop');
  L.push('        (br_if $i0end (i32.ge_u (local.get $i0) (local.get $M)))');
  L.push(`        (local.set $i1 (select (local.get $M) (i32.add (local.get $i0) (i32.const ${MC})) (i32.lt_u (i32.sub (local.get $M) (local.get $i0)) (i32.const ${MC}))))`);
  L.push('        (local.set $j (i32.const 0))');
  L.push('        (block $jend (loop $jloop');
  L.push('          (br_if $jend (i32.ge_u (local.get $j) (local.get $N)))');
  L.push('          (local.set $i (local.get $i0))');
  L.push('          (block $iend (loop $iloop');
  L.push('            (br_if $iend (i32.ge_u (local.get $i) (local.get $i1)))');
  L.push('            (local.set $cp (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $N)) (local.get $j)) (i32.const 2))))');
  L.push('            (if (i32.eqz (local.get $k0))');
  L.push('              (then');
  for (let r = 0; r < MR; r++) for (let v = 0; v < NV; v++) L.push(`                (local.set $c${r}_${v} (v128.const i32x4 0 0 0 0))`);
  L.push('              )');
  L.push('              (else');
  for (let r = 0; r < MR; r++) for (let v = 0; v < NV; v++) L.push(`                (local.set $c${r}_${v} (v128.load offset=${v * 16} ${cAddr(r)}))`);
  L.push('              ))');
  L.push('            (local.set $ap (i32.add (local.get $a) (i32.add (i32.mul (local.get $i) (local.get $lda)) (i32.shl (local.get $k0) (i32.const 2)))))');
  L.push(`            (local.set $bp (i32.add (i32.add (local.get $b) (i32.mul (i32.div_u (local.get $j) (i32.const ${NR})) (local.get $panel))) (i32.mul (local.get $k0) (i32.const ${NR * 4}))))`);
  L.push('            (local.set $k (local.get $kc))');
  L.push(...kLoop(relaxed, '$bp', '            '));
  for (let r = 0; r < MR; r++) for (let v = 0; v < NV; v++) L.push(`            (v128.store offset=${v * 16} ${cAddr(r)} (local.get $c${r}_${v}))`);
  L.push(`            (local.set $i (i32.add (local.get $i) (i32.const ${MR})))`);
  L.push('            (br $iloop)))');
  L.push(`          (local.set $j (i32.add (local.get $j) (i32.const ${NR})))`);
  L.push('          (br $jloop)))');
  L.push('        (local.set $i0 (local.get $i1))');
  L.push('        (br $i0loop)))');
  L.push('      (local.set $k0 (i32.add (local.get $k0) (local.get $kc)))');
  L.push('      (br $k0loop)))');
  L.push('  )');
  L.push('  ;; unpad(src, dst, rows, Np, N): rows of Np floats → rows of N floats (N <= Np; the padded C of a product)');
  L.push('  (func $unpad (export "unpad") (param $src i32) (param $dst i32) (param $rows i32) (param $Np i32) (param $N i32)');
  L.push('    (local $r i32) (local $sb i32) (local $db i32)');
  L.push('    (local.set $sb (i32.shl (local.get $Np) (i32.const 2)))');
  L.push('    (local.set $db (i32.shl (local.get $N) (i32.const 2)))');
  L.push('    (block $end (loop $loop');
  L.push('      (br_if $end (i32.ge_u (local.get $r) (local.get $rows)))');
  L.push('      (memory.copy (local.get $dst) (local.get $src) (local.get $db))');
  L.push('      (local.set $src (i32.add (local.get $src) (local.get $sb)))');
  L.push('      (local.set $dst (i32.add (local.get $dst) (local.get $db)))');
  L.push('      (local.set $r (i32.add (local.get $r) (i32.const 1)))');
  L.push('      (br $loop)))');
  L.push('  )');
  return L;
}

