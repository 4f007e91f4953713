package wasm

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
)

func TestIntern(t *testing.T) {
	in := &instance{}
	a := in.intern([]byte("auth.principal"))
	b := in.intern([]byte("auth.principal"))
	assert.Equal(t, "auth.principal", b)
	assert.Same(t, unsafeData(a), unsafeData(b), "a repeated key is the same string")

	long := strings.Repeat("k", maxInterned+1)
	assert.Equal(t, long, in.intern([]byte(long)))
	assert.NotContains(t, in.interned, long, "long strings are not kept")

	for i := range 2 * maxInternedCount {
		s := "key-" + strconv.Itoa(i)
		assert.Equal(t, s, in.intern([]byte(s)), "past the bound, strings are still right")
	}
	assert.Len(t, in.interned, maxInternedCount)
}

func TestLookupCanonical(t *testing.T) {
	in := &instance{}
	h := http.Header{"X-Plan": {"gold"}}
	key, vals := in.lookup(h, []byte("X-Plan"))
	assert.Equal(t, "", key, "found as given")
	assert.Equal(t, []string{"gold"}, vals)
	for range 2 {
		key, vals = in.lookup(h, []byte("x-plan"))
		assert.Equal(t, "X-Plan", key)
		assert.Equal(t, []string{"gold"}, vals)
	}
	assert.Equal(t, map[string]string{"x-plan": "X-Plan"}, in.canonical)
	key, vals = in.lookup(h, []byte("x-missing"))
	assert.Equal(t, "X-Missing", key)
	assert.Nil(t, vals)
}

func unsafeData(s string) *byte { return unsafe.StringData(s) }
