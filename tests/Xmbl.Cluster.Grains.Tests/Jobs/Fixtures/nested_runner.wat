;; Reads stdin: 64 hex digits (a module's SHA-256), then the child's input. Runs the child with
;; xmbl.run_module and writes "<result>:" followed by the child's output to stdout.
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "xmbl" "run_module" (func $run_module (param i32 i32 i32 i32 i32 i32) (result i64)))
  (memory (export "memory") 2)
  ;; 0..7: iovec, 8..11: count, 16..31: decimal scratch, 1024..: stdin, 32768..: child output
  (func $read_all (result i32)
    (local $total i32)
    (block $done
      (loop $more
        (i32.store (i32.const 0) (i32.add (i32.const 1024) (local.get $total)))
        (i32.store (i32.const 4) (i32.sub (i32.const 31744) (local.get $total)))
        (drop (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
        (br_if $done (i32.eqz (i32.load (i32.const 8))))
        (local.set $total (i32.add (local.get $total) (i32.load (i32.const 8))))
        (br $more)))
    (local.get $total))
  (func $write (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  ;; Writes a signed i64 in decimal followed by ':'.
  (func $write_number (param $n i64)
    (local $p i32) (local $neg i32)
    (local.set $p (i32.const 31))
    (i32.store8 (local.get $p) (i32.const 58))
    (if (i64.lt_s (local.get $n) (i64.const 0))
      (then (local.set $neg (i32.const 1)) (local.set $n (i64.sub (i64.const 0) (local.get $n)))))
    (loop $digits
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p) (i32.wrap_i64 (i64.add (i64.const 48) (i64.rem_u (local.get $n) (i64.const 10)))))
      (local.set $n (i64.div_u (local.get $n) (i64.const 10)))
      (br_if $digits (i64.ne (local.get $n) (i64.const 0))))
    (if (local.get $neg)
      (then (local.set $p (i32.sub (local.get $p) (i32.const 1))) (i32.store8 (local.get $p) (i32.const 45))))
    (call $write (local.get $p) (i32.sub (i32.const 32) (local.get $p))))
  (func (export "_start")
    (local $len i32) (local $result i64)
    (local.set $len (call $read_all))
    (local.set $result
      (call $run_module (i32.const 1024) (i32.const 64)
        (i32.const 1088) (i32.sub (local.get $len) (i32.const 64))
        (i32.const 32768) (i32.const 32768)))
    (call $write_number (local.get $result))
    (if (i64.gt_s (local.get $result) (i64.const 0))
      (then (call $write (i32.const 32768) (i32.wrap_i64 (local.get $result)))))))
