package function

import (
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/abi"
)

// TestNames checks the directive literals against package abi.
func TestNames(t *testing.T) {
	src, err := os.ReadFile("exports_wasip1.go")
	require.NoError(t, err)
	imports := regexp.MustCompile(`//go:wasmimport (\S+) (\S+)`).FindAllStringSubmatch(string(src), -1)
	require.Len(t, imports, 4)
	for _, m := range imports {
		assert.Equal(t, abi.HostModule, m[1])
	}
	assert.Equal(t, abi.FuncEventGet, imports[0][2])
	assert.Equal(t, abi.FuncEventRespond, imports[1][2])
	assert.Equal(t, abi.FuncConnectionSend, imports[2][2])
	assert.Equal(t, abi.FuncConnectionClose, imports[3][2])
	exports := regexp.MustCompile(`//go:wasmexport (\S+)`).FindAllStringSubmatch(string(src), -1)
	require.Len(t, exports, 2)
	assert.Equal(t, abi.ExportEventPacked, exports[0][1])
	assert.Equal(t, abi.ExportHandleEvent, exports[1][1])
}
