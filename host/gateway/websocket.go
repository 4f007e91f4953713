package gateway

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wasmgate/gateway/abi"
	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/proxy"
	"github.com/wasmgate/gateway/host/upstream"
	"github.com/wasmgate/gateway/host/wasm"
	"github.com/wasmgate/gateway/host/wsapi"
)

// maxIntegrationReply caps the body read from a WebSocket route's upstream.
const maxIntegrationReply = 10 << 20

// buildWebSocketAPIs builds the runtime form of the config's websocket_api
// blocks; it needs the pools, functions and rate limits built before it.
func (g *generation) buildWebSocketAPIs(cfg *config.Gateway, functions map[string]*wasm.Function) map[string]*wsapi.API {
	if len(cfg.WebSocketAPIs) == 0 {
		return nil
	}
	out := make(map[string]*wsapi.API, len(cfg.WebSocketAPIs))
	for _, ac := range cfg.WebSocketAPIs {
		api := &wsapi.API{
			Name: ac.Name, Stage: ac.Stage, Selection: ac.Selection, Routes: make(map[string]*wsapi.Route, len(ac.Routes)),
			AllowedOrigins: ac.AllowedOrigins, MaxFrameBytes: int64(ac.MaxFrameBytes), MaxMessageBytes: int64(ac.MaxMessageBytes),
			IdleTimeout: ac.IdleTimeout, MaxDuration: ac.MaxDuration,
		}
		for key, rc := range ac.Routes {
			rt := &wsapi.Route{Key: key, Timeout: rc.Timeout, TwoWay: rc.TwoWay}
			switch {
			case rc.Function != nil:
				rt.Integration = &wsFunction{g: g, fn: functions[rc.Function.Name], api: ac}
			case rc.Upstream != nil:
				rt.Integration = &wsUpstream{g: g, pool: g.pools[rc.Upstream.Name], path: rc.UpstreamPath, api: ac}
			}
			if rc.RateLimit != nil && g.traffic != nil {
				if l := g.traffic.limits[rc.RateLimit.Name]; l != nil {
					rt.Allow = wsAllow(l, ac.Name, key)
				}
			}
			api.Routes[key] = rt
		}
		out[ac.Name] = api
	}
	return out
}

// wsAllow applies a rate limit to a route's messages: per client IP for
// ip-scoped limits, per connection for consumer and header scopes (the
// handshake's identity), one bucket for route and api scopes.
func wsAllow(l *limit, api, route string) func(context.Context, *wsapi.Conn) bool {
	return func(ctx context.Context, c *wsapi.Conn) bool {
		var key string
		switch l.cfg.Key {
		case config.RateLimitKeyIP:
			key = "ip:" + c.SourceIP
		case config.RateLimitKeyRoute, config.RateLimitKeyAPI, config.RateLimitKeyGlobal:
			key = "ws:" + api + ":" + route
		default:
			key = "conn:" + c.ID
			for _, p := range [...]string{PropertyKeyID, PropertyPrincipal, PropertyConsumer} {
				if v := c.Authorizer[p]; v != "" {
					key = "c:" + v
					break
				}
			}
		}
		d, err := l.limiter.Allow(ctx, l.cfg.Name+"|ws|"+key, l.cfg.Rate, l.cfg.Burst)
		if err != nil {
			return true // the limiter's own fail mode already decided
		}
		if !d.Allowed {
			l.denied.Inc()
			return false
		}
		l.allowed.Inc()
		return true
	}
}

