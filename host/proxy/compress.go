package proxy

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/wasmgate/gateway/host/config"
)

// The content codings a Compressor produces, as named in config and in
// Accept-Encoding.
const (
	AlgorithmZstd = "zstd"
	AlgorithmGzip = "gzip"
)

// zstdWindow is the zstd window: small, so that a pooled encoder stays small.
// Responses gain little from a larger one.
const zstdWindow = 128 << 10

// maxKeptBuffer bounds the sniffing buffer a pooled writer keeps between
// responses.
const maxKeptBuffer = 64 << 10

// encoder is what gzip.Writer and zstd.Encoder have in common.
type encoder interface {
	io.WriteCloser
	Flush() error
	Reset(w io.Writer)
}

// algorithm is one content coding with its pool of encoders.
type algorithm struct {
	name     string
	encoding []string // the Content-Encoding value, shared and never modified
	encoders sync.Pool
}

// Compressor compresses responses. It is safe for concurrent use; its
// encoders and writers are pooled.
type Compressor struct {
	enabled    bool
	algorithms []*algorithm // preference order
	minSize    int
	types      []string // exact media types, lower case
	prefixes   []string // "text/" for "text/*"
	writers    sync.Pool
	vary       []string
}

// NewCompressor builds a Compressor from cfg. Algorithms default to zstd then
// gzip. It builds one encoder of each algorithm up front, so that bad options
// fail here and not on the first response. A disabled cfg gives a Compressor
// whose Wrap never compresses.
func NewCompressor(cfg config.Compression) (*Compressor, error) {
	c := &Compressor{enabled: cfg.Enabled, minSize: cfg.MinSize, vary: []string{"Accept-Encoding"}}
	if cfg.MinSize < 0 {
		return nil, fmt.Errorf("compression: min_size %d is negative; use 0 to compress every size", cfg.MinSize)
	}
	names := cfg.Algorithms
	if len(names) == 0 {
		names = []string{AlgorithmZstd, AlgorithmGzip}
	}
	for _, name := range names {
		name = strings.ToLower(strings.TrimSpace(name))
		for _, a := range c.algorithms {
			if a.name == name {
				return nil, fmt.Errorf("compression: algorithm %q listed twice; list each algorithm once", name)
			}
		}
		a := &algorithm{name: name, encoding: []string{name}}
		newEnc, err := newEncoderFunc(name, cfg.Level)
		if err != nil {
			return nil, err
		}
		first, err := newEnc()
		if err != nil {
			return nil, fmt.Errorf("compression: build %s encoder: %w", name, err)
		}
		a.encoders.New = func() any {
			e, err := newEnc()
			if err != nil { // the same options worked above
				panic(fmt.Sprintf("compression: build %s encoder: %v", name, err))
			}
			return e
		}
		a.encoders.Put(first)
		c.algorithms = append(c.algorithms, a)
	}
	for _, t := range cfg.ContentTypes {
		t = strings.ToLower(strings.TrimSpace(t))
		if prefix, ok := strings.CutSuffix(t, "*"); ok && strings.HasSuffix(prefix, "/") || t == "*" {
			if t == "*" {
				prefix = ""
			}
			c.prefixes = append(c.prefixes, prefix)
			continue
		}
		if t == "" || strings.ContainsAny(t, "*;") || !strings.Contains(t, "/") {
			return nil, fmt.Errorf("compression: content type %q is not a media type; write it as \"application/json\" or \"text/*\"", t)
		}
		c.types = append(c.types, t)
	}
	c.writers.New = func() any {
		cw := &compressWriter{c: c}
		cw.finishFn = cw.finish
		return cw
	}
	return c, nil
}

// newEncoderFunc returns the constructor of the named algorithm at level.
func newEncoderFunc(name, level string) (func() (encoder, error), error) {
	switch name {
	case AlgorithmGzip:
		var l int
		switch level {
		case "fastest":
			l = gzip.BestSpeed
		case "default", "":
			l = gzip.DefaultCompression
		case "best":
			l = gzip.BestCompression
		default:
			return nil, levelError(level)
		}
		return func() (encoder, error) { return gzip.NewWriterLevel(nil, l) }, nil
	case AlgorithmZstd:
		var l zstd.EncoderLevel
		switch level {
		case "fastest":
			l = zstd.SpeedFastest
		case "default", "":
			l = zstd.SpeedDefault
		case "best":
			l = zstd.SpeedBestCompression
		default:
			return nil, levelError(level)
		}
		return func() (encoder, error) {
			return zstd.NewWriter(nil,
				zstd.WithEncoderLevel(l),
				zstd.WithEncoderConcurrency(1),
				zstd.WithWindowSize(zstdWindow),
				zstd.WithLowerEncoderMem(true))
		}, nil
	default:
		return nil, fmt.Errorf("compression: unknown algorithm %q; use %q or %q", name, AlgorithmZstd, AlgorithmGzip)
	}
}

