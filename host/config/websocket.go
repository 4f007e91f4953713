package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// WebSocket defaults: API Gateway's WebSocket API quotas.
const (
	DefaultWebSocketFrameSize   = 32 << 10
	DefaultWebSocketMessageSize = 128 << 10
	DefaultWebSocketIdleTimeout = 10 * time.Minute
	DefaultWebSocketMaxDuration = 2 * time.Hour
	DefaultWebSocketTimeout     = 29 * time.Second // API Gateway's integration timeout
	DefaultRouteSelection       = "$request.body.action"
)

// The route keys every WebSocket API understands.
const (
	RouteConnect    = "$connect"
	RouteDisconnect = "$disconnect"
	RouteDefault    = "$default"
)

// WebSocketAPI is a managed WebSocket API (websocket_api block), API Gateway's
// model: the gateway terminates the WebSocket, selects a route for every
// message from its JSON body, and calls that route's integration (an HTTP
// upstream or a function) with the message. Connections are addressed through
// the @connections admin API.
type WebSocketAPI struct {
	Name string
	Path string // the handshake path, such as "/chat"
	Host string // "" = any host
	// Stage is requestContext.stage in events; default "$default".
	Stage string
	// RouteSelection is the selection expression: "$request.body.FIELD" with
	// FIELD a dotted path into the JSON message; Selection holds FIELD split.
	RouteSelection string
	Selection      []string
	// Pipeline runs on the handshake, before $connect (auth plugins).
	Pipeline []*Plugin
	// AllowedOrigins are the Origin header patterns accepted on the
	// handshake (path.Match syntax against the origin's host, or "*");
	// empty = any origin, as in API Gateway.
	AllowedOrigins []string

	MaxFrameBytes   int           // one frame; larger frames close the connection with 1009
	MaxMessageBytes int           // one reassembled message; larger ones close with 1009
	IdleTimeout     time.Duration // no message either way for this long closes with 1001
	MaxDuration     time.Duration // connection lifetime; then closed with 1001

	// Routes by route key ("$connect", "$disconnect", "$default", "sendMessage").
	Routes map[string]*WebSocketRoute
	// RouteKeys lists Routes' keys in declaration order.
	RouteKeys []string
	Range     hcl.Range
}

// WebSocketRoute is one route of a WebSocket API and its integration.
type WebSocketRoute struct {
	Key string
	// Exactly one of Upstream and Function is set.
	Upstream *Upstream
	Function *Function
	// UpstreamPath is the path the message is POSTed to on the upstream;
	// default "/".
	UpstreamPath string
	Timeout      time.Duration // integration timeout; default 29s
	// TwoWay sends the integration's response body back to the client.
	TwoWay    bool
	RateLimit *RateLimit // nil = none
	Range     hcl.Range
}

// Tunnel holds the limits of an upgraded connection proxied as it is (a
// route's websocket block): the upstream speaks WebSocket itself.
type Tunnel struct {
	IdleTimeout time.Duration // no byte either way for this long closes both sides
	MaxDuration time.Duration // connection lifetime
}

// DefaultTunnel is what a route without a websocket block gets.
var DefaultTunnel = Tunnel{IdleTimeout: DefaultWebSocketIdleTimeout, MaxDuration: DefaultWebSocketMaxDuration}