// serveWebSocket is the final step of a websocket_api's handshake route: the
// plugins have run (auth); the hub runs $connect and takes the connection.
func (st *reqState) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	hub := st.gen.hub
	api := st.gen.wsAPIs[st.rt.cfg.WebSocketAPI.Name]
	if hub == nil || api == nil { // validate builds generations without a hub
		proxy.WriteError(w, http.StatusInternalServerError, "Internal server error", st.reqID)
		return
	}
	var props map[string]string
	if len(st.info.Properties) > 0 {
		props = make(map[string]string, len(st.info.Properties))
		for k, v := range st.info.Properties {
			props[k] = v
		}
	}
	status := hub.Accept(w, r, wsapi.Handshake{API: api, RequestID: st.reqID, SourceIP: st.clientIP, Authorizer: props})
	st.ex.Status = status
}

// wsFunction is a route integration calling a Wasm function with
// API Gateway's WebSocket event.
type wsFunction struct {
	g   *generation
	fn  *wasm.Function
	api *config.WebSocketAPI
}

func (i *wsFunction) Invoke(ctx context.Context, ev *wsapi.Event) (*wsapi.Reply, error) {
	c := ev.Conn
	e := abi.WebSocketEvent{RequestContext: abi.WebSocketContext{
		RouteKey: ev.RouteKey, EventType: string(ev.Type), MessageID: ev.MessageID, RequestID: ev.RequestID,
		RequestTime: ev.Time.Format("02/Jan/2006:15:04:05 -0700"), RequestTimeEpoch: ev.Time.UnixMilli(),
		MessageDirection: "IN", Stage: i.api.Stage, ConnectedAt: c.ConnectedAt.UnixMilli(), DomainName: c.DomainName,
		ConnectionID: c.ID, APIID: i.api.Name, Identity: abi.WebSocketIdentity{SourceIP: c.SourceIP, UserAgent: c.UserAgent},
		Authorizer: c.Authorizer, DisconnectStatusCode: ev.DisconnectCode, DisconnectReason: ev.DisconnectReason,
	}}
	if ev.Header != nil {
		e.Headers = make(map[string]string, len(ev.Header))
		for k, vs := range ev.Header {
			e.Headers[strings.ToLower(k)] = strings.Join(vs, ",")
		}
	}
	if len(ev.Query) > 0 {
		e.QueryStringParameters = make(map[string]string, len(ev.Query))
		for k, vs := range ev.Query {
			e.QueryStringParameters[k] = strings.Join(vs, ",")
		}
	}
	if ev.Binary || !utf8.Valid(ev.Body) {
		e.Body, e.IsBase64Encoded = base64.StdEncoding.EncodeToString(ev.Body), len(ev.Body) > 0
	} else {
		e.Body = string(ev.Body)
	}
	b, err := json.Marshal(&e)
	if err != nil {
		return nil, err
	}
	resp, err := i.fn.Invoke(ctx, b, nil)
	if err != nil {
		return nil, err
	}
	reply := &wsapi.Reply{Status: resp.StatusCode, Header: http.Header{}, Body: []byte(resp.Body)}
	for k, v := range resp.Headers {
		reply.Header.Set(k, v)
	}
	wasm.ReleaseResponse(resp)
	return reply, nil
}

// wsUpstream is a route integration POSTing each event to an HTTP upstream
// through its pool (balancing, health, breaker). The connection travels in
// headers: X-Connection-Id, X-Route-Key, X-Event-Type, X-Api-Id, X-Stage,
// the request id header, X-Forwarded-For, and X-Authorizer-* for the
// handshake plugins' properties; $connect also forwards the handshake's
// headers and query string, $disconnect adds X-Disconnect-Status-Code and
// X-Disconnect-Reason.
type wsUpstream struct {
	g    *generation
	pool *upstream.Pool
	path string
	api  *config.WebSocketAPI
}