func levelError(level string) error {
	return fmt.Errorf("compression: unknown level %q; use \"fastest\", \"default\" or \"best\"", level)
}

// Wrap returns the writer to answer r with, and the finish function that must
// be called exactly once after the handler is done with it (it flushes and
// closes the encoder and returns the writer to the pool; the writer must not
// be used after).
//
// When r accepts none of the algorithms, is a HEAD request or the Compressor
// is disabled, Wrap returns w itself and a no-op finish. Otherwise the
// returned writer decides when the status is written, or once MinSize bytes
// are buffered, whether to compress. It compresses when the Content-Type is
// one of ContentTypes and the body has at least MinSize bytes (a
// Content-Length below MinSize is passed through at once), unless the
// response is 204, 304 or 206 (or has Content-Range), already has a
// Content-Encoding, or has Cache-Control: no-transform. A Flush before
// MinSize bytes were written sends the response uncompressed.
//
// Compressing sets Content-Encoding, adds "Vary: Accept-Encoding", drops
// Content-Length and weakens a strong ETag. The writer implements
// http.Flusher (flushing the encoder) and Unwrap, so http.ResponseController
// (Hijack, deadlines) reaches w.
func (c *Compressor) Wrap(w http.ResponseWriter, r *http.Request) (http.ResponseWriter, func()) {
	if c == nil || !c.enabled || r.Method == http.MethodHead {
		return w, noop
	}
	ae := r.Header["Accept-Encoding"]
	if len(ae) == 0 {
		return w, noop
	}
	a := c.negotiate(ae)
	if a == nil {
		return w, noop
	}
	cw := c.writers.Get().(*compressWriter)
	cw.w, cw.algo = w, a
	return cw, cw.finishFn
}

// noop is the finish function of responses that are not wrapped.
func noop() {}

// negotiate picks the algorithm the client prefers (RFC 9110 section 12.5.3):
// the highest q-value wins, ties go to the configured order, "*" stands for
// any algorithm not listed, and nothing is chosen when q=0 everywhere or
// identity is preferred over every algorithm.
func (c *Compressor) negotiate(values []string) *algorithm {
	var q [4]int // thousandths; -1 = not mentioned
	for i := range q {
		q[i] = -1
	}
	star, identity := -1, -1
	for _, v := range values {
		for v != "" {
			var item string
			item, v, _ = strings.Cut(v, ",")
			name, params, _ := strings.Cut(item, ";")
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			qv := parseQ(params)
			switch {
			case name == "*":
				star = qv
			case strings.EqualFold(name, "identity"):
				identity = qv
			default:
				for i, a := range c.algorithms {
					if i < len(q) && (strings.EqualFold(name, a.name) || a.name == AlgorithmGzip && strings.EqualFold(name, "x-gzip")) {
						q[i] = max(q[i], qv)
					}
				}
			}
		}
	}
	var best *algorithm
	bestQ := 0
	for i, a := range c.algorithms {
		if i >= len(q) {
			break
		}
		qi := q[i]
		if qi < 0 {
			qi = star
		}
		if qi > bestQ {
			best, bestQ = a, qi
		}
	}
	if best != nil && identity > bestQ {
		return nil
	}
	return best
}

// parseQ reads the q parameter of an Accept-Encoding item in thousandths:
// 1000 when absent, 0 when malformed.
func parseQ(params string) int {
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		v = strings.TrimSpace(v)
		if v == "" || (v[0] != '0' && v[0] != '1') {
			return 0
		}
		n := int(v[0]-'0') * 1000
		if len(v) > 1 {
			if v[1] != '.' || len(v) > 5 {
				return 0
			}
			scale := 100
			for _, d := range v[2:] {
				if d < '0' || d > '9' {
					return 0
				}
				n += int(d-'0') * scale
				scale /= 10
			}
		}
		return min(n, 1000)
	}
	return 1000
}

// compressible reports whether the media type of a Content-Type value is one
// of the configured types.
func (c *Compressor) compressible(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.TrimSpace(mt)
	for _, t := range c.types {
		if strings.EqualFold(mt, t) {
			return true
		}
	}
	for _, p := range c.prefixes {
		if len(mt) >= len(p) && strings.EqualFold(mt[:len(p)], p) {
			return true
		}
	}
	return false
}
