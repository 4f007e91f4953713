// Command custom-authorizer is an example gateway plugin that delegates the
// allow/deny decision to your own HTTP auth service, like an AWS API Gateway
// Lambda (TOKEN) authorizer. Copy it to write your own authorizer; README.md
// walks through it.
//
// For each request it reads the token from token_header, answers 401 when
// there is none, and otherwise asks the auth service (an upstream declared in
// the gateway config, reached through http_call):
//
//	GET <path>
//	Authorization: Bearer <token>
//
// The service answers 200 {"principal":"alice"} to allow, 401 to deny
// (client gets 401) or 403 to forbid (client gets 403). The decision is
// cached in the gateway's shared KV under the SHA-256 of the token for
// cache_ttl. When the service is down, times out or answers anything else, the
// request is refused with unavailable_status (503 or 401): the authorizer
// always fails closed.
//
//	upstream "auth" { target "http://127.0.0.1:9100" {} }
//
//	plugin "authorizer" {
//	  source = "bin/plugins/custom-authorizer.wasm"
//	  config = {
//	    upstream         = "auth"
//	    path             = "/authorize"
//	    principal_header = "X-Principal"
//	    cache_ttl        = "5m"
//	  }
//	  limits { timeout = "1s" } # the phase deadline bounds the auth call
//	}
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wasmgate/gateway/sdk/go/plugin"
)

// Config is the plugin's config block.
type Config struct {
	// Upstream is the auth service: an upstream declared in the gateway config.
	Upstream string `json:"upstream"`
	// Path is requested on the auth service; default "/authorize".
	Path string `json:"path"`
	// TokenHeader is the client request header holding the token; default
	// "Authorization".
	TokenHeader string `json:"token_header"`
	// TokenPrefix is stripped from the header value (case-insensitive);
	// default "Bearer " when TokenHeader is Authorization, else none.
	TokenPrefix *string `json:"token_prefix"`
	// PrincipalHeader, when set, carries the principal to the upstream; any
	// copy the client sent is removed.
	PrincipalHeader string `json:"principal_header"`
	// CacheTTL is how long a decision is cached by token hash; default "5m",
	// "0s" disables the cache.
	CacheTTL string `json:"cache_ttl"`
	// Timeout bounds the auth call; default "500ms". The phase deadline
	// (limits.timeout) bounds it too.
	Timeout string `json:"timeout"`
	// UnavailableStatus answers requests when the auth service cannot decide:
	// 503 (default) or 401.
	UnavailableStatus int `json:"unavailable_status"`
}

// decision is what the auth service decided for a token.
type decision struct {
	status    int    // 0 allow, 401, 403
	principal string // when allowed
}

// encode is the KV value: "A<principal>", "U" (401) or "F" (403).
func (d decision) encode() []byte {
	switch d.status {
	case 401:
		return []byte("U")
	case 403:
		return []byte("F")
	}
	return []byte("A" + d.principal)
}

func decode(b []byte) (decision, bool) {
	switch {
	case len(b) == 1 && b[0] == 'U':
		return decision{status: 401}, true
	case len(b) == 1 && b[0] == 'F':
		return decision{status: 403}, true
	case len(b) > 1 && b[0] == 'A':
		return decision{principal: string(b[1:])}, true
	}
	return decision{}, false
}

// state is built once per instance.
var state struct {
	cfg     Config
	prefix  string
	ttl     time.Duration
	timeout time.Duration
	calls   plugin.Metric
	hits    plugin.Metric
}

func configure(raw []byte) error {
	var c Config
	if err := plugin.DecodeConfig(raw, &c); err != nil {
		return err
	}
	if c.Upstream == "" {
		return errors.New(`upstream: name the auth service's upstream, e.g. upstream = "auth", and declare it with an upstream "auth" block`)
	}
	if c.Path == "" {
		c.Path = "/authorize"
	}
	if !strings.HasPrefix(c.Path, "/") {
		return fmt.Errorf("path: %q must start with '/'", c.Path)
	}
	if c.TokenHeader == "" {
		c.TokenHeader = "Authorization"
	}
	for field, h := range map[string]string{"token_header": c.TokenHeader, "principal_header": c.PrincipalHeader} {
		if h != "" && !isToken(h) {
			return fmt.Errorf("%s: %q is not a header name", field, h)
		}
	}
	prefix := ""
	if c.TokenPrefix != nil {
		prefix = *c.TokenPrefix
	} else if strings.EqualFold(c.TokenHeader, "Authorization") {
		prefix = "Bearer "
	}
	ttl, err := duration("cache_ttl", c.CacheTTL, 5*time.Minute)
	if err != nil {
		return err
	}
	timeout, err := duration("timeout", c.Timeout, 500*time.Millisecond)
	if err != nil {
		return err
	}
	if timeout == 0 {
		return errors.New(`timeout: must be above zero, e.g. "500ms"`)
	}
	switch c.UnavailableStatus {
	case 0:
		c.UnavailableStatus = 503
	case 401, 503:
	default:
		return fmt.Errorf("unavailable_status: %d must be 503 or 401 (the authorizer always fails closed)", c.UnavailableStatus)
	}
	calls, err := plugin.NewCounter("authorizer_calls_total", "Calls from custom-authorizer to the auth service.")
	if err != nil {
		return fmt.Errorf("define metric authorizer_calls_total: %w", err)
	}
	hits, err := plugin.NewCounter("authorizer_cache_hits_total", "custom-authorizer decisions served from the KV cache.")
	if err != nil {
		return fmt.Errorf("define metric authorizer_cache_hits_total: %w", err)
	}
	state.cfg, state.prefix, state.ttl, state.timeout = c, prefix, ttl, timeout
	state.calls, state.hits = calls, hits
	return nil
}