// websocketAPI decodes a websocket_api block and adds its handshake route to
// the route table (so the router, the rate limits and the metrics see it as
// "GET PATH").
func (r *resolver) websocketAPI(b *hcl.Block) {
	d := r.d
	idx := len(r.g.WebSocketAPIs)
	ptr := "/websocket_apis/" + strconv.Itoa(idx)
	content, diags := b.Body.Content(&hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{
			{Name: "path", Required: true}, {Name: "host"}, {Name: "stage"}, {Name: "route_selection"},
			{Name: "pipeline"}, {Name: "allowed_origins"}, {Name: "max_frame_size"}, {Name: "max_message_size"},
			{Name: "idle_timeout"}, {Name: "max_duration"}, {Name: "rate_limit"},
		},
		Blocks: []hcl.BlockHeaderSchema{{Type: "route", LabelNames: []string{"key"}}},
	})
	d.diags = append(d.diags, diags...)
	a := content.Attributes
	api := &WebSocketAPI{
		Name:            b.Labels[0],
		Stage:           "$default",
		RouteSelection:  DefaultRouteSelection,
		AllowedOrigins:  []string{},
		MaxFrameBytes:   DefaultWebSocketFrameSize,
		MaxMessageBytes: DefaultWebSocketMessageSize,
		IdleTimeout:     DefaultWebSocketIdleTimeout,
		MaxDuration:     DefaultWebSocketMaxDuration,
		Routes:          map[string]*WebSocketRoute{},
		Range:           b.DefRange,
	}
	r.g.WebSocketAPIs = append(r.g.WebSocketAPIs, api)
	owner := fmt.Sprintf("websocket_api %q", api.Name)

	pathOK := false
	if at := a["path"]; at != nil {
		if _, ok := d.str(at, ptr+"/path", &api.Path); ok {
			t, err := parseTemplate(api.Path)
			switch {
			case err != nil:
				d.errorf(at.Expr.Range(), "Invalid path", "%s. Write a path such as \"/chat\".", capitalize(err.Error()))
			case len(t.params) > 0:
				d.errorf(at.Expr.Range(), "Invalid path", "The WebSocket path %q has parameters; use literal segments only, such as \"/chat\".", api.Path)
			default:
				pathOK = true
			}
		}
	}
	d.host(a["host"], ptr+"/host", &api.Host)
	d.str(a["stage"], ptr+"/stage", &api.Stage)
	if at := a["route_selection"]; at != nil {
		if _, ok := d.str(at, ptr+"/route_selection", &api.RouteSelection); ok {
			if _, err := ParseRouteSelection(api.RouteSelection); err != nil {
				d.errorf(at.Expr.Range(), "Invalid route selection expression", "%s.", capitalize(err.Error()))
			}
		}
	}
	api.Selection, _ = ParseRouteSelection(api.RouteSelection)
	api.Pipeline = r.plugins(d.pipeline(a["pipeline"]), owner)
	d.strings(a["allowed_origins"], ptr+"/allowed_origins", &api.AllowedOrigins)
	d.sizeInt(a["max_frame_size"], ptr+"/max_frame_size", &api.MaxFrameBytes)
	d.sizeInt(a["max_message_size"], ptr+"/max_message_size", &api.MaxMessageBytes)
	d.duration(a["idle_timeout"], ptr+"/idle_timeout", &api.IdleTimeout)
	d.duration(a["max_duration"], ptr+"/max_duration", &api.MaxDuration)
	if api.MaxFrameBytes < 125 {
		d.errorf(a["max_frame_size"].Expr.Range(), "Invalid max_frame_size", "max_frame_size is %d bytes; allow at least 125 bytes (a control frame), such as \"32KiB\".", api.MaxFrameBytes)
	}
	if api.MaxMessageBytes < api.MaxFrameBytes && a["max_message_size"] != nil {
		d.errorf(a["max_message_size"].Expr.Range(), "Invalid max_message_size",
			"max_message_size (%d bytes) is smaller than max_frame_size (%d bytes); a message is one or more frames, so raise max_message_size.", api.MaxMessageBytes, api.MaxFrameBytes)
	}
	for _, name := range []string{"idle_timeout", "max_duration"} {
		v := api.IdleTimeout
		if name == "max_duration" {
			v = api.MaxDuration
		}
		if at := a[name]; at != nil && v <= 0 {
			d.errorf(at.Expr.Range(), "Invalid "+name, "%s must be positive, such as \"10m\".", name)
		}
	}

	for _, rb := range content.Blocks {
		wr := r.websocketRoute(rb, ptr+"/routes/"+strconv.Itoa(len(api.RouteKeys)), owner)
		if wr == nil {
			continue
		}
		if prev, dup := api.Routes[wr.Key]; dup {
			d.errorf(rb.LabelRanges[0], "Duplicate route",
				"%s already has a route %q. Previous definition was at %s; remove one.", owner, wr.Key, posString(prev.Range))
			continue
		}
		api.Routes[wr.Key] = wr
		api.RouteKeys = append(api.RouteKeys, wr.Key)
	}
	if len(api.Routes) == 0 {
		d.errorf(b.DefRange, "No routes", "%s has no route block. Add at least route \"$default\" { function = function.NAME } or an upstream integration.", owner)
	}

	// The handshake is a GET route of its own in the route table.
	rt := &Route{
		Key: "GET " + api.Path, Method: "GET", Path: api.Path, Host: api.Host,
		Pipeline: api.Pipeline, WebSocketAPI: api, Range: b.DefRange,
		RequestHeaders: emptyHeaderOps(), ResponseHeaders: emptyHeaderOps(),
	}
	rt.RateLimit = r.rateLimitRef(a["rate_limit"], owner)
	off := false
	rt.Compression = &off
	r.g.Routes = append(r.g.Routes, rt)
	if pathOK {
		t, _ := parseTemplate(api.Path)
		key := "GET " + t.shape + " " + rt.Host
		if prev, dup := r.routes[key]; dup {
			d.errorf(a["path"].Expr.Range(), "Duplicate route",
				"%s handshakes on GET %s, which route %q already serves. Previous definition was at %s; change the path of one.", owner, api.Path, prev.Key, posString(prev.Range))
		} else {
			r.routes[key] = rt
		}
	}
}

