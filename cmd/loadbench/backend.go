package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"time"
)

// backendBody is the default response of the benchmark backend: about 100 bytes
// of JSON, like a small API answer.
const backendBody = `{"id":12345,"name":"loadbench","status":"ok","items":[1,2,3,4,5],"message":"hello from the backend"}`

// maxBackendSize bounds ?size=N so a typo cannot exhaust memory.
const maxBackendSize = 64 << 20

// backendHandler answers every request with 200 and backendBody; ?size=N
// answers N bytes of JSON-ish filler instead and ?delay=D waits D (a Go
// duration such as 2ms) first. A POST is answered with its own body (the
// echo behind the WebSocket upstream route of wsrtt).
type backendHandler struct {
	body  []byte
	clen  []string
	ctype []string
	fill  []byte // shared read-only filler for ?size
}

func newBackendHandler() *backendHandler {
	fill := make([]byte, 1<<20)
	for i := range fill {
		fill[i] = 'a' + byte(i%26)
	}
	return &backendHandler{
		body:  []byte(backendBody),
		clen:  []string{strconv.Itoa(len(backendBody))},
		ctype: []string{"application/json"},
		fill:  fill,
	}
}

func (h *backendHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	if r.Method == http.MethodPost {
		h.echo(w, r)
		return
	}
	hdr["Content-Type"] = h.ctype
	if r.URL.RawQuery == "" {
		hdr["Content-Length"] = h.clen
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(h.body)
		return
	}
	q := r.URL.Query()
	if d := q.Get("delay"); d != "" {
		delay, err := time.ParseDuration(d)
		if err != nil || delay < 0 {
			http.Error(w, fmt.Sprintf("bad delay %q: want a Go duration such as 2ms", d), http.StatusBadRequest)
			return
		}
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if s := q.Get("size"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > maxBackendSize {
			http.Error(w, fmt.Sprintf("bad size %q: want 0..%d bytes", s, maxBackendSize), http.StatusBadRequest)
			return
		}
		hdr["Content-Length"] = []string{strconv.Itoa(n)}
		w.WriteHeader(http.StatusOK)
		for n > 0 {
			k := min(n, len(h.fill))
			if _, err := w.Write(h.fill[:k]); err != nil {
				return
			}
			n -= k
		}
		return
	}
	hdr["Content-Length"] = h.clen
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(h.body)
}

// echo answers a POST with its body and Content-Type.
func (h *backendHandler) echo(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBackendSize+1))
	switch {
	case err != nil:
		http.Error(w, "read the body: "+err.Error(), http.StatusBadRequest)
		return
	case len(body) > maxBackendSize:
		http.Error(w, fmt.Sprintf("body over %d bytes", maxBackendSize), http.StatusRequestEntityTooLarge)
		return
	}
	hdr := w.Header()
	if ct := r.Header["Content-Type"]; len(ct) > 0 {
		hdr["Content-Type"] = ct
	}
	hdr["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// serveUntilDone listens on addr, prints "listening on ADDR" as the first line
// of out, and serves h until ctx is done.
func serveUntilDone(ctx context.Context, addr string, h http.Handler, out io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w; pass a free --addr such as 127.0.0.1:0", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(out, "listening on %s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shut down %s: %w", ln.Addr(), err)
	}
	return nil
}

func cmdBackend(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("backend", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: loadbench backend [--addr 127.0.0.1:0]\n\n"+
			"Serves 200 with a ~100-byte JSON body; ?size=N for N bytes, ?delay=2ms to wait first;\n"+
			"a POST gets its own body back.\n"+
			"Prints \"listening on ADDR\" as its first line.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := serveUntilDone(ctx, *addr, newBackendHandler(), stdout); err != nil {
		fmt.Fprintf(stderr, "loadbench backend: %v\n", err)
		return 1
	}
	return 0
}

// newBareProxy returns the baseline the gateway must beat: a
// httputil.ReverseProxy with a default transport whose only change is
// MaxIdleConnsPerHost 1024.
func newBareProxy(upstream *url.URL) *httputil.ReverseProxy {
	p := httputil.NewSingleHostReverseProxy(upstream)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 1024
	p.Transport = tr
	return p
}

func cmdBareproxy(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bareproxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	upstream := fs.String("upstream", "", "backend URL to forward to, e.g. http://127.0.0.1:8081 (required)")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: loadbench bareproxy --upstream URL [--addr 127.0.0.1:0]\n\n"+
			"A bare httputil.ReverseProxy (MaxIdleConnsPerHost 1024, nothing else tuned): the baseline.\n"+
			"Prints \"listening on ADDR\" as its first line.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	u, err := url.Parse(*upstream)
	if err != nil || u.Scheme == "" || u.Host == "" {
		fmt.Fprintf(stderr, "loadbench bareproxy: --upstream %q is not an absolute URL; pass e.g. http://127.0.0.1:8081\n", *upstream)
		return 2
	}
	if err := serveUntilDone(ctx, *addr, newBareProxy(u), stdout); err != nil {
		fmt.Fprintf(stderr, "loadbench bareproxy: %v\n", err)
		return 1
	}
	return 0
}
