package wsapi

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wasmgate/gateway/host/proxy"
)

// ErrGone is returned for a connection id that is not connected (any more),
// here or, with Redis, on any instance. The @connections API answers 410.
var ErrGone = errors.New("connection is gone")

// ErrTooLarge is returned when a message for a client is over its API's
// max_message_size.
var ErrTooLarge = errors.New("message is larger than max_message_size")

const (
	// sendTimeout bounds one write to a client; a client that does not read
	// for this long is disconnected by the WebSocket library.
	sendTimeout = 10 * time.Second
	// disconnectTimeout bounds the $disconnect call at shutdown.
	disconnectTimeout = 5 * time.Second
	// syncEvery is how often lastActiveAt is written to the shared registry.
	syncEvery = 5 * time.Second
)

// Options configure a Hub.
type Options struct {
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Hub owns this instance's connections and the shared registry.
type Hub struct {
	logger   *slog.Logger
	instance string
	m        *hubMetrics

	ctx    context.Context // ends at Shutdown; integration calls derive from it
	cancel context.CancelFunc

	mu    sync.RWMutex
	conns map[string]*Conn
	apis  map[string]*API // the current config's, by name

	regMu sync.Mutex
	reg   atomic.Pointer[registry] // nil: this instance alone

	closing atomic.Bool
	wg      sync.WaitGroup
}

// NewHub returns a Hub without Redis; SetRedis shares it with other instances.
func NewHub(opts Options) *Hub {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Hub{
		logger: opts.Logger, instance: newID(8), m: newHubMetrics(opts.Registerer),
		ctx: ctx, cancel: cancel, conns: map[string]*Conn{}, apis: map[string]*API{},
	}
}

// Instance is this process's id in the shared registry.
func (h *Hub) Instance() string { return h.instance }

// Len is the number of connections open on this instance.
func (h *Hub) Len() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.conns)
}

// Rebind makes apis the current APIs: open connections use their API's new
// routes and limits from their next message on; connections of an API that
// is gone are closed with 1001.
func (h *Hub) Rebind(apis map[string]*API) {
	h.mu.Lock()
	h.apis = apis
	conns := make([]*Conn, 0, len(h.conns))
	for _, c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	for _, c := range conns {
		if api := apis[c.APIName]; api != nil {
			c.api.Store(api)
		} else {
			c.closeWith(websocket.StatusGoingAway, "the WebSocket API was removed from the configuration")
		}
	}
}

// Handshake is what the gateway knows of a handshake request.
type Handshake struct {
	API        *API
	RequestID  string
	SourceIP   string
	Authorizer map[string]string
}