func (i *wsUpstream) Invoke(ctx context.Context, ev *wsapi.Event) (*wsapi.Reply, error) {
	c := ev.Conn
	t, done, err := i.pool.Pick(c.SourceIP, nil)
	if err != nil {
		return nil, fmt.Errorf("upstream %q: %w", i.pool.Name(), err)
	}
	base := t.URL()
	u := url.URL{Scheme: base.Scheme, Host: base.Host, Path: strings.TrimSuffix(base.Path, "/") + i.path}
	if ev.Type == wsapi.EventConnect && len(ev.Query) > 0 {
		u.RawQuery = ev.Query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(ev.Body))
	if err != nil {
		done(0, err)
		return nil, err
	}
	h := req.Header
	if ev.Type == wsapi.EventConnect {
		for k, vs := range ev.Header {
			switch k {
			case "Connection", "Upgrade", "Host", "Content-Length", "Transfer-Encoding", "Keep-Alive", "Te", "Trailer":
				continue
			}
			// The client must not pose as the gateway: X-Authorizer-* and
			// X-Disconnect-* come only from the gateway (the other
			// gateway headers are overwritten below).
			if strings.HasPrefix(k, "X-Authorizer-") || strings.HasPrefix(k, "X-Disconnect-") {
				continue
			}
			if !strings.HasPrefix(k, "Sec-Websocket-") || k == "Sec-Websocket-Protocol" {
				h[k] = vs
			}
		}
	}
	switch {
	case ev.Binary:
		h.Set("Content-Type", "application/octet-stream")
	case len(ev.Body) > 0:
		h.Set("Content-Type", "application/json")
	}
	h.Set("X-Connection-Id", c.ID)
	h.Set("X-Route-Key", ev.RouteKey)
	h.Set("X-Event-Type", string(ev.Type))
	h.Set("X-Api-Id", i.api.Name)
	h.Set("X-Stage", i.api.Stage)
	h.Set(i.g.reqIDHeader, ev.RequestID)
	h.Set("X-Forwarded-For", c.SourceIP)
	if ev.Type == wsapi.EventDisconnect {
		h.Set("X-Disconnect-Status-Code", strconv.Itoa(ev.DisconnectCode))
		h.Set("X-Disconnect-Reason", ev.DisconnectReason)
	}
	for k, v := range c.Authorizer {
		h.Set("X-Authorizer-"+strings.NewReplacer(".", "-", "_", "-").Replace(k), v)
	}
	start := time.Now()
	resp, err := i.pool.Transport().RoundTrip(req)
	if err != nil {
		done(0, err)
		return nil, fmt.Errorf("upstream %q target %s: %w", i.pool.Name(), t, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxIntegrationReply))
	done(resp.StatusCode, err)
	if err != nil {
		return nil, fmt.Errorf("upstream %q target %s: read the answer after %s: %w", i.pool.Name(), t, time.Since(start).Round(time.Millisecond), err)
	}
	return &wsapi.Reply{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// hubConnections adapts the hub to the wasm host's connection_* functions.
type hubConnections struct{ hub *wsapi.Hub }

func (c hubConnections) Send(ctx context.Context, id string, data []byte) error {
	return wasmConnErr(c.hub.Send(ctx, id, data))
}

func (c hubConnections) Disconnect(ctx context.Context, id string) error {
	return wasmConnErr(c.hub.Disconnect(ctx, id))
}

func wasmConnErr(err error) error {
	switch {
	case errors.Is(err, wsapi.ErrGone):
		return fmt.Errorf("%w: %w", wasm.ErrConnectionGone, err)
	case errors.Is(err, wsapi.ErrTooLarge):
		return fmt.Errorf("%w: %w", wasm.ErrMessageTooLarge, err)
	}
	return err
}

// wsRedis is the hub's registry config from the redis block; nil without one.
func wsRedis(cfg *config.Gateway) *wsapi.RedisConfig {
	if cfg.Redis == nil || len(cfg.WebSocketAPIs) == 0 {
		return nil
	}
	return &wsapi.RedisConfig{
		Address: cfg.Redis.Address, DB: cfg.Redis.DB, Prefix: cfg.Redis.Prefix,
		DialTimeout: cfg.Redis.DialTimeout, Timeout: cfg.Redis.Timeout,
	}
}
