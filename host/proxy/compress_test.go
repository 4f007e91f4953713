package proxy

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/host/config"
)

func testCompression() config.Compression {
	return config.Compression{
		Enabled:      true,
		Algorithms:   []string{"zstd", "gzip"},
		MinSize:      256,
		ContentTypes: []string{"application/json", "text/*"},
		Level:        "fastest",
	}
}

func TestNegotiate(t *testing.T) {
	tests := []struct {
		name  string
		algos []string
		in    string
		exp   string
	}{
		{name: "gzip only", in: "gzip", exp: "gzip"},
		{name: "both: server order wins ties", in: "gzip, zstd", exp: "zstd"},
		{name: "both with gzip preferred by config", algos: []string{"gzip", "zstd"}, in: "zstd, gzip", exp: "gzip"},
		{name: "higher q wins", in: "gzip;q=1, zstd;q=0.5", exp: "gzip"},
		{name: "q=0 refuses", in: "zstd;q=0", exp: ""},
		{name: "star", in: "*", exp: "zstd"},
		{name: "star refused", in: "*;q=0", exp: ""},
		{name: "star fills unlisted", in: "zstd;q=0, *;q=0.3", exp: "gzip"},
		{name: "identity only", in: "identity", exp: ""},
		{name: "identity preferred", in: "gzip;q=0.5, identity", exp: ""},
		{name: "identity less preferred", in: "gzip, identity;q=0.5", exp: "gzip"},
		{name: "x-gzip alias", in: "x-gzip", exp: "gzip"},
		{name: "unknown coding", in: "br", exp: ""},
		{name: "case and spaces", in: " GZIP ; Q=0.8 ", exp: "gzip"},
		{name: "malformed q is zero", in: "gzip;q=high", exp: ""},
		{name: "several header lines", in: "br\x00gzip;q=0.2", exp: "gzip"},
		{name: "empty items", in: ",,gzip,", exp: "gzip"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testCompression()
			if tc.algos != nil {
				cfg.Algorithms = tc.algos
			}
			c, err := NewCompressor(cfg)
			require.NoError(t, err)
			a := c.negotiate(strings.Split(tc.in, "\x00"))
			got := ""
			if a != nil {
				got = a.name
			}
			assert.Equal(t, tc.exp, got)
		})
	}
}

func TestParseQ(t *testing.T) {
	tests := []struct {
		in  string
		exp int
	}{
		{"", 1000}, {"q=1", 1000}, {"q=1.000", 1000}, {"q=0", 0}, {"q=0.5", 500}, {"q=0.123", 123},
		{" q = 0.25 ", 250}, {"level=1;q=0.7", 700}, {"q=2", 0}, {"q=0.12345", 0}, {"q=", 0}, {"q=0.x", 0},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			assert.Equal(t, tc.exp, parseQ(tc.in))
		})
	}
}

