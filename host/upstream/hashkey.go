package upstream

import (
	"fmt"
	"net/http"
	"net/textproto"
	"strings"

	"github.com/wasmgate/gateway/host/config"
)

// hashOnKind says where HashKey finds the key.
type hashOnKind uint8

const (
	hashOnNone hashOnKind = iota
	hashOnIP
	hashOnHeader
	hashOnCookie
)

// hashOn is the parsed config.Upstream.HashOn.
type hashOn struct {
	kind hashOnKind
	name string // canonical header name or cookie name
}

// parseHashOn reads "ip", "header:NAME" or "cookie:NAME"; "" means "ip".
func parseHashOn(s string) (hashOn, error) {
	kind, name, _ := strings.Cut(s, ":")
	switch {
	case s == "" || s == "ip":
		return hashOn{kind: hashOnIP}, nil
	case kind == "header" && name != "":
		return hashOn{kind: hashOnHeader, name: textproto.CanonicalMIMEHeaderKey(name)}, nil
	case kind == "cookie" && name != "":
		return hashOn{kind: hashOnCookie, name: name}, nil
	}
	return hashOn{}, fmt.Errorf("hash_on %q: unknown key source; use \"ip\", \"header:NAME\" or \"cookie:NAME\"", s)
}

// HashKey extracts the key the hash balancer uses for r, as set by
// config.Upstream.HashOn: the client IP for "ip" (the default), the first value
// of the header for "header:NAME", the cookie's value for "cookie:NAME". It
// returns "" when the pool does not balance by hash or the request has no such
// header or cookie; Pick then uses round robin.
func (p *Pool) HashKey(r *http.Request, clientIP string) string {
	if p.cfg.Balance != config.BalanceHash {
		return ""
	}
	switch p.hashOn.kind {
	case hashOnIP:
		return clientIP
	case hashOnHeader:
		if v := r.Header[p.hashOn.name]; len(v) > 0 {
			return v[0]
		}
	case hashOnCookie:
		if c, err := r.Cookie(p.hashOn.name); err == nil {
			return c.Value
		}
	}
	return ""
}
