package gateway

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/wasmgate/gateway/host/wasm"
)

// httpCaller serves plugins' outbound HTTP calls through the generation's
// upstream pools, so they get the same balancing, health checks and breakers
// as proxied traffic. The wasm host has already checked the upstream against
// the allowlist (upstreams declared in HCL).
type httpCaller struct{ g *generation }

var _ wasm.HTTPCaller = httpCaller{}

func (c httpCaller) Call(ctx context.Context, name string, req *http.Request) (*http.Response, error) {
	p := c.g.pools[name]
	if p == nil {
		return nil, fmt.Errorf("http_call: upstream %q is not declared; add an upstream block", name)
	}
	t, done, err := p.Pick("", nil)
	if err != nil {
		return nil, fmt.Errorf("http_call to upstream %q: %w", name, err)
	}
	base := t.URL()
	u := *req.URL
	u.Scheme, u.Host = base.Scheme, base.Host
	if bp := strings.TrimSuffix(base.Path, "/"); bp != "" {
		u.Path = bp + u.Path
		if u.RawPath != "" {
			u.RawPath = strings.TrimSuffix(base.EscapedPath(), "/") + u.RawPath
		}
	}
	out := req.Clone(ctx)
	out.URL = &u
	out.Host = base.Host
	resp, err := p.Transport().RoundTrip(out)
	if err != nil {
		done(0, err)
		return nil, fmt.Errorf("http_call to upstream %q target %s: %w", name, t, err)
	}
	done(resp.StatusCode, nil)
	return resp, nil
}