// websocketRoute decodes one route block of a websocket_api.
func (r *resolver) websocketRoute(b *hcl.Block, ptr, apiOwner string) *WebSocketRoute {
	d := r.d
	wr := &WebSocketRoute{Key: b.Labels[0], UpstreamPath: "/", Timeout: DefaultWebSocketTimeout, Range: b.DefRange}
	if wr.Key == "" || strings.ContainsAny(wr.Key, " \t\r\n") || (strings.HasPrefix(wr.Key, "$") && wr.Key != RouteConnect && wr.Key != RouteDisconnect && wr.Key != RouteDefault) {
		d.errorf(b.LabelRanges[0], "Invalid route key",
			"%q is not a WebSocket route key. Use $connect, $disconnect, $default, or the value the route selection expression yields, such as \"sendMessage\".", wr.Key)
		return nil
	}
	content, diags := b.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "upstream"}, {Name: "function"}, {Name: "upstream_path"}, {Name: "timeout"}, {Name: "two_way"}, {Name: "rate_limit"},
	}})
	d.diags = append(d.diags, diags...)
	a := content.Attributes
	owner := fmt.Sprintf("route %q of %s", wr.Key, apiOwner)
	if at := a["upstream"]; at != nil {
		if name, ok := d.ref(at.Expr, "upstream", "chat"); ok {
			if u, ok := r.g.UpstreamByName[name]; ok {
				wr.Upstream = u
			} else {
				d.errorf(at.Expr.Range(), "Unknown upstream",
					"%s refers to upstream %q, which is not defined. Add an upstream %q block or fix the name.", owner, name, name)
			}
		}
	}
	if at := a["function"]; at != nil {
		wr.Function = r.functionRef(at, owner)
	}
	switch {
	case a["upstream"] == nil && a["function"] == nil:
		d.errorf(b.DefRange, "Missing integration",
			"%s has neither upstream nor function. Set function = function.NAME or upstream = upstream.NAME.", owner)
	case a["upstream"] != nil && a["function"] != nil:
		d.errorf(a["function"].NameRange, "Conflicting integration",
			"%s sets both upstream and function; a route has exactly one integration, so remove one.", owner)
	}
	if at := a["upstream_path"]; at != nil {
		if secret, ok := d.str(at, ptr+"/upstream_path", &wr.UpstreamPath); ok {
			if !strings.HasPrefix(wr.UpstreamPath, "/") {
				d.errorf(at.Expr.Range(), "Invalid upstream path", "%s must start with \"/\", such as \"/ws/messages\".", show(wr.UpstreamPath, secret))
			}
			if a["upstream"] == nil {
				d.errorf(at.NameRange, "Unused upstream_path", "%s has no upstream, so upstream_path does nothing; remove it.", owner)
			}
		}
	}
	d.duration(a["timeout"], ptr+"/timeout", &wr.Timeout)
	d.boolean(a["two_way"], ptr+"/two_way", &wr.TwoWay)
	if wr.TwoWay && wr.Key == RouteDisconnect {
		d.errorf(a["two_way"].NameRange, "Invalid two_way", "%s cannot answer: the client is gone when $disconnect runs; remove two_way.", owner)
	}
	wr.RateLimit = r.rateLimitRef(a["rate_limit"], owner)
	return wr
}

