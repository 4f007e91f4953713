package config

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Redacted replaces every secret value in RedactedJSON's output.
const Redacted = "(redacted)"

// RedactedJSON returns the effective configuration, defaults included, as
// indented JSON with snake_case keys and durations written like "30s". Every
// value that came from env() or file() is replaced by "(redacted)", as are the
// plugin config values listed in Plugin.Sensitive. Routes and pipelines refer to
// upstreams, APIs and plugins by name. The admin API serves this document.
func (g *Gateway) RedactedJSON() ([]byte, error) {
	var doc any = g.document()
	for _, p := range g.secrets {
		doc = redact(doc, p)
	}
	for i, p := range g.Plugins {
		for _, s := range p.Sensitive {
			doc = redact(doc, "/plugins/"+strconv.Itoa(i)+"/config"+s)
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode config as json: %w", err)
	}
	return buf.Bytes(), nil
}

// redact replaces the node at JSON pointer ptr in doc with Redacted. A pointer
// that leads nowhere changes nothing.
func redact(doc any, ptr string) any {
	if ptr == "" {
		return Redacted
	}
	tokens := strings.Split(ptr[1:], "/")
	node := doc
	for i, tok := range tokens {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		last := i == len(tokens)-1
		switch n := node.(type) {
		case map[string]any:
			next, ok := n[tok]
			if !ok {
				return doc
			}
			if last {
				n[tok] = Redacted
				return doc
			}
			node = next
		case []any:
			j, err := strconv.Atoi(tok)
			if err != nil || j < 0 || j >= len(n) {
				return doc
			}
			if last {
				n[j] = Redacted
				return doc
			}
			node = n[j]
		default:
			return doc
		}
	}
	return doc
}

// document builds the generic JSON tree RedactedJSON prints.
func (g *Gateway) document() map[string]any {
	s := g.Server
	proxies := make([]any, len(s.TrustedProxies))
	for i, p := range s.TrustedProxies {
		proxies[i] = p.String()
	}
	listeners := make([]any, len(g.Listeners))
	for i, l := range g.Listeners {
		var t any
		if l.TLS != nil {
			t = map[string]any{"cert_file": l.TLS.CertFile, "key_file": l.TLS.KeyFile, "min_version": tlsVersion(l.TLS.MinVersion)}
		}
		listeners[i] = map[string]any{"name": l.Name, "address": l.Address, "h2c": l.H2C, "tls": t}
	}
	upstreams := make([]any, len(g.Upstreams))
	for i, u := range g.Upstreams {
		upstreams[i] = upstreamDoc(u)
	}
	apis := make([]any, len(g.APIs))
	for i, a := range g.APIs {
		apis[i] = map[string]any{
			"name": a.Name, "base_path": a.BasePath, "host": a.Host, "stage": a.Stage,
			"variables": stringMapDoc(a.Variables), "pipeline": pluginNames(a.Pipeline),
		}
	}
	routes := make([]any, len(g.Routes))
	for i, r := range g.Routes {
		routes[i] = routeDoc(r)
	}
	plugins := make([]any, len(g.Plugins))
	for i, p := range g.Plugins {
		var cfg any
		dec := json.NewDecoder(bytes.NewReader(p.ConfigJSON))
		dec.UseNumber()
		if err := dec.Decode(&cfg); err != nil {
			cfg = Redacted // not JSON: print nothing of it
		}
		plugins[i] = map[string]any{
			"name": p.Name, "source": p.Source, "config": cfg, "memory_bytes": p.MemoryBytes,
			"timeout": dur(p.Timeout), "pool_size": p.PoolSize, "idle_timeout": dur(p.IdleTimeout), "on_error": string(p.OnError),
		}
	}
	files := make([]any, len(g.Files))
	for i, f := range g.Files {
		files[i] = f
	}
	doc := map[string]any{
		"files": files,
		"server": map[string]any{
			"read_timeout": dur(s.ReadTimeout), "read_header_timeout": dur(s.ReadHeaderTimeout),
			"write_timeout": dur(s.WriteTimeout), "idle_timeout": dur(s.IdleTimeout),
			"max_header_bytes": s.MaxHeaderBytes, "max_body_bytes": s.MaxBodyBytes,
			"shutdown_timeout": dur(s.ShutdownTimeout), "trusted_proxies": proxies,
			"request_id_header": s.RequestIDHeader,
		},
		"listeners": listeners,
		"admin":     map[string]any{"address": g.Admin.Address},
		"log":       map[string]any{"level": g.Log.Level, "output": g.Log.Output, "access_log": g.Log.AccessLog},
		"compression": map[string]any{
			"enabled": g.Compression.Enabled, "algorithms": stringsDoc(g.Compression.Algorithms),
			"min_size": g.Compression.MinSize, "content_types": stringsDoc(g.Compression.ContentTypes),
			"level": g.Compression.Level,
		},
		"upstreams": upstreams,
		"apis":      apis,
		"routes":    routes,
		"plugins":   plugins,
		"pipeline":  pluginNames(g.Pipeline),
	}
	g.addTrafficDoc(doc)
	g.addWebSocketDoc(doc)
	g.addFunctionDoc(doc)
	return doc
}

// upstreamDoc is the JSON tree of one upstream.
func upstreamDoc(u *Upstream) map[string]any {
	targets := make([]any, len(u.Targets))
	for i, t := range u.Targets {
		targets[i] = map[string]any{"url": t.URL, "weight": t.Weight}
	}
	doc := map[string]any{
		"name": u.Name, "targets": targets, "balance": string(u.Balance), "hash_on": u.HashOn,
		"connect_timeout": dur(u.ConnectTimeout), "response_timeout": dur(u.ResponseTimeout),
		"max_idle_conns_per_host": u.MaxIdleConnsPerHost, "max_conns_per_host": u.MaxConnsPerHost,
		"idle_conn_timeout": dur(u.IdleConnTimeout), "tls_skip_verify": u.TLSSkipVerify,
		"retry": nil, "health_check": nil, "passive_health": nil, "circuit_breaker": nil,
	}
	if r := u.Retry; r != nil {
		doc["retry"] = map[string]any{"attempts": r.Attempts, "on_status": intsDoc(r.OnStatus),
			"backoff": dur(r.Backoff), "max_backoff": dur(r.MaxBackoff)}
	}
	if h := u.HealthCheck; h != nil {
		doc["health_check"] = map[string]any{"path": h.Path, "interval": dur(h.Interval), "timeout": dur(h.Timeout),
			"healthy_threshold": h.HealthyThreshold, "unhealthy_threshold": h.UnhealthyThreshold,
			"expect_status": intsDoc(h.ExpectStatus)}
	}
	if p := u.PassiveHealth; p != nil {
		doc["passive_health"] = map[string]any{"consecutive_failures": p.ConsecutiveFailures, "eject_duration": dur(p.EjectDuration)}
	}
	if c := u.CircuitBreaker; c != nil {
		doc["circuit_breaker"] = map[string]any{"consecutive_failures": c.ConsecutiveFailures,
			"failure_ratio": c.FailureRatio, "min_requests": c.MinRequests, "interval": dur(c.Interval),
			"open_timeout": dur(c.OpenTimeout), "half_open_requests": c.HalfOpenRequests,
			"failure_statuses": intsDoc(c.FailureStatuses)}
	}
	return doc
}

// routeDoc is the JSON tree of one route.
func routeDoc(r *Route) map[string]any {
	doc := map[string]any{
		"key": r.Key, "method": r.Method, "path": r.Path, "host": r.Host,
		"api": nil, "upstream": nil, "mock": nil, "upstream_path": r.UpstreamPath,
		"timeout": dur(r.Timeout), "compression": nil,
		"request_headers": headersDoc(r.RequestHeaders), "response_headers": headersDoc(r.ResponseHeaders),
		"pipeline": pluginNames(r.Pipeline),
	}
	if r.API != nil {
		doc["api"] = r.API.Name
	}
	if r.Upstream != nil {
		doc["upstream"] = r.Upstream.Name
	}
	if m := r.Mock; m != nil {
		doc["mock"] = map[string]any{"status": m.Status, "headers": stringMapDoc(m.Headers), "body": m.Body}
	}
	if r.Function != nil {
		doc["function"] = r.Function.Name
	}
	if r.Compression != nil {
		doc["compression"] = *r.Compression
	}
	if r.WebSocketAPI != nil {
		doc["websocket_api"] = r.WebSocketAPI.Name
	} else {
		doc["websocket"] = map[string]any{"idle_timeout": dur(r.Tunnel.IdleTimeout), "max_duration": dur(r.Tunnel.MaxDuration)}
	}
	addRouteTrafficDoc(r, doc)
	return doc
}

// headersDoc is the JSON tree of header operations.
func headersDoc(h HeaderOps) map[string]any {
	return map[string]any{"set": stringMapDoc(h.Set), "add": stringMapDoc(h.Add), "remove": stringsDoc(h.Remove)}
}

// dur prints a duration like "30s" or "1m30s".
func dur(d time.Duration) string { return d.String() }

func stringsDoc(xs []string) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

func intsDoc(xs []int) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

func stringMapDoc(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func pluginNames(ps []*Plugin) []any {
	out := make([]any, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	return out
}

// tlsVersion prints a TLS version as written in the config ("1.2").
func tlsVersion(v uint16) string {
	switch v {
	case tls.VersionTLS10:
		return "1.0"
	case tls.VersionTLS11:
		return "1.1"
	case tls.VersionTLS12:
		return "1.2"
	case tls.VersionTLS13:
		return "1.3"
	}
	return strconv.Itoa(int(v))
}
