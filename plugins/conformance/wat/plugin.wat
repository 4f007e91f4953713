;; The conformance plugin in hand-written WAT: every behaviour of
;; plugins/conformance/README.md, no allocator, no WASI.
;; Memory map: 256.. static strings, 4096 config (1 KiB), 8192 scratch (8 KiB;
;; digests at 12288, their hex at 12352), 16384 body (48 KiB).
(module
  (import "gateway_v1" "config_get" (func $config_get (param i32 i32) (result i32)))
  (import "gateway_v1" "set_error" (func $set_error (param i32 i32)))
  (import "gateway_v1" "log" (func $log (param i32 i32 i32)))
  (import "gateway_v1" "metric_define" (func $metric_define (param i32 i32 i32 i32 i32) (result i32)))
  (import "gateway_v1" "metric_add" (func $metric_add (param i32 f64)))
  (import "gateway_v1" "path_get" (func $path_get (param i32 i32) (result i32)))
  (import "gateway_v1" "path_set" (func $path_set (param i32 i32)))
  (import "gateway_v1" "header_get" (func $header_get (param i32 i32 i32 i32 i32) (result i32)))
  (import "gateway_v1" "header_set" (func $header_set (param i32 i32 i32 i32 i32)))
  (import "gateway_v1" "header_add" (func $header_add (param i32 i32 i32 i32 i32)))
  (import "gateway_v1" "header_remove" (func $header_remove (param i32 i32 i32)))
  (import "gateway_v1" "send_response" (func $send_response (param i32 i32 i32)))
  (import "gateway_v1" "kv_get" (func $kv_get (param i32 i32 i32 i32) (result i32)))
  (import "gateway_v1" "kv_set" (func $kv_set (param i32 i32 i32 i32 i64) (result i32)))
  (import "gateway_v1" "request_body_read" (func $body_read (param i32 i32) (result i32)))
  (import "gateway_v1" "request_body_write" (func $body_write (param i32 i32) (result i32)))
  (import "gateway_v1" "crypto_digest" (func $crypto_digest (param i32 i32 i32 i32 i32 i32 i32) (result i32)))

  (memory (export "memory") 1 1)
  (global $config_len (mut i32) (i32.const 0))
  (global $metric (mut i32) (i32.const -1))

  (data (i32.const 256) "conformance_requests_total")
  (data (i32.const 288) "Requests seen by the conformance plugin.")
  (data (i32.const 336) "conformance request from wat")
  (data (i32.const 368) "/private")
  (data (i32.const 376) "Authorization")
  (data (i32.const 392) "unauthorized")
  (data (i32.const 408) "/old")
  (data (i32.const 412) "/new")
  (data (i32.const 416) "X-Conf-Config")
  (data (i32.const 432) "X-Conf-Lang")
  (data (i32.const 444) "wat")
  (data (i32.const 448) "X-Conf-Remove")
  (data (i32.const 464) "visits")
  (data (i32.const 472) "X-Conf-Visits")
  (data (i32.const 488) "X-Conf-Resp")
  (data (i32.const 500) "X-Upstream-Secret")
  (data (i32.const 520) "config longer than 1024 bytes")
  (data (i32.const 560) "/digest")
  (data (i32.const 568) "abc")
  (data (i32.const 572) "key")
  (data (i32.const 576) "data")
  (data (i32.const 584) "-2")
  (data (i32.const 588) "ok")
  (data (i32.const 592) "0123456789abcdef")
  (data (i32.const 608) "X-Conf-SHA256")
  (data (i32.const 624) "X-Conf-HMAC-SHA256")
  (data (i32.const 648) "X-Conf-HMAC-SHA512")
  (data (i32.const 672) "X-Conf-Digest-Invalid")

  (func (export "gateway_abi_v1"))

  ;; $eq reports whether a[0:n] == b[0:n].
  (func $eq (param $a i32) (param $b i32) (param $n i32) (result i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (if (i32.ne (i32.load8_u (local.get $a)) (i32.load8_u (local.get $b)))
          (then (return (i32.const 0))))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (i32.const 1))

  ;; $digest_header has the host compute alg's digest of data (keyed with key)
  ;; at 12288 and, if it has size bytes, sets request header name to its hex.
  (func $digest_header (param $alg i32) (param $key i32) (param $key_len i32)
                       (param $data i32) (param $data_len i32) (param $size i32)
                       (param $name i32) (param $name_len i32)
    (local $i i32) (local $b i32)
    (if (i32.ne (call $crypto_digest (local.get $alg) (local.get $key) (local.get $key_len)
                                     (local.get $data) (local.get $data_len) (i32.const 12288) (i32.const 64))
                (local.get $size))
      (then (return)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $size)))
        (local.set $b (i32.load8_u (i32.add (i32.const 12288) (local.get $i))))
        (i32.store8 (i32.add (i32.const 12352) (i32.shl (local.get $i) (i32.const 1)))
                    (i32.load8_u (i32.add (i32.const 592) (i32.shr_u (local.get $b) (i32.const 4)))))
        (i32.store8 (i32.add (i32.const 12353) (i32.shl (local.get $i) (i32.const 1)))
                    (i32.load8_u (i32.add (i32.const 592) (i32.and (local.get $b) (i32.const 15)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (call $header_set (i32.const 0) (local.get $name) (local.get $name_len)
                      (i32.const 12352) (i32.shl (local.get $size) (i32.const 1))))

  ;; $digests sets request headers to the host's SHA-256 (alg 1), HMAC-SHA256
  ;; (4) and HMAC-SHA512 (6), and the result of a plain digest given a key.
  (func $digests
    (call $digest_header (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 568) (i32.const 3)
                         (i32.const 32) (i32.const 608) (i32.const 13))
    (call $digest_header (i32.const 4) (i32.const 572) (i32.const 3) (i32.const 576) (i32.const 4)
                         (i32.const 32) (i32.const 624) (i32.const 18))
    (call $digest_header (i32.const 6) (i32.const 572) (i32.const 3) (i32.const 576) (i32.const 4)
                         (i32.const 64) (i32.const 648) (i32.const 18))
    (if (i32.eq (call $crypto_digest (i32.const 1) (i32.const 572) (i32.const 3) (i32.const 568) (i32.const 3)
                                     (i32.const 12288) (i32.const 64))
                (i32.const -2))
      (then (call $header_set (i32.const 0) (i32.const 672) (i32.const 21) (i32.const 584) (i32.const 2)))
      (else (call $header_set (i32.const 0) (i32.const 672) (i32.const 21) (i32.const 588) (i32.const 2)))))

  (func (export "on_configure") (param $len i32) (result i32)
    (global.set $config_len (call $config_get (i32.const 4096) (i32.const 1024)))
    (if (i32.gt_u (global.get $config_len) (i32.const 1024))
      (then
        (call $set_error (i32.const 520) (i32.const 29))
        (return (i32.const 1))))
    (global.set $metric
      (call $metric_define (i32.const 0) (i32.const 256) (i32.const 26) (i32.const 288) (i32.const 40)))
    (i32.lt_s (global.get $metric) (i32.const 0)))

  (func (export "on_request_headers") (result i32)
    (local $n i32)
    (call $log (i32.const 0) (i32.const 336) (i32.const 28))
    (call $metric_add (global.get $metric) (f64.const 1))
    (local.set $n (call $path_get (i32.const 8192) (i32.const 8192)))
    ;; 401 on /private without Authorization.
    (if (i32.and (i32.eq (local.get $n) (i32.const 8))
                 (call $eq (i32.const 8192) (i32.const 368) (i32.const 8)))
      (then
        (if (i32.eq (call $header_get (i32.const 0) (i32.const 376) (i32.const 13) (i32.const 8192) (i32.const 0))
                    (i32.const -1))
          (then
            (call $send_response (i32.const 401) (i32.const 392) (i32.const 12))
            (return (i32.const 1))))))
    ;; /old -> /new
    (if (i32.and (i32.eq (local.get $n) (i32.const 4))
                 (call $eq (i32.const 8192) (i32.const 408) (i32.const 4)))
      (then (call $path_set (i32.const 412) (i32.const 4))))
    (if (i32.and (i32.eq (local.get $n) (i32.const 7))
                 (call $eq (i32.const 8192) (i32.const 560) (i32.const 7)))
      (then (call $digests)))
    (call $header_set (i32.const 0) (i32.const 416) (i32.const 13) (i32.const 4096) (global.get $config_len))
    (call $header_add (i32.const 0) (i32.const 432) (i32.const 11) (i32.const 444) (i32.const 3))
    (call $header_remove (i32.const 0) (i32.const 448) (i32.const 13))
    ;; KV: visits += "x"
    (local.set $n (call $kv_get (i32.const 464) (i32.const 6) (i32.const 8192) (i32.const 8191)))
    (if (i32.or (i32.lt_s (local.get $n) (i32.const 0)) (i32.gt_s (local.get $n) (i32.const 8191)))
      (then (local.set $n (i32.const 0))))
    (i32.store8 (i32.add (i32.const 8192) (local.get $n)) (i32.const 120)) ;; 'x'
    (local.set $n (i32.add (local.get $n) (i32.const 1)))
    (if (i32.eqz (call $kv_set (i32.const 464) (i32.const 6) (i32.const 8192) (local.get $n) (i64.const 0)))
      (then (call $header_set (i32.const 0) (i32.const 472) (i32.const 13) (i32.const 8192) (local.get $n))))
    (i32.const 0))

  (func (export "on_request_body") (result i32)
    (local $n i32)
    (local.set $n (call $body_read (i32.const 16385) (i32.const 49150)))
    (if (i32.and (i32.gt_s (local.get $n) (i32.const 0)) (i32.le_s (local.get $n) (i32.const 49150)))
      (then
        (i32.store8 (i32.const 16384) (i32.const 91)) ;; '['
        (i32.store8 (i32.add (i32.const 16385) (local.get $n)) (i32.const 93)) ;; ']'
        (drop (call $body_write (i32.const 16384) (i32.add (local.get $n) (i32.const 2))))))
    (i32.const 0))

  (func (export "on_response_headers") (result i32)
    (call $header_set (i32.const 1) (i32.const 488) (i32.const 11) (i32.const 444) (i32.const 3))
    (call $header_remove (i32.const 1) (i32.const 500) (i32.const 17))
    (i32.const 0)))
