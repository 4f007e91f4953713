package config

import (
	"net/netip"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Gateway is one fully decoded and validated configuration. It is immutable once
// Load returns it: components read it and never write to it. A reload builds a new
// Gateway from scratch.
type Gateway struct {
	// Files are the paths of the HCL files this config was read from.
	Files []string

	Server      Server
	Listeners   []*Listener
	Admin       Admin
	Log         Log
	Compression Compression

	// Upstreams in declaration order; UpstreamByName indexes them.
	Upstreams      []*Upstream
	UpstreamByName map[string]*Upstream

	// APIs in declaration order (routes declared at top level belong to no API).
	APIs []*API

	// Routes is every route, top level and inside api blocks, flattened, with the
	// API's base path already applied to Path.
	Routes []*Route

	// Plugins in declaration order; PluginByName indexes them.
	Plugins      []*Plugin
	PluginByName map[string]*Plugin

	// Pipeline is the global plugin pipeline, run before API and route pipelines.
	Pipeline []*Plugin

	// Functions are the Wasm function backends in declaration order;
	// FunctionByName indexes them.
	Functions      []*Function
	FunctionByName map[string]*Function

	// WebSocketAPIs are the managed WebSocket APIs in declaration order; each
	// also has its handshake route in Routes.
	WebSocketAPIs []*WebSocketAPI

	// Redis is the top-level redis block; nil when none is declared.
	Redis *Redis
	// RateLimits in declaration order; RateLimitByName indexes them.
	RateLimits      []*RateLimit
	RateLimitByName map[string]*RateLimit
	// RateLimit is the account-level limit of the gateway block (rate_limit =
	// rate_limit.NAME), applied to every route before API and route limits; nil = none.
	RateLimit *RateLimit
	// CacheStore is where route response caches keep entries.
	CacheStore CacheStore
	// KV selects the backend of the plugins' shared KV store (kv block).
	KV KVStore
	// UsagePlans in declaration order; UsagePlanByName indexes them.
	UsagePlans      []*UsagePlan
	UsagePlanByName map[string]*UsagePlan

	// secrets are JSON pointers into the RedactedJSON document whose values
	// came from env() or file(); Load records them.
	secrets []string
}

// Server holds the limits and timeouts shared by every data-plane listener.
type Server struct {
	ReadTimeout       time.Duration // whole request, headers and body; 0 = none
	ReadHeaderTimeout time.Duration // request headers
	WriteTimeout      time.Duration // whole response; 0 = none
	IdleTimeout       time.Duration // keep-alive idle time
	MaxHeaderBytes    int           // request line and headers
	MaxBodyBytes      int64         // request body; larger bodies get 413; 0 = unlimited
	ShutdownTimeout   time.Duration // drain time on SIGTERM/SIGINT and on reload
	// TrustedProxies are the peers whose X-Forwarded-For is believed when
	// computing the client IP. Empty means the TCP peer is always the client.
	TrustedProxies []netip.Prefix
	// RequestIDHeader is the header carrying the request id (default X-Request-Id).
	RequestIDHeader string
}

// Listener is one data-plane socket.
type Listener struct {
	Name    string
	Address string // host:port
	TLS     *TLS   // nil means plaintext
	H2C     bool   // accept HTTP/2 without TLS (prior knowledge)
	Range   hcl.Range
}

// TLS holds a listener's certificate.
type TLS struct {
	CertFile   string
	KeyFile    string
	MinVersion uint16 // tls.VersionTLS12 by default
}

// Admin is the admin listener (health, metrics, config, reload).
type Admin struct {
	Address string // "" disables the admin listener
}

// Log configures the process log and the access log.
type Log struct {
	Level     string // debug, info, warn, error
	Output    string // stdout, stderr, or a file path
	AccessLog bool   // one JSON line per request
}

// Compression configures response compression.
type Compression struct {
	Enabled      bool
	Algorithms   []string // preference order: "zstd", "gzip"
	MinSize      int      // responses smaller than this are sent as they are
	ContentTypes []string // media types (without parameters) to compress; "text/*" allowed
	Level        string   // "fastest", "default", "best"
}

// Balance names a load-balancing policy.
type Balance string

// The load-balancing policies.
const (
	BalanceRoundRobin    Balance = "round_robin"
	BalanceLeastRequests Balance = "least_requests"
	BalanceHash          Balance = "hash"
	BalanceRandom        Balance = "random"
)

// Upstream is a named pool of HTTP targets.
type Upstream struct {
	Name    string
	Targets []*Target
	Balance Balance
	// HashOn selects the hash key for BalanceHash: "ip", "header:NAME", "cookie:NAME".
	HashOn string

	ConnectTimeout  time.Duration
	ResponseTimeout time.Duration // time to response headers; 504 when exceeded
	// Keep-alive pool.
	MaxIdleConnsPerHost int
	MaxConnsPerHost     int // 0 = unlimited
	IdleConnTimeout     time.Duration
	// TLSSkipVerify disables upstream certificate checks (https targets only).
	TLSSkipVerify bool

	Retry          *Retry          // nil = no retries
	HealthCheck    *HealthCheck    // nil = no active checks
	PassiveHealth  *PassiveHealth  // nil = no passive ejection
	CircuitBreaker *CircuitBreaker // nil = no breaker

	Range hcl.Range
}

// Target is one backend address of an upstream.
type Target struct {
	URL    string // scheme://host:port with an optional base path
	Weight int    // relative weight for round_robin and random; default 1
}

// Retry configures retries of idempotent requests.
type Retry struct {
	Attempts   int           // extra attempts after the first
	OnStatus   []int         // response statuses that are retried (e.g. 502, 503, 504)
	Backoff    time.Duration // first wait; doubles each attempt
	MaxBackoff time.Duration
}

// HealthCheck configures active health checks.
type HealthCheck struct {
	Path               string
	Interval           time.Duration
	Timeout            time.Duration
	HealthyThreshold   int
	UnhealthyThreshold int
	ExpectStatus       []int // empty means any 2xx or 3xx
}

// PassiveHealth ejects a target after consecutive failures seen on live traffic.
type PassiveHealth struct {
	ConsecutiveFailures int           // 5xx responses or connection errors in a row
	EjectDuration       time.Duration // how long the target stays out
}

// CircuitBreaker configures gobreaker for each target of an upstream.
type CircuitBreaker struct {
	ConsecutiveFailures int           // trip after this many failures in a row (0 = unused)
	FailureRatio        float64       // trip when failures/requests reaches this ... (0 = unused)
	MinRequests         int           // ... once at least this many requests were seen
	Interval            time.Duration // closed-state counting window (0 = never reset)
	OpenTimeout         time.Duration // how long it stays open before half-open
	HalfOpenRequests    int           // probes allowed while half-open
	// FailureStatuses are upstream statuses counted as failures (default 500-599 via
	// the empty list meaning ">= 500").
	FailureStatuses []int
}

// API groups routes under a base path and a stage.
type API struct {
	Name      string
	BasePath  string // "" or "/v1"
	Host      string // default host for its routes
	Stage     string
	Variables map[string]string // stage variables
	Pipeline  []*Plugin
	// RateLimit applies to every route of the API; nil = none.
	RateLimit *RateLimit
	Range     hcl.Range
}

// HeaderOps changes headers: Remove, then Set, then Add.
type HeaderOps struct {
	Set    map[string]string
	Add    map[string]string
	Remove []string
}

// Mock answers a route without an upstream.
type Mock struct {
	Status  int
	Headers map[string]string
	Body    string
}

// Route maps METHOD + path (+ host) to an upstream, a function or a mock.
type Route struct {
	// Key is the route key as written, with the API base path applied:
	// "GET /v1/users/{id}". It labels metrics and logs.
	Key    string
	Method string // upper case, or "ANY"
	Path   string // template: literal segments, {param}, and a final {proxy+}
	Host   string // "", "api.example.com" or "*.example.com"
	API    *API   // nil for top-level routes

	Upstream *Upstream // exactly one of Upstream, Mock, Function is set
	Mock     *Mock
	Function *Function // a Wasm function backend (see function.go)
	// WebSocketAPI is set on the handshake route of a websocket_api block
	// (websocket.go); that route has no other integration.
	WebSocketAPI *WebSocketAPI
	UpstreamPath string // template for the forwarded path; "" forwards the routed path

	Timeout         time.Duration // whole upstream exchange; 0 = upstream's response timeout
	RequestHeaders  HeaderOps
	ResponseHeaders HeaderOps
	Compression     *bool // nil = global setting
	// Tunnel limits connections the upstream upgrades (WebSocket passthrough);
	// DefaultTunnel when the route has no websocket block.
	Tunnel Tunnel

	// Pipeline is the route's own plugins (API and global pipelines are separate).
	Pipeline []*Plugin

	// RateLimit is the route's own limit (rate_limit = rate_limit.NAME); nil = none.
	RateLimit *RateLimit
	// Cache enables the response cache on the route; nil = not cached.
	Cache *RouteCache
	// Split is the weighted (canary) split of the route between upstreams
	// (upstreams = [{ upstream = upstream.a, weight = 90 }, ...]); nil = none.
	// When set, Upstream is the split's first upstream.
	Split *Split

	Range hcl.Range // the route block's definition range
}

// OnError says what happens to a request when a plugin faults.
type OnError string

// The plugin fault policies.
const (
	OnErrorDeny  OnError = "deny"
	OnErrorAllow OnError = "allow"
)

// Plugin is a Wasm module declared in HCL.
type Plugin struct {
	Name   string
	Source string // absolute path of the .wasm file
	// ConfigJSON is the plugin's config block encoded as JSON, handed to the plugin.
	ConfigJSON []byte
	// Sensitive reports JSON pointers into ConfigJSON whose values came from env()
	// or file() and must never be printed.
	Sensitive   []string
	MemoryBytes uint64        // memory cap; default 32 MiB
	Timeout     time.Duration // per-phase deadline; default 50ms
	PoolSize    int           // max pooled instances; default GOMAXPROCS*4
	// IdleTimeout closes a pooled instance, but the last one, that served
	// no request for this long (default 5m); 0 keeps every instance.
	IdleTimeout time.Duration
	OnError     OnError
	Range       hcl.Range
}

// Diagnostics is hcl.Diagnostics, named here so that other packages report
// config problems without importing hcl themselves.
type Diagnostics = hcl.Diagnostics

// Range is hcl.Range: a span of a config file, for diagnostics.
type Range = hcl.Range

// Diagnostic is hcl.Diagnostic.
type Diagnostic = hcl.Diagnostic