// Accept serves a handshake request: the $connect route decides, then the
// connection is upgraded and served in its own goroutine, so Accept returns
// at once. It writes the response itself and returns its status (101 once
// upgraded).
func (h *Hub) Accept(w http.ResponseWriter, r *http.Request, hs Handshake) int {
	api := hs.API
	if !isUpgrade(r) {
		w.Header().Set("Upgrade", "websocket")
		w.Header().Set("Connection", "Upgrade")
		proxy.WriteError(w, http.StatusUpgradeRequired, "Upgrade Required: this is a WebSocket endpoint; connect with a WebSocket client", hs.RequestID)
		return http.StatusUpgradeRequired
	}
	if h.closing.Load() {
		proxy.WriteError(w, http.StatusServiceUnavailable, "Service Unavailable", hs.RequestID)
		return http.StatusServiceUnavailable
	}
	now := time.Now()
	c := &Conn{
		ID: newID(12), APIName: api.Name, ConnectedAt: now, SourceIP: hs.SourceIP, UserAgent: r.UserAgent(),
		DomainName: r.Host, Authorizer: hs.Authorizer, hub: h, done: make(chan struct{}), ready: make(chan struct{}),
	}
	c.api.Store(api)
	c.touch(now)

	var subprotocol string
	if rt := api.Routes[RouteConnect]; rt != nil {
		ev := &Event{Type: EventConnect, RouteKey: RouteConnect, RequestID: hs.RequestID, Time: now, Conn: c, Header: r.Header, Query: r.URL.Query()}
		reply, err := h.invoke(rt, ev)
		switch {
		case err != nil:
			h.m.handshakes.WithLabelValues(api.Name, "failed").Inc()
			h.logger.Warn("websocket $connect integration failed", "api", api.Name, "request_id", hs.RequestID, "error", err)
			proxy.WriteError(w, http.StatusInternalServerError, "Internal server error", hs.RequestID)
			return http.StatusInternalServerError
		case reply.Status < 200 || reply.Status > 299:
			h.m.handshakes.WithLabelValues(api.Name, "rejected").Inc()
			for k, v := range reply.Header {
				if !strings.HasPrefix(k, "Sec-Websocket-") {
					w.Header()[k] = v
				}
			}
			if w.Header().Get("Content-Type") == "" && len(reply.Body) > 0 {
				w.Header().Set("Content-Type", "application/json")
			}
			w.WriteHeader(reply.Status)
			_, _ = w.Write(reply.Body)
			return reply.Status
		}
		subprotocol = reply.Header.Get("Sec-WebSocket-Protocol")
	}

	hw := &hijackWriter{ResponseWriter: w, maxFrame: api.MaxFrameBytes}
	opts := &websocket.AcceptOptions{
		InsecureSkipVerify: len(api.AllowedOrigins) == 0 || hasWildcard(api.AllowedOrigins),
		OriginPatterns:     api.AllowedOrigins,
		CompressionMode:    websocket.CompressionDisabled,
		// A client's pings keep the connection from idling out (browsers
		// cannot ping; other clients often do instead of sending messages).
		OnPingReceived: func(context.Context, []byte) bool {
			c.touch(time.Now())
			return true
		},
	}
	if subprotocol != "" {
		opts.Subprotocols = []string{subprotocol}
	}
	// The connection is findable, here and in the shared registry, before
	// the client sees the 101: a backend told by $connect may send to it at
	// once (the send waits for ready).
	h.mu.Lock()
	if h.closing.Load() { // checked under mu: Shutdown's Wait never races this Add
		h.mu.Unlock()
		proxy.WriteError(w, http.StatusServiceUnavailable, "Service Unavailable", hs.RequestID)
		return http.StatusServiceUnavailable
	}
	h.conns[c.ID] = c
	h.wg.Add(1)
	h.mu.Unlock()
	reg := h.reg.Load()
	if reg != nil {
		if err := reg.register(h.ctx, c.info(), api.MaxDuration); err != nil {
			h.logger.Warn("websocket registry: cannot register the connection; it is reachable on this instance only", "connection_id", c.ID, "error", err)
		}
	}
	ws, err := websocket.Accept(hw, r, opts)
	if err != nil || hw.fc == nil {
		h.mu.Lock()
		delete(h.conns, c.ID)
		h.mu.Unlock()
		if reg != nil {
			reg.unregister(context.WithoutCancel(h.ctx), c.ID)
		}
		close(c.ready)
		h.wg.Done()
		h.m.handshakes.WithLabelValues(api.Name, "failed").Inc()
		h.logger.Info("websocket handshake refused", "api", api.Name, "request_id", hs.RequestID, "error", err)
		if ws != nil {
			_ = ws.CloseNow()
		}
		return http.StatusBadRequest
	}
	ws.SetReadLimit(api.MaxMessageBytes)
	c.ws, c.fc = ws, hw.fc
	close(c.ready)
	h.m.handshakes.WithLabelValues(api.Name, "accepted").Inc()
	h.m.open.WithLabelValues(api.Name).Inc()
	h.logger.Info("websocket connected", "api", api.Name, "connection_id", c.ID, "source_ip", c.SourceIP, "request_id", hs.RequestID)
	c.timer = time.AfterFunc(min(api.IdleTimeout, api.MaxDuration), c.checkLimits)
	go h.serve(c)
	return http.StatusSwitchingProtocols
}

// serve reads the connection's messages until it ends, then runs $disconnect.
func (h *Hub) serve(c *Conn) {
	defer h.wg.Done()
	var err error
	for {
		var (
			typ  websocket.MessageType
			data []byte
		)
		typ, data, err = c.ws.Read(context.Background())
		if err != nil {
			break
		}
		now := time.Now()
		c.touch(now)
		if reg := h.reg.Load(); reg != nil && now.UnixNano()-c.lastSynced > int64(syncEvery) {
			c.lastSynced = now.UnixNano()
			reg.touch(h.ctx, c.ID, now)
		}
		h.message(c, typ, data)
	}
	h.finish(c, err)
}

