package gateway

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestStatusWriterCountsBytes: a body written as bytes or as a string (the
// function route writes strings) is counted for the access log, and writing
// without a status sends 200.
func TestStatusWriterCountsBytes(t *testing.T) {
	tests := []struct {
		name  string
		write func(w io.Writer, s string)
	}{
		{"Write", func(w io.Writer, s string) { _, _ = w.Write([]byte(s)) }},
		{"WriteString", func(w io.Writer, s string) { _, _ = io.WriteString(w, s) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			sw := &statusWriter{ResponseWriter: rec}
			tc.write(sw, "hello, ")
			tc.write(sw, "world")
			assert.Equal(t, int64(12), sw.bytes)
			assert.Equal(t, http.StatusOK, sw.status())
			assert.Equal(t, http.StatusOK, rec.Code)
			assert.Equal(t, "hello, world", rec.Body.String())
		})
	}
	var _ io.StringWriter = (*statusWriter)(nil)
}
