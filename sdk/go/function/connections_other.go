//go:build !wasip1

package function

import "github.com/wasmgate/gateway/abi"

// Native builds (unit tests) have no gateway to reach connections through.
func connectionSend(string, []byte) int32 { return abi.ResultUnavailable }
func connectionClose(string) int32        { return abi.ResultUnavailable }