// finish cleans up after the read loop ended with err.
func (h *Hub) finish(c *Conn, err error) {
	c.timer.Stop()
	if c.fc.tooBig.Load() {
		c.closeWith(websocket.StatusMessageTooBig, "frame too big")
	}
	c.closeMu.Lock()
	code, reason, closing := c.closeCode, c.closeReason, c.closeDone
	c.closeMu.Unlock()
	if closing != nil {
		// The gateway ended the connection: let its close frame go out (the
		// library bounds the close handshake at 5 s).
		<-closing
	} else {
		var ce websocket.CloseError
		switch {
		case errors.As(err, &ce):
			code, reason = ce.Code, ce.Reason
		case err != nil && strings.Contains(err.Error(), "read limited at"):
			// The library sent 1009 itself for a message over SetReadLimit.
			code, reason = websocket.StatusMessageTooBig, "message too big"
		default:
			code = websocket.StatusAbnormalClosure
		}
	}
	_ = c.ws.CloseNow()

	h.mu.Lock()
	delete(h.conns, c.ID)
	h.mu.Unlock()
	close(c.done)
	api := c.api.Load()
	h.m.open.WithLabelValues(api.Name).Dec()
	h.m.closes.WithLabelValues(api.Name, strconv.Itoa(int(code))).Inc()
	h.logger.Info("websocket disconnected", "api", api.Name, "connection_id", c.ID, "code", int(code), "reason", reason,
		"duration_s", time.Since(c.ConnectedAt).Round(time.Millisecond).Seconds())
	if reg := h.reg.Load(); reg != nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(h.ctx), 2*time.Second)
		reg.unregister(ctx, c.ID)
		cancel()
	}
	if rt := api.Routes[RouteDisconnect]; rt != nil {
		ev := &Event{
			Type: EventDisconnect, RouteKey: RouteDisconnect, RequestID: newID(12), Time: time.Now(), Conn: c,
			DisconnectCode: int(code), DisconnectReason: reason,
		}
		if _, err := h.invoke(rt, ev); err != nil {
			h.logger.Warn("websocket $disconnect integration failed", "api", api.Name, "connection_id", c.ID, "error", err)
		}
	}
}

// message routes one message and calls its integration.
func (h *Hub) message(c *Conn, typ websocket.MessageType, data []byte) {
	api := c.api.Load()
	key := selectRoute(api.Selection, data, typ == websocket.MessageText)
	rt := api.Routes[key]
	if rt == nil || strings.HasPrefix(key, "$") {
		key, rt = RouteDefault, api.Routes[RouteDefault]
	}
	reqID := newID(12)
	if rt == nil {
		h.m.messages.WithLabelValues(api.Name, "", "in").Inc()
		h.m.messageErrors.WithLabelValues(api.Name, "", "no_route").Inc()
		h.sendError(c, "Forbidden", reqID)
		return
	}
	h.m.messages.WithLabelValues(api.Name, key, "in").Inc()
	if rt.Allow != nil && !rt.Allow(h.ctx, c) {
		h.m.messageErrors.WithLabelValues(api.Name, key, "throttled").Inc()
		h.sendError(c, "Too Many Requests", reqID)
		return
	}
	ev := &Event{
		Type: EventMessage, RouteKey: key, RequestID: reqID, MessageID: newID(12), Time: time.Now(), Conn: c,
		Body: data, Binary: typ == websocket.MessageBinary,
	}
	reply, err := h.invoke(rt, ev)
	switch {
	case err != nil:
		h.m.messageErrors.WithLabelValues(api.Name, key, "integration").Inc()
		h.logger.Warn("websocket integration failed", "api", api.Name, "route", key, "connection_id", c.ID, "request_id", reqID, "error", err)
		h.sendError(c, "Internal server error", reqID)
	case reply.Status >= 500:
		h.m.messageErrors.WithLabelValues(api.Name, key, "integration").Inc()
		h.logger.Warn("websocket integration answered an error", "api", api.Name, "route", key, "connection_id", c.ID, "request_id", reqID, "status", reply.Status)
		h.sendError(c, "Internal server error", reqID)
	case rt.TwoWay && len(reply.Body) > 0:
		if err := c.send(h.ctx, reply.Body); err == nil {
			h.m.messages.WithLabelValues(api.Name, key, "out").Inc()
		}
	}
}

// invoke calls a route's integration within its timeout and records its duration.
func (h *Hub) invoke(rt *Route, ev *Event) (*Reply, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(h.ctx), rt.Timeout)
	defer cancel()
	start := time.Now()
	reply, err := rt.Integration.Invoke(ctx, ev)
	h.m.integration.WithLabelValues(ev.Conn.APIName, rt.Key).Observe(time.Since(start).Seconds())
	if err != nil {
		return nil, err
	}
	if reply.Status == 0 {
		reply.Status = http.StatusOK
	}
	return reply, nil
}

