// Command key-auth is the gateway's API-key plugin (AWS API Gateway's
// x-api-key). Keys are configured as SHA-256 hashes, never in clear; a
// presented key is hashed and looked up by its hash. The consumer and its
// metadata are forwarded upstream as headers and to later plugins as
// properties. See README.md for the config reference.
//
// Build: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -ldflags=-s -o key-auth.wasm ./plugins/key-auth
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/textproto"
	"net/url"
	"slices"
	"strings"

	"github.com/wasmgate/gateway/sdk/go/plugin"
)

// Config is the plugin's config block.
type Config struct {
	// Keys are the accepted API keys, by hash.
	Keys []KeyConfig `json:"keys"`
	// Header carries the key (default "x-api-key"); "" with Query set reads
	// only the query.
	Header *string `json:"header"`
	// Query is a query parameter carrying the key, tried after Header.
	Query string `json:"query"`
	// HideCredentials removes the key from the request before it goes upstream.
	HideCredentials bool `json:"hide_credentials"`
	// ConsumerHeader forwards the consumer name (default "X-Consumer"; "-" disables).
	ConsumerHeader string `json:"consumer_header"`
	// MetadataHeaders forwards metadata: metadata key -> header name.
	MetadataHeaders map[string]string `json:"metadata_headers"`
}

// KeyConfig is one API key.
type KeyConfig struct {
	// Consumer names who the key belongs to.
	Consumer string `json:"consumer"`
	// KeySHA256 is hex(sha256(key)): printf %s "$KEY" | sha256sum
	KeySHA256 string `json:"key_sha256"`
	// Metadata is forwarded with the consumer.
	Metadata map[string]string `json:"metadata"`
}

// consumer is one key's identity, precomputed for the request path.
type consumer struct {
	name  string
	keyID string      // first 8 hex chars of the hash
	props [][2]string // property key, value
	hdrs  [][2]string // header, value
}

// state is built by OnConfigure; an instance serves one request at a time.
var state struct {
	byHash         map[[sha256.Size]byte]*consumer
	header, query  string
	hide           bool
	stripHeaders   []string // forwarded header names, stripped from every request
	consumerHeader string
}

func init() {
	plugin.Handle(plugin.Handler{
		OnConfigure:      configure,
		OnRequestHeaders: onRequestHeaders,
	})
}

func main() {}

func validHeaderName(h string) bool {
	if h == "" {
		return false
	}
	for _, c := range []byte(h) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return true
}

func configure(raw []byte) error {
	var c Config
	if err := plugin.DecodeConfig(raw, &c); err != nil {
		return err
	}
	if len(c.Keys) == 0 {
		return errors.New(`keys: add at least one { consumer = "...", key_sha256 = "..." }; hash a key with: printf %s "$KEY" | sha256sum`)
	}
	state.header, state.query, state.hide = "X-Api-Key", c.Query, c.HideCredentials
	if c.Header != nil {
		state.header = *c.Header
	}
	if state.header == "" && state.query == "" {
		return errors.New("header and query are both empty; set where the key is read")
	}
	if state.header != "" && !validHeaderName(state.header) {
		return fmt.Errorf("header %q is not a valid header name", state.header)
	}
	state.consumerHeader = "X-Consumer"
	if c.ConsumerHeader == "-" {
		state.consumerHeader = ""
	} else if c.ConsumerHeader != "" {
		if !validHeaderName(c.ConsumerHeader) {
			return fmt.Errorf("consumer_header %q is not a valid header name", c.ConsumerHeader)
		}
		state.consumerHeader = textproto.CanonicalMIMEHeaderKey(c.ConsumerHeader)
	}
	state.stripHeaders = nil
	if state.consumerHeader != "" {
		state.stripHeaders = append(state.stripHeaders, state.consumerHeader)
	}
	metaKeys := make([]string, 0, len(c.MetadataHeaders))
	for k, h := range c.MetadataHeaders {
		if !validHeaderName(h) {
			return fmt.Errorf("metadata_headers: %q -> %q is not a valid header name", k, h)
		}
		metaKeys = append(metaKeys, k)
		state.stripHeaders = append(state.stripHeaders, textproto.CanonicalMIMEHeaderKey(h))
	}
	slices.Sort(metaKeys)
	state.byHash = make(map[[sha256.Size]byte]*consumer, len(c.Keys))
	for i, k := range c.Keys {
		if k.Consumer == "" {
			return fmt.Errorf("keys[%d]: consumer is empty; name who the key belongs to", i)
		}
		h, err := hex.DecodeString(k.KeySHA256)
		if err != nil || len(h) != sha256.Size {
			return fmt.Errorf("keys[%d] (consumer %q): key_sha256 must be 64 hex characters, the output of: printf %%s \"$KEY\" | sha256sum", i, k.Consumer)
		}
		var sum [sha256.Size]byte
		copy(sum[:], h)
		if prev, dup := state.byHash[sum]; dup {
			return fmt.Errorf("keys[%d] (consumer %q): same key_sha256 as consumer %q; each key must be unique", i, k.Consumer, prev.name)
		}
		id := hex.EncodeToString(h[:4])
		cons := &consumer{name: k.Consumer, keyID: id}
		cons.props = append(cons.props, [2]string{"auth.principal", k.Consumer}, [2]string{"auth.consumer", k.Consumer}, [2]string{"auth.key_id", id})
		metaNames := make([]string, 0, len(k.Metadata))
		for name := range k.Metadata {
			metaNames = append(metaNames, name)
		}
		slices.Sort(metaNames)
		for _, name := range metaNames {
			cons.props = append(cons.props, [2]string{"auth.metadata." + name, k.Metadata[name]})
		}
		if state.consumerHeader != "" {
			cons.hdrs = append(cons.hdrs, [2]string{state.consumerHeader, k.Consumer})
		}
		for _, mk := range metaKeys {
			if v, ok := k.Metadata[mk]; ok {
				if strings.ContainsAny(v, "\r\n\x00") {
					return fmt.Errorf("keys[%d] (consumer %q): metadata %q contains a line break and cannot be a header", i, k.Consumer, mk)
				}
				cons.hdrs = append(cons.hdrs, [2]string{textproto.CanonicalMIMEHeaderKey(c.MetadataHeaders[mk]), v})
			}
		}
		state.byHash[sum] = cons
	}
	return nil
}