// ParseRouteSelection checks a route selection expression and returns the
// path of the body field it selects: "$request.body.action" → ["action"],
// "$request.body.meta.type" → ["meta", "type"].
func ParseRouteSelection(expr string) ([]string, error) {
	rest, ok := strings.CutPrefix(expr, "$request.body.")
	if !ok || rest == "" {
		return nil, fmt.Errorf("%q is not a route selection expression; write $request.body.FIELD, such as \"$request.body.action\"", expr)
	}
	parts := strings.Split(rest, ".")
	for _, p := range parts {
		if p == "" || strings.ContainsAny(p, " \t$[]") {
			return nil, fmt.Errorf("%q has an empty or invalid field name; write $request.body.FIELD or $request.body.FIELD.SUBFIELD", expr)
		}
	}
	return parts, nil
}

// tunnelBlock decodes a route's websocket block (limits of a proxied upgrade).
func (d *decoder) tunnelBlock(b *hcl.Block, ptr string) *Tunnel {
	content, diags := b.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "idle_timeout"}, {Name: "max_duration"},
	}})
	d.diags = append(d.diags, diags...)
	t := DefaultTunnel
	a := content.Attributes
	d.duration(a["idle_timeout"], ptr+"/idle_timeout", &t.IdleTimeout)
	d.duration(a["max_duration"], ptr+"/max_duration", &t.MaxDuration)
	for name, v := range map[string]time.Duration{"idle_timeout": t.IdleTimeout, "max_duration": t.MaxDuration} {
		if at := a[name]; at != nil && v <= 0 {
			d.errorf(at.Expr.Range(), "Invalid "+name, "%s must be positive, such as \"10m\".", name)
		}
	}
	return &t
}

// addWebSocketDoc adds the WebSocket APIs to the RedactedJSON document.
func (g *Gateway) addWebSocketDoc(doc map[string]any) {
	apis := make([]any, len(g.WebSocketAPIs))
	for i, a := range g.WebSocketAPIs {
		routes := make([]any, 0, len(a.RouteKeys))
		for _, k := range a.RouteKeys {
			wr := a.Routes[k]
			rd := map[string]any{"key": k, "timeout": dur(wr.Timeout), "two_way": wr.TwoWay, "upstream": nil, "function": nil, "rate_limit": nil}
			if wr.Upstream != nil {
				rd["upstream"], rd["upstream_path"] = wr.Upstream.Name, wr.UpstreamPath
			}
			if wr.Function != nil {
				rd["function"] = wr.Function.Name
			}
			if wr.RateLimit != nil {
				rd["rate_limit"] = wr.RateLimit.Name
			}
			routes = append(routes, rd)
		}
		apis[i] = map[string]any{
			"name": a.Name, "path": a.Path, "host": a.Host, "stage": a.Stage, "route_selection": a.RouteSelection,
			"pipeline": pluginNames(a.Pipeline), "allowed_origins": stringsDoc(a.AllowedOrigins),
			"max_frame_size": a.MaxFrameBytes, "max_message_size": a.MaxMessageBytes,
			"idle_timeout": dur(a.IdleTimeout), "max_duration": dur(a.MaxDuration), "routes": routes,
		}
	}
	doc["websocket_apis"] = apis
}