func TestNewCompressorErrors(t *testing.T) {
	tests := []struct {
		name   string
		tweak  func(*config.Compression)
		expErr string
	}{
		{name: "unknown algorithm", tweak: func(c *config.Compression) { c.Algorithms = []string{"br"} },
			expErr: `compression: unknown algorithm "br"; use "zstd" or "gzip"`},
		{name: "duplicate algorithm", tweak: func(c *config.Compression) { c.Algorithms = []string{"gzip", "GZIP"} },
			expErr: `compression: algorithm "gzip" listed twice; list each algorithm once`},
		{name: "unknown level", tweak: func(c *config.Compression) { c.Level = "max" },
			expErr: `compression: unknown level "max"; use "fastest", "default" or "best"`},
		{name: "negative min size", tweak: func(c *config.Compression) { c.MinSize = -1 },
			expErr: `compression: min_size -1 is negative; use 0 to compress every size`},
		{name: "bad content type", tweak: func(c *config.Compression) { c.ContentTypes = []string{"json"} },
			expErr: `compression: content type "json" is not a media type; write it as "application/json" or "text/*"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testCompression()
			tc.tweak(&cfg)
			_, err := NewCompressor(cfg)
			assert.EqualError(t, err, tc.expErr)
		})
	}
}

// decode undoes the content coding of body.
func decode(t *testing.T, coding string, body []byte) []byte {
	t.Helper()
	switch coding {
	case "":
		return body
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		require.NoError(t, err)
		out, err := io.ReadAll(zr)
		require.NoError(t, err)
		return out
	case "zstd":
		zr, err := zstd.NewReader(bytes.NewReader(body))
		require.NoError(t, err)
		defer zr.Close()
		out, err := io.ReadAll(zr)
		require.NoError(t, err)
		return out
	}
	t.Fatalf("unexpected coding %q", coding)
	return nil
}

func TestCompressMatrix(t *testing.T) {
	big := []byte(`{"items":[` + strings.Repeat(`{"id":1,"name":"gateway"},`, 60) + `{}]}`)
	small := []byte(`{"ok":true}`)
	type handler func(w http.ResponseWriter)
	write := func(status int, header http.Header, body []byte) handler {
		return func(w http.ResponseWriter) {
			for k, vs := range header {
				w.Header()[k] = vs
			}
			w.WriteHeader(status)
			_, _ = w.Write(body)
		}
	}
	json := http.Header{"Content-Type": {"application/json"}}
	withHeader := func(h http.Header, k, v string) http.Header {
		c := h.Clone()
		c.Set(k, v)
		return c
	}
	tests := []struct {
		name      string
		method    string
		accept    string
		handler   handler
		expCoding string
		expBody   []byte
		expHeader map[string][]string // nil value: absent
	}{
		{name: "gzip", accept: "gzip", handler: write(200, json, big), expCoding: "gzip", expBody: big,
			expHeader: map[string][]string{"Vary": {"Accept-Encoding"}}},
		{name: "zstd preferred", accept: "gzip, zstd", handler: write(200, json, big), expCoding: "zstd", expBody: big},
		{name: "q-values choose gzip", accept: "zstd;q=0.1, gzip;q=0.9", handler: write(200, json, big), expCoding: "gzip", expBody: big},
		{name: "nothing accepted", accept: "br", handler: write(200, json, big), expBody: big},
		{name: "no Accept-Encoding", handler: write(200, json, big), expBody: big},
		{name: "below min size", accept: "gzip", handler: write(200, json, small), expBody: small,
			expHeader: map[string][]string{"Vary": nil}},
		{name: "content length below min size", accept: "gzip",
			handler: write(200, withHeader(json, "Content-Length", strconv.Itoa(len(small))), small),
			expBody: small, expHeader: map[string][]string{"Content-Length": {strconv.Itoa(len(small))}}},
		{name: "content length above min size", accept: "gzip",
			handler:   write(200, withHeader(json, "Content-Length", strconv.Itoa(len(big))), big),
			expCoding: "gzip", expBody: big},
		{name: "type not listed", accept: "gzip", handler: write(200, http.Header{"Content-Type": {"image/png"}}, big), expBody: big},
		{name: "text wildcard with parameters", accept: "gzip",
			handler: write(200, http.Header{"Content-Type": {"text/html; charset=utf-8"}}, big), expCoding: "gzip", expBody: big},
		{name: "sniffed type", accept: "gzip", handler: write(200, nil, []byte(strings.Repeat("plain text ", 50))),
			expCoding: "gzip", expBody: []byte(strings.Repeat("plain text ", 50)),
			expHeader: map[string][]string{"Content-Type": {"text/plain; charset=utf-8"}}},
		{name: "already encoded", accept: "gzip", handler: write(200, withHeader(json, "Content-Encoding", "br"), big),
			expBody: big, expHeader: map[string][]string{"Content-Encoding": {"br"}}},
		{name: "HEAD", method: http.MethodHead, accept: "gzip",
			handler:   write(200, withHeader(json, "Content-Length", strconv.Itoa(len(big))), nil),
			expHeader: map[string][]string{"Content-Length": {strconv.Itoa(len(big))}, "Content-Encoding": nil}},
		{name: "304", accept: "gzip", handler: write(304, withHeader(withHeader(json, "Etag", `"v1"`), "Content-Length", "5000"), nil),
			expHeader: map[string][]string{"Etag": {`"v1"`}, "Vary": nil}},
		{name: "204", accept: "gzip", handler: write(204, json, nil)},
		{name: "206", accept: "gzip", handler: write(206, withHeader(json, "Content-Range", "bytes 0-999/5000"), big), expBody: big},
		{name: "no-transform", accept: "gzip", handler: write(200, withHeader(json, "Cache-Control", "public, no-transform"), big), expBody: big},
		{name: "strong ETag weakened", accept: "gzip", handler: write(200, withHeader(json, "Etag", `"abc"`), big),
			expCoding: "gzip", expBody: big, expHeader: map[string][]string{"Etag": {`W/"abc"`}}},
		{name: "weak ETag kept", accept: "gzip", handler: write(200, withHeader(json, "Etag", `W/"abc"`), big),
			expCoding: "gzip", expBody: big, expHeader: map[string][]string{"Etag": {`W/"abc"`}}},
		{name: "Vary appended", accept: "gzip", handler: write(200, withHeader(json, "Vary", "Origin"), big),
			expCoding: "gzip", expBody: big, expHeader: map[string][]string{"Vary": {"Origin", "Accept-Encoding"}}},
		{name: "many small writes crossing min size", accept: "zstd", handler: func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			for i := 0; i < len(big); i += 7 {
				_, _ = w.Write(big[i:min(i+7, len(big))])
			}
		}, expCoding: "zstd", expBody: big},
		{name: "error status compressed too", accept: "gzip", handler: write(500, json, big), expCoding: "gzip", expBody: big},
	}
	c, err := NewCompressor(testCompression())
	require.NoError(t, err)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
				cw, finish := c.Wrap(w, r)
				defer finish()
				tc.handler(cw)
			})
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			req, err := http.NewRequestWithContext(t.Context(), method, srv.URL, nil)
			require.NoError(t, err)
			if tc.accept != "" {
				req.Header.Set("Accept-Encoding", tc.accept)
			}
			resp, err := client().Do(req)
			require.NoError(t, err)
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			_ = resp.Body.Close()
			if tc.expCoding != "" || resp.Header.Get("Content-Encoding") != "br" {
				assert.Equal(t, tc.expCoding, resp.Header.Get("Content-Encoding"))
			}
			if tc.expCoding != "" {
				assert.Less(t, len(body), len(tc.expBody), "compressed body is smaller")
				if cl := resp.Header.Get("Content-Length"); cl != "" { // computed by net/http, never the handler's
					assert.Equal(t, strconv.Itoa(len(body)), cl)
				}
			}
			assert.Equal(t, string(tc.expBody), string(decode(t, tc.expCoding, body)))
			for k, v := range tc.expHeader {
				if v == nil {
					assert.NotContains(t, resp.Header, k)
					continue
				}
				assert.Equal(t, v, resp.Header[k], k)
			}
		})
	}
}

// TestCompressFlush checks that Flush before MinSize sends the response
// uncompressed at once, and that Flush on a compressed response pushes the
// encoder's data to the client.
func TestCompressFlush(t *testing.T) {
	c, err := NewCompressor(testCompression())
	require.NoError(t, err)
	for _, tc := range []struct {
		name, contentType, accept, first, expCoding string
	}{
		{name: "event stream below min size", contentType: "text/event-stream", accept: "gzip", first: "data: one\n\n"},
		{name: "compressed stream", contentType: "text/plain", accept: "gzip", first: strings.Repeat("line\n", 100), expCoding: "gzip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			srv := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
				cw, finish := c.Wrap(w, r)
				defer finish()
				cw.Header().Set("Content-Type", tc.contentType)
				_, _ = io.WriteString(cw, tc.first)
				require.NoError(t, http.NewResponseController(cw).Flush())
				select {
				case <-release:
				case <-r.Context().Done():
				}
				_, _ = io.WriteString(cw, "end\n")
			})
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
			require.NoError(t, err)
			req.Header.Set("Accept-Encoding", tc.accept)
			resp, err := client().Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			assert.Equal(t, tc.expCoding, resp.Header.Get("Content-Encoding"))
			var r io.Reader = resp.Body
			if tc.expCoding == "gzip" {
				zr, err := gzip.NewReader(resp.Body)
				require.NoError(t, err)
				r = zr
			}
			got := make([]byte, len(tc.first))
			_, err = io.ReadFull(r, got) // before the handler ends: the flush delivered it
			require.NoError(t, err)
			assert.Equal(t, tc.first, string(got))
			close(release)
			rest, err := io.ReadAll(r)
			require.NoError(t, err)
			assert.Equal(t, "end\n", string(rest))
		})
	}
}

// TestCompressResponseController checks that http.ResponseController reaches
// the connection through the wrapper: deadlines and hijacking.
func TestCompressResponseController(t *testing.T) {
	c, err := NewCompressor(testCompression())
	require.NoError(t, err)
	srv := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		cw, finish := c.Wrap(w, r)
		defer finish()
		require.NotSame(t, w, cw)
		rc := http.NewResponseController(cw)
		require.NoError(t, rc.SetWriteDeadline(time.Now().Add(testTimeout)))
		conn, brw, err := rc.Hijack()
		require.NoError(t, err)
		defer conn.Close()
		_, _ = io.WriteString(brw, "HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
		_ = brw.Flush()
	})
	conn, br := rawConn(t, srv.Listener.Addr().String())
	_, err = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, "hijacked", string(body))
	assert.Empty(t, resp.Header.Get("Content-Encoding"))
}

// TestCompressForwarded compresses upstream answers end to end and leaves
// already encoded ones alone.
func TestCompressForwarded(t *testing.T) {
	payload := []byte(`[` + strings.Repeat(`{"k":"v"},`, 500) + `{}]`)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(payload)
	require.NoError(t, zw.Close())
	srv := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/encoded" {
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(gz.Bytes())
			return
		}
		_, _ = w.Write(payload)
	})
	c, err := NewCompressor(testCompression())
	require.NoError(t, err)
	f := New(Options{})
	pool := newPool(t, nil, srv.URL)
	front := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		cw, finish := c.Wrap(w, r)
		defer finish()
		f.Forward(cw, r, &Exchange{Upstream: pool, Path: r.URL.Path, Scheme: "http"})
	})
	for _, tc := range []struct{ path, accept, expCoding string }{
		{"/plain", "zstd", "zstd"},
		{"/plain", "gzip", "gzip"},
		{"/encoded", "zstd, gzip", "gzip"},
	} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, front.URL+tc.path, nil)
		require.NoError(t, err)
		req.Header.Set("Accept-Encoding", tc.accept)
		resp, err := client().Do(req)
		require.NoError(t, err)
		body, err := io.ReadAll(bufio.NewReader(resp.Body))
		require.NoError(t, err)
		_ = resp.Body.Close()
		assert.Equal(t, tc.expCoding, resp.Header.Get("Content-Encoding"), tc.path)
		assert.Equal(t, string(payload), string(decode(t, tc.expCoding, body)), tc.path)
	}
}
