//go:build wasip1

package plugin

import "unsafe"

// Raw gateway_v1 imports. The module name literal must match abi.HostModule
// (go:wasmimport cannot take a constant); TestImportNames checks it.

//go:wasmimport gateway_v1 features
func hFeatures() uint64

//go:wasmimport gateway_v1 phases_set
func hPhasesSet(mask uint32)

//go:wasmimport gateway_v1 config_get
func hConfigGet(buf unsafe.Pointer, limit uint32) int32

//go:wasmimport gateway_v1 set_error
func hSetError(ptr unsafe.Pointer, n uint32)

//go:wasmimport gateway_v1 log
func hLog(level int32, ptr unsafe.Pointer, n uint32)

//go:wasmimport gateway_v1 header_get
func hHeaderGet(kind uint32, name unsafe.Pointer, nameLen uint32, buf unsafe.Pointer, limit uint32) int32

//go:wasmimport gateway_v1 header_values
func hHeaderValues(kind uint32, name unsafe.Pointer, nameLen uint32, buf unsafe.Pointer, limit uint32) int32

//go:wasmimport gateway_v1 header_names
func hHeaderNames(kind uint32, buf unsafe.Pointer, limit uint32) int32

//go:wasmimport gateway_v1 header_set
func hHeaderSet(kind uint32, name unsafe.Pointer, nameLen uint32, val unsafe.Pointer, valLen uint32)

//go:wasmimport gateway_v1 header_add
func hHeaderAdd(kind uint32, name unsafe.Pointer, nameLen uint32, val unsafe.Pointer, valLen uint32)

//go:wasmimport gateway_v1 header_remove
func hHeaderRemove(kind uint32, name unsafe.Pointer, nameLen uint32)

//go:wasmimport gateway_v1 method_get
func hMethodGet(buf unsafe.Pointer, limit uint32) int32

//go:wasmimport gateway_v1 method_set
func hMethodSet(ptr unsafe.Pointer, n uint32)

//go:wasmimport gateway_v1 path_get
func hPathGet(buf unsafe.Pointer, limit uint32) int32

//go:wasmimport gateway_v1 path_set
func hPathSet(ptr unsafe.Pointer, n uint32)

//go:wasmimport gateway_v1 query_get
func hQueryGet(buf unsafe.Pointer, limit uint32) int32

//go:wasmimport gateway_v1 query_set
func hQuerySet(ptr unsafe.Pointer, n uint32)

//go:wasmimport gateway_v1 route_key_get
func hRouteKeyGet(buf unsafe.Pointer, limit uint32) int32

//go:wasmimport gateway_v1 route_param_get
func hRouteParamGet(name unsafe.Pointer, nameLen uint32, buf unsafe.Pointer, limit uint32) int32

//go:wasmimport gateway_v1 client_ip_get
func hClientIPGet(buf unsafe.Pointer, limit uint32) int32

//go:wasmimport gateway_v1 tls_info_get
func hTLSInfoGet(field uint32, buf unsafe.Pointer, limit uint32) int32

//go:wasmimport gateway_v1 request_id_get
func hRequestIDGet(buf unsafe.Pointer, limit uint32) int32

//go:wasmimport gateway_v1 request_body_read
func hRequestBodyRead(buf unsafe.Pointer, limit uint32) int32

//go:wasmimport gateway_v1 request_body_write
func hRequestBodyWrite(ptr unsafe.Pointer, n uint32) int32

//go:wasmimport gateway_v1 response_body_read
func hResponseBodyRead(buf unsafe.Pointer, limit uint32) int32

//go:wasmimport gateway_v1 response_body_write
func hResponseBodyWrite(ptr unsafe.Pointer, n uint32) int32

//go:wasmimport gateway_v1 status_get
func hStatusGet() int32

//go:wasmimport gateway_v1 status_set
func hStatusSet(status int32)

//go:wasmimport gateway_v1 send_response
func hSendResponse(status int32, body unsafe.Pointer, n uint32)

//go:wasmimport gateway_v1 property_get
func hPropertyGet(key unsafe.Pointer, keyLen uint32, buf unsafe.Pointer, limit uint32) int32

//go:wasmimport gateway_v1 property_set
func hPropertySet(key unsafe.Pointer, keyLen uint32, val unsafe.Pointer, valLen uint32)

//go:wasmimport gateway_v1 metric_define
func hMetricDefine(kind uint32, name unsafe.Pointer, nameLen uint32, help unsafe.Pointer, helpLen uint32) int32

//go:wasmimport gateway_v1 metric_add
func hMetricAdd(id int32, v float64)

//go:wasmimport gateway_v1 metric_set
func hMetricSet(id int32, v float64)

//go:wasmimport gateway_v1 metric_observe
func hMetricObserve(id int32, v float64)

//go:wasmimport gateway_v1 kv_get
func hKVGet(key unsafe.Pointer, keyLen uint32, buf unsafe.Pointer, limit uint32) int32

//go:wasmimport gateway_v1 kv_set
func hKVSet(key unsafe.Pointer, keyLen uint32, val unsafe.Pointer, valLen uint32, ttlMs int64) int32

//go:wasmimport gateway_v1 kv_cas
func hKVCAS(key unsafe.Pointer, keyLen uint32, old unsafe.Pointer, oldLen uint32, new unsafe.Pointer, newLen uint32, ttlMs int64, flags uint32) int32

//go:wasmimport gateway_v1 kv_delete
func hKVDelete(key unsafe.Pointer, keyLen uint32) int32

//go:wasmimport gateway_v1 time_now_ns
func hTimeNowNs() int64

//go:wasmimport gateway_v1 random_get
func hRandomGet(buf unsafe.Pointer, n uint32)

//go:wasmimport gateway_v1 http_call
func hHTTPCall(up unsafe.Pointer, upLen uint32, method unsafe.Pointer, methodLen uint32, path unsafe.Pointer, pathLen uint32, headers unsafe.Pointer, headersLen uint32, body unsafe.Pointer, bodyLen uint32, timeoutMs int32) int32

//go:wasmimport gateway_v1 http_response_status
func hHTTPResponseStatus() int32

//go:wasmimport gateway_v1 http_response_header
func hHTTPResponseHeader(name unsafe.Pointer, nameLen uint32, buf unsafe.Pointer, limit uint32) int32

//go:wasmimport gateway_v1 http_response_body
func hHTTPResponseBody(buf unsafe.Pointer, limit uint32) int32

//go:wasmimport gateway_v1 crypto_verify
func hCryptoVerify(alg unsafe.Pointer, algLen uint32, key unsafe.Pointer, keyLen uint32, data unsafe.Pointer, dataLen uint32, sig unsafe.Pointer, sigLen uint32) int32