// presented returns the key from the header, then the query.
func presented(req plugin.Request) string {
	if state.header != "" {
		if v := strings.TrimSpace(req.Header().Get(state.header)); v != "" {
			if state.hide {
				req.Header().Del(state.header)
			}
			return v
		}
	}
	if state.query != "" {
		raw := req.Query()
		if v := queryParam(raw, state.query); v != "" {
			if state.hide {
				req.SetQuery(withoutParam(raw, state.query))
			}
			return v
		}
	}
	return ""
}

// queryParam is the first value of the query parameter name in the raw
// query, unescaped; "" when absent. Scanning the raw query avoids decoding
// every parameter into a map (url.ParseQuery) on each request, and a
// malformed parameter elsewhere does not hide the key.
func queryParam(raw, name string) string {
	for seg := range strings.SplitSeq(raw, "&") {
		k, v, _ := strings.Cut(seg, "=")
		if key, err := url.QueryUnescape(k); err != nil || key != name {
			continue
		}
		if val, err := url.QueryUnescape(v); err == nil {
			return val
		}
		return ""
	}
	return ""
}

// withoutParam is the raw query without any name parameter; the other
// parameters keep their order and encoding.
func withoutParam(raw, name string) string {
	var b strings.Builder
	for seg := range strings.SplitSeq(raw, "&") {
		k, _, _ := strings.Cut(seg, "=")
		if key, err := url.QueryUnescape(k); err == nil && key == name {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(seg)
	}
	return b.String()
}

// lookup finds the consumer of key. It hashes the key and indexes by the
// hash: the only comparison an attacker can time is between SHA-256 digests,
// and learning a prefix of a digest tells nothing about any key (preimage
// resistance), so the lookup is constant-time with respect to the secret.
func lookup(key string) *consumer {
	keyBuf = append(keyBuf[:0], key...) // reused: []byte(key) would allocate
	return state.byHash[plugin.SHA256(keyBuf)]
}

var keyBuf []byte

func onRequestHeaders(req plugin.Request) plugin.Action {
	hdr := req.Header()
	for _, h := range state.stripHeaders {
		hdr.Del(h) // clients must not forge the forwarded identity
	}
	key := presented(req)
	if key == "" {
		plugin.LogWarn("key-auth: unauthorized: no API key in " + where())
		return plugin.Unauthorized()
	}
	c := lookup(key)
	if c == nil {
		plugin.LogWarn("key-auth: unauthorized: unknown API key")
		return plugin.Unauthorized()
	}
	for _, h := range c.hdrs {
		hdr.Set(h[0], h[1])
	}
	for _, p := range c.props {
		req.SetProperty(p[0], p[1])
	}
	return plugin.Continue
}

func where() string {
	switch {
	case state.header != "" && state.query != "":
		return "header " + state.header + " or query parameter " + state.query
	case state.header != "":
		return "header " + state.header
	}
	return "query parameter " + state.query
}
