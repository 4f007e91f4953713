package proxy

import (
	"net/http"
	"strings"

	"github.com/wasmgate/gateway/host/config"
)

// isHopByHop reports whether the canonical header key k is hop-by-hop
// (RFC 9110 section 7.6.1, plus the legacy Proxy-Connection and Keep-Alive).
func isHopByHop(k string) bool {
	switch k {
	case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
		"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade":
		return true
	}
	return false
}

// hasToken reports whether the comma-separated header values contain token,
// compared case-insensitively and ignoring parameters (";q=...").
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for v != "" {
			var item string
			item, v, _ = strings.Cut(v, ",")
			item, _, _ = strings.Cut(item, ";")
			if strings.EqualFold(strings.TrimSpace(item), token) {
				return true
			}
		}
	}
	return false
}

// dropped reports whether header k must not cross the proxy: it is hop-by-hop
// or named in the message's Connection header.
func dropped(k string, connection []string) bool {
	return isHopByHop(k) || (len(connection) > 0 && hasToken(connection, k))
}

// upgradeType is the protocol a message asks to switch to ("websocket"), or
// "" when it is not an upgrade.
func upgradeType(h http.Header) string {
	if !hasToken(h["Connection"], "upgrade") {
		return ""
	}
	if vs := h["Upgrade"]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// peerHost is the IP of a "host:port" remote address without allocating:
// "192.0.2.1:1234" gives "192.0.2.1", "[2001:db8::1]:1234" gives "2001:db8::1".
func peerHost(remoteAddr string) string {
	i := strings.LastIndexByte(remoteAddr, ':')
	if i < 0 {
		return remoteAddr
	}
	host := remoteAddr[:i]
	if len(host) >= 2 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1]
	}
	if strings.IndexByte(host, ':') >= 0 && strings.IndexByte(remoteAddr, ']') < 0 {
		return remoteAddr // a bare IPv6 address without a port
	}
	return host
}

// forwardedFor renders ip as the node of a Forwarded for= parameter: IPv6
// addresses are bracketed and quoted (RFC 7239 section 6).
func forwardedFor(ip string) string {
	if strings.IndexByte(ip, ':') >= 0 {
		return `"[` + ip + `]"`
	}
	if ip == "" {
		return "unknown"
	}
	return ip
}

// forwardedValue quotes v unless it is an RFC 7230 token.
func forwardedValue(v string) string {
	for i := 0; i < len(v); i++ {
		if !isTokenChar(v[i]) {
			return quote(v)
		}
	}
	if v == "" {
		return `""`
	}
	return v
}

func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// quote makes an RFC 7230 quoted-string.
func quote(v string) string {
	var b strings.Builder
	b.Grow(len(v) + 2)
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		if v[i] == '"' || v[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
	b.WriteByte('"')
	return b.String()
}

// applyOps changes h by ops: Remove, then Set, then Add. Added values never
// share a backing array with values h already had.
func applyOps(h http.Header, ops *config.HeaderOps) {
	for _, k := range ops.Remove {
		delete(h, http.CanonicalHeaderKey(k))
	}
	for k, v := range ops.Set {
		h[http.CanonicalHeaderKey(k)] = []string{v}
	}
	for k, v := range ops.Add {
		ck := http.CanonicalHeaderKey(k)
		old := h[ck]
		h[ck] = append(old[:len(old):len(old)], v)
	}
}

// hasOps reports whether ops change anything.
func hasOps(ops *config.HeaderOps) bool {
	return len(ops.Remove) > 0 || len(ops.Set) > 0 || len(ops.Add) > 0
}

// outHeader builds the header of the outgoing request. Values are shared with
// r.Header, never modified in place.
func (f *Forwarder) outHeader(r *http.Request, ex *Exchange, upType string, st *attempt) http.Header {
	in := r.Header
	connection := in["Connection"]
	// Room for the forwarding headers; up to 8 entries the map is one group.
	h := make(http.Header, len(in)+5)
	for k, vs := range in {
		if dropped(k, connection) {
			continue
		}
		h[k] = vs
	}
	if hasToken(in["Te"], "trailers") {
		h["Te"] = f.teTrailers
	}
	if upType != "" {
		h["Connection"] = f.connUpgrade
		h["Upgrade"] = in["Upgrade"][:1:1]
	}
	if _, ok := h["User-Agent"]; !ok {
		// Keep the transport from adding its own User-Agent.
		h["User-Agent"] = f.emptyValue
	}

	peer := peerHost(r.RemoteAddr)
	if peer == "" {
		peer = ex.ClientIP
	}
	// The values set below share the scratch array: no allocation each.
	vals := st.vals[:]
	set := func(i int, k, v string) {
		vals[i] = v
		h[k] = vals[i : i+1 : i+1]
	}
	if prior := in["X-Forwarded-For"]; len(prior) > 0 {
		set(0, "X-Forwarded-For", strings.Join(prior, ", ")+", "+peer)
	} else {
		set(0, "X-Forwarded-For", peer)
	}
	if ex.Scheme != "" {
		set(1, "X-Forwarded-Proto", ex.Scheme)
	}
	if r.Host != "" {
		set(2, "X-Forwarded-Host", r.Host)
	}
	fwd := "for=" + forwardedFor(peer) + ";host=" + forwardedValue(r.Host) + ";proto=" + forwardedValue(ex.Scheme)
	if prior := in["Forwarded"]; len(prior) > 0 {
		fwd = strings.Join(prior, ", ") + ", " + fwd
	}
	set(3, "Forwarded", fwd)
	if ex.RequestIDHeader != "" && ex.RequestID != "" {
		set(4, http.CanonicalHeaderKey(ex.RequestIDHeader), ex.RequestID)
	}
	if hasOps(&ex.RequestHeaders) {
		applyOps(h, &ex.RequestHeaders)
	}
	return h
}

// copyResponseHeader copies the end-to-end headers of an upstream response
// into dst, after the values dst already holds. Values are shared, not copied,
// when dst has none.
func copyResponseHeader(dst, src http.Header) {
	connection := src["Connection"]
	for k, vs := range src {
		if dropped(k, connection) {
			continue
		}
		if old, ok := dst[k]; ok {
			dst[k] = append(old[:len(old):len(old)], vs...)
			continue
		}
		dst[k] = vs
	}
}