// sendError sends API Gateway's error message shape to the client.
func (h *Hub) sendError(c *Conn, msg, reqID string) {
	b, _ := json.Marshal(map[string]string{"message": msg, "connectionId": c.ID, "requestId": reqID})
	_ = c.send(h.ctx, b)
}

// Send delivers data to connection id, on this instance or through Redis.
func (h *Hub) Send(ctx context.Context, id string, data []byte) error {
	if c := h.local(id); c != nil {
		if api := c.api.Load(); int64(len(data)) > api.MaxMessageBytes {
			return ErrTooLarge
		}
		if err := c.send(ctx, data); err != nil {
			return fmt.Errorf("send to connection %s: %w", id, err)
		}
		h.m.messages.WithLabelValues(c.APIName, "@connections", "out").Inc()
		return nil
	}
	if reg := h.reg.Load(); reg != nil {
		return reg.deliver(ctx, id, opSend, data)
	}
	return ErrGone
}

// Disconnect closes connection id (1000) wherever it is; $disconnect runs.
func (h *Hub) Disconnect(ctx context.Context, id string) error {
	if c := h.local(id); c != nil {
		c.closeWith(websocket.StatusNormalClosure, "disconnected by the @connections API")
		return nil
	}
	if reg := h.reg.Load(); reg != nil {
		return reg.deliver(ctx, id, opClose, nil)
	}
	return ErrGone
}

// Info describes a connection, as GET @connections/{id} shows it.
type Info struct {
	ConnectionID string    `json:"connectionId"`
	API          string    `json:"api"`
	ConnectedAt  time.Time `json:"connectedAt"`
	LastActiveAt time.Time `json:"lastActiveAt"`
	SourceIP     string    `json:"sourceIp"`
	UserAgent    string    `json:"userAgent"`
	Instance     string    `json:"instance"`
}

// Get describes connection id wherever it is.
func (h *Hub) Get(ctx context.Context, id string) (Info, error) {
	if c := h.local(id); c != nil {
		return c.info(), nil
	}
	if reg := h.reg.Load(); reg != nil {
		return reg.lookup(ctx, id)
	}
	return Info{}, ErrGone
}

// maxMessage is the largest message the @connections API takes for api
// (the configured max_message_size, or API Gateway's 128 KiB).
func (h *Hub) maxMessage(api string) int64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if a := h.apis[api]; a != nil {
		return a.MaxMessageBytes
	}
	return 128 << 10
}

func (h *Hub) local(id string) *Conn {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.conns[id]
}

// Shutdown closes every connection with 1001, waits for their $disconnect
// calls until ctx ends, then leaves the shared registry.
func (h *Hub) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	if !h.closing.CompareAndSwap(false, true) {
		h.mu.Unlock()
		return nil
	}
	for _, c := range h.conns {
		c.closeWith(websocket.StatusGoingAway, "the gateway is shutting down")
	}
	h.mu.Unlock()
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("websocket connections still closing: %w", ctx.Err())
	}
	h.cancel()
	h.regMu.Lock()
	if reg := h.reg.Swap(nil); reg != nil {
		reg.close()
	}
	h.regMu.Unlock()
	return err
}

// selectRoute evaluates the route selection expression on a message: the
// string at path in a JSON object, or "" when there is none.
func selectRoute(path []string, data []byte, text bool) string {
	if !text || len(path) == 0 || len(data) == 0 {
		return ""
	}
	var cur json.RawMessage = data
	for _, field := range path {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(cur, &obj); err != nil {
			return ""
		}
		v, ok := obj[field]
		if !ok {
			return ""
		}
		cur = v
	}
	var s string
	if err := json.Unmarshal(cur, &s); err != nil {
		return ""
	}
	return s
}

// isUpgrade reports whether r asks for a WebSocket upgrade.
func isUpgrade(r *http.Request) bool {
	return r.Method == http.MethodGet && headerHasToken(r.Header, "Connection", "upgrade") && headerHasToken(r.Header, "Upgrade", "websocket")
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

func hasWildcard(patterns []string) bool {
	for _, p := range patterns {
		if p == "*" {
			return true
		}
	}
	return false
}

// newID returns n random bytes in unpadded URL-safe base64.
func newID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
