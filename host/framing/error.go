package framing

import (
	"fmt"
	"net/http"
)

// Error describes a request the guard refused. Options.OnReject receives it.
type Error struct {
	// Status is the HTTP status net/http answers the request with: 400, 431
	// or 501.
	Status int
	// Reason says what was wrong with the header block.
	Reason string
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("http framing: refused request with %d %s: %s; the client must send unambiguous HTTP/1.1 framing (RFC 9112)",
		e.Status, http.StatusText(e.Status), e.Reason)
}
