//go:build wasip1

package function

import (
	"unsafe"

	"github.com/wasmgate/gateway/abi"
	"github.com/wasmgate/gateway/sdk/go/plugin"
)

// Names must match abi.ExportHandleEvent, abi.ExportEventPacked,
// abi.FuncEventGet and abi.FuncEventRespond (directives cannot take constants); TestNames checks.

//go:wasmimport gateway_v1 event_get
func hEventGet(buf unsafe.Pointer, limit uint32) int32

//go:wasmimport gateway_v1 event_respond
func hEventRespond(ptr unsafe.Pointer, n uint32) int32

//go:wasmimport gateway_v1 connection_send
func hConnectionSend(id unsafe.Pointer, idLen uint32, data unsafe.Pointer, dataLen uint32) int32

//go:wasmimport gateway_v1 connection_close
func hConnectionClose(id unsafe.Pointer, idLen uint32) int32

func connectionSend(id string, data []byte) int32 {
	return hConnectionSend(unsafe.Pointer(unsafe.StringData(id)), uint32(len(id)), unsafe.Pointer(unsafe.SliceData(data)), uint32(len(data)))
}

func connectionClose(id string) int32 {
	return hConnectionClose(unsafe.Pointer(unsafe.StringData(id)), uint32(len(id)))
}

// eventPacked asks the host for packed HTTP events (abi.ExportEventPacked):
// decoding them is several times cheaper in wasm than decoding JSON.
//
//go:wasmexport event_packed_v1
func eventPacked() {}

//go:wasmexport handle_event
func handleEvent(eventLen int32) int32 {
	buf := make([]byte, eventLen)
	n := hEventGet(unsafe.Pointer(unsafe.SliceData(buf)), uint32(len(buf)))
	if n < 0 || int(n) > len(buf) {
		plugin.LogError("function: event_get failed")
		return 1
	}
	// buf is this call's own and never written again: the event's strings
	// may point into it.
	out, err := handle(unsafe.String(unsafe.SliceData(buf), n))
	if err != nil {
		plugin.LogError(err.Error())
		return 1
	}
	if rc := hEventRespond(unsafe.Pointer(unsafe.SliceData(out)), uint32(len(out))); rc != abi.ResultOK {
		plugin.LogError("function: event_respond refused the response")
		return 1
	}
	return 0
}