func duration(field, s string, def time.Duration) (time.Duration, error) {
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s: %q is not a duration like %q", field, s, def.String())
	}
	return d, nil
}

// token extracts the token from the request, or "".
func token(req plugin.Request) string {
	v := strings.TrimSpace(req.Header().Get(state.cfg.TokenHeader))
	if state.prefix != "" {
		if len(v) < len(state.prefix) || !strings.EqualFold(v[:len(state.prefix)], state.prefix) {
			return ""
		}
		v = strings.TrimSpace(v[len(state.prefix):])
	}
	return v
}

// ask calls the auth service. An error means it could not decide.
func ask(tok string) (decision, error) {
	state.calls.Add(1)
	resp, err := plugin.HTTPCall(plugin.HTTPRequest{
		Upstream: state.cfg.Upstream,
		Method:   "GET",
		Path:     state.cfg.Path,
		Header:   map[string]string{"Authorization": "Bearer " + tok, "Accept": "application/json"},
		Timeout:  state.timeout,
	})
	if err != nil {
		return decision{}, fmt.Errorf("call upstream %q: %w", state.cfg.Upstream, err)
	}
	switch resp.Status {
	case 200:
		var body struct {
			Principal string `json:"principal"`
		}
		if err := json.Unmarshal(resp.Body, &body); err != nil || body.Principal == "" || strings.ContainsAny(body.Principal, "\x00\r\n") {
			return decision{}, fmt.Errorf("upstream %q answered 200 without a valid {\"principal\":\"...\"} body", state.cfg.Upstream)
		}
		return decision{principal: body.Principal}, nil
	case 401:
		return decision{status: 401}, nil
	case 403:
		return decision{status: 403}, nil
	}
	return decision{}, fmt.Errorf("upstream %q answered %d; want 200, 401 or 403", state.cfg.Upstream, resp.Status)
}

func onRequestHeaders(req plugin.Request) plugin.Action {
	if h := state.cfg.PrincipalHeader; h != "" {
		req.Header().Del(h)
	}
	tok := token(req)
	if tok == "" {
		plugin.LogInfo("custom-authorizer: no token in " + state.cfg.TokenHeader)
		return plugin.Unauthorized()
	}
	sum := sha256.Sum256([]byte(tok))
	key := "tok:" + hex.EncodeToString(sum[:]) // never the token itself
	tag := hex.EncodeToString(sum[:4])         // names the token in logs without revealing it

	d, cached := decision{}, false
	if state.ttl > 0 {
		if v, ok, err := plugin.KVGet(key); err != nil {
			plugin.LogWarn("custom-authorizer: read the decision cache: " + err.Error() + "; asking the auth service")
		} else if ok {
			d, cached = decode(v)
		}
	}
	if cached {
		state.hits.Add(1)
	} else {
		var err error
		if d, err = ask(tok); err != nil {
			plugin.LogError("custom-authorizer: token " + tag + ": " + err.Error() + "; refusing with " + strconv.Itoa(state.cfg.UnavailableStatus))
			if state.cfg.UnavailableStatus == 401 {
				return plugin.Unauthorized()
			}
			return plugin.RespondJSON(503, "Service Unavailable")
		}
		if state.ttl > 0 {
			if err := plugin.KVSet(key, d.encode(), state.ttl); err != nil {
				plugin.LogWarn("custom-authorizer: cache the decision: " + err.Error())
			}
		}
	}
	switch d.status {
	case 401:
		plugin.LogInfo("custom-authorizer: token " + tag + " denied")
		return plugin.Unauthorized()
	case 403:
		plugin.LogInfo("custom-authorizer: token " + tag + " forbidden")
		return plugin.Forbidden()
	}
	req.SetProperty("auth.principal", d.principal)
	if h := state.cfg.PrincipalHeader; h != "" {
		req.Header().Set(h, d.principal)
	}
	return plugin.Continue
}

// isToken reports an RFC 9110 token (a header name).
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return s != ""
}

func init() {
	plugin.Handle(plugin.Handler{
		OnConfigure:      configure,
		OnRequestHeaders: onRequestHeaders,
	})
}

func main() {}
