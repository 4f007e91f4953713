package config

import (
	"cmp"
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	hcljson "github.com/hashicorp/hcl/v2/json"
)

// Defaults applied when an attribute is not set. docs/configuration.md lists them.
const (
	DefaultListen            = ":8080"
	DefaultAdminListen       = "127.0.0.1:9090"
	DefaultReadTimeout       = 30 * time.Second
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultWriteTimeout      = 60 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultMaxHeaderBytes    = 1 << 20
	DefaultMaxBodyBytes      = 10 << 20
	DefaultShutdownTimeout   = 15 * time.Second
	DefaultRequestIDHeader   = "X-Request-Id"
	DefaultPluginMemory      = 32 << 20
	DefaultPluginTimeout     = 50 * time.Millisecond
	DefaultPluginIdleTimeout = 5 * time.Minute
)

// Load reads, decodes and validates the HCL config file at path. Relative paths
// inside it (plugin sources, TLS files, file()) are resolved against the file's
// directory. It returns every problem it finds; the Gateway is nil when diags
// has errors. Print diags with FormatDiagnostics.
func Load(path string) (*Gateway, hcl.Diagnostics) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, hcl.Diagnostics{NewDiagnostic(hcl.Range{Filename: path}, "Cannot read config file",
			fmt.Sprintf("read %s: %v; check the path given with -config.", path, unwrapPathError(err)))}
	}
	return LoadBytes(path, src)
}

// LoadBytes is Load for a file already in memory. filename names it in
// diagnostics and its directory anchors relative paths. A name ending in ".json"
// is read as HCL's JSON syntax.
func LoadBytes(filename string, src []byte) (*Gateway, hcl.Diagnostics) {
	var (
		f     *hcl.File
		diags hcl.Diagnostics
	)
	if strings.HasSuffix(filename, ".json") {
		f, diags = hcljson.Parse(src, filename)
	} else {
		f, diags = hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	}
	if diags.HasErrors() {
		return nil, diags
	}
	dir := filepath.Dir(filename)
	d := &decoder{dir: dir, ctx: evalContext(dir)}
	d.diags = diags
	g := d.gateway(f.Body)
	g.Files = []string{filename}
	sortDiagnostics(d.diags)
	if d.diags.HasErrors() {
		return nil, d.diags
	}
	g.secrets = d.secrets
	return g, d.diags
}

// sortDiagnostics orders diagnostics by file position, those without one first.
func sortDiagnostics(diags hcl.Diagnostics) {
	slices.SortStableFunc(diags, func(a, b *hcl.Diagnostic) int {
		ra, rb := a.Subject, b.Subject
		switch {
		case ra == nil && rb == nil:
			return 0
		case ra == nil:
			return -1
		case rb == nil:
			return 1
		}
		return cmp.Or(cmp.Compare(ra.Filename, rb.Filename), cmp.Compare(ra.Start.Byte, rb.Start.Byte))
	})
}

// gateway decodes the whole file body.
func (d *decoder) gateway(body hcl.Body) *Gateway {
	content, diags := body.Content(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
		{Type: "gateway"},
		{Type: "log"},
		{Type: "compression"},
		{Type: "upstream", LabelNames: []string{"name"}},
		{Type: "route", LabelNames: []string{"key"}},
		{Type: "api", LabelNames: []string{"name"}},
		{Type: "plugin", LabelNames: []string{"name"}},
		{Type: "function", LabelNames: []string{"name"}},
		{Type: "redis"}, {Type: "rate_limit", LabelNames: []string{"name"}}, {Type: "cache_store"},
		{Type: "usage_plan", LabelNames: []string{"name"}}, {Type: "kv"},
		{Type: "websocket_api", LabelNames: []string{"name"}},
	}})
	d.diags = append(d.diags, diags...)

	g := &Gateway{
		Server: Server{
			ReadTimeout:       DefaultReadTimeout,
			ReadHeaderTimeout: DefaultReadHeaderTimeout,
			WriteTimeout:      DefaultWriteTimeout,
			IdleTimeout:       DefaultIdleTimeout,
			MaxHeaderBytes:    DefaultMaxHeaderBytes,
			MaxBodyBytes:      DefaultMaxBodyBytes,
			ShutdownTimeout:   DefaultShutdownTimeout,
			TrustedProxies:    []netip.Prefix{},
			RequestIDHeader:   DefaultRequestIDHeader,
		},
		Admin:          Admin{Address: DefaultAdminListen},
		Log:            Log{Level: "info", Output: "stdout", AccessLog: true},
		Compression:    defaultCompression(false),
		UpstreamByName: map[string]*Upstream{},
		PluginByName:   map[string]*Plugin{},
		FunctionByName: map[string]*Function{},

		RateLimitByName: map[string]*RateLimit{},
		UsagePlanByName: map[string]*UsagePlan{},
	}

	// Upstreams and plugins first, so references resolve whatever the order.
	firstOf := map[string]*hcl.Block{}
	labelled := map[string]map[string]*hcl.Block{"upstream": {}, "plugin": {}, "api": {}, "function": {}, "rate_limit": {}, "usage_plan": {}, "websocket_api": {}}
	planRoutes := map[*UsagePlan]*hcl.Attribute{}
	unique := func(b *hcl.Block) bool {
		if b.Type == "route" {
			return true // routes are checked by method, path shape and host
		}
		if len(b.Labels) == 0 {
			if prev, dup := firstOf[b.Type]; dup {
				d.errorf(b.DefRange, "Duplicate "+b.Type+" block",
					"Only one %s block is allowed. Previous definition was at %s; merge the two.", b.Type, posString(prev.DefRange))
				return false
			}
			firstOf[b.Type] = b
			return true
		}
		seen := labelled[b.Type]
		if prev, dup := seen[b.Labels[0]]; dup {
			d.errorf(b.LabelRanges[0], "Duplicate "+b.Type+" block",
				"%s %s named %q is already defined. Previous definition was at %s; rename or remove one.", capitalize(article(b.Type)), b.Type, b.Labels[0], posString(prev.DefRange))
			return false
		}
		seen[b.Labels[0]] = b
		return true
	}
	var accepted []*hcl.Block
	for _, b := range content.Blocks {
		if !unique(b) {
			continue
		}
		accepted = append(accepted, b)
		switch b.Type {
		case "upstream":
			u := d.upstream(b, len(g.Upstreams))
			g.Upstreams = append(g.Upstreams, u)
			g.UpstreamByName[u.Name] = u
		case "plugin":
			p := d.plugin(b, len(g.Plugins))
			g.Plugins = append(g.Plugins, p)
			g.PluginByName[p.Name] = p
		case "function":
			f := d.function(b, len(g.Functions))
			g.Functions = append(g.Functions, f)
			g.FunctionByName[f.Name] = f
		case "rate_limit":
			rl := d.rateLimitBlock(b, len(g.RateLimits))
			g.RateLimits = append(g.RateLimits, rl)
			g.RateLimitByName[rl.Name] = rl
		case "usage_plan":
			up, routes := d.usagePlanBlock(b, len(g.UsagePlans))
			g.UsagePlans = append(g.UsagePlans, up)
			g.UsagePlanByName[up.Name] = up
			planRoutes[up] = routes
		}
	}

	r := &resolver{d: d, g: g, routes: map[string]*Route{}}
	var explicitListeners bool
	for _, b := range accepted {
		switch b.Type {
		case "gateway":
			explicitListeners = d.gatewayBlock(b, g, r)
		case "log":
			d.logBlock(b, &g.Log)
		case "compression":
			d.compressionBlock(b, &g.Compression)
		case "route":
			r.route(b, nil)
		case "api":
			r.api(b)
		case "websocket_api":
			r.websocketAPI(b)
		case "redis":
			g.Redis = d.redisBlock(b)
		case "cache_store":
			d.cacheStoreBlock(b, &g.CacheStore)
		case "kv":
			d.kvBlock(b, &g.KV)
		}
	}
	d.resolveUsagePlans(g, planRoutes)
	d.checkTraffic(g)
	if !explicitListeners {
		g.Listeners = append(g.Listeners, &Listener{Name: "listen.0", Address: DefaultListen})
	}
	d.checkAddresses(g, firstOf["gateway"])
	return g
}

// unwrapPathError drops the "open PATH:" prefix that the caller already prints.
func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// gatewayBlock decodes the gateway block. It reports whether the block
// declared any listener (listen or listener blocks).
func (d *decoder) gatewayBlock(b *hcl.Block, g *Gateway, r *resolver) bool {
	content, diags := b.Body.Content(&hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{
			{Name: "listen"}, {Name: "admin_listen"},
			{Name: "read_timeout"}, {Name: "read_header_timeout"}, {Name: "write_timeout"}, {Name: "idle_timeout"},
			{Name: "max_header_bytes"}, {Name: "max_body_bytes"}, {Name: "shutdown_timeout"},
			{Name: "trusted_proxies"}, {Name: "request_id_header"}, {Name: "pipeline"},
			{Name: "rate_limit"},
		},
		Blocks: []hcl.BlockHeaderSchema{{Type: "listener", LabelNames: []string{"name"}}},
	})
	d.diags = append(d.diags, diags...)
	a := content.Attributes
	s := &g.Server
	g.RateLimit = r.rateLimitRef(a["rate_limit"], "the gateway block")
	d.duration(a["read_timeout"], "/server/read_timeout", &s.ReadTimeout)
	d.duration(a["read_header_timeout"], "/server/read_header_timeout", &s.ReadHeaderTimeout)
	d.duration(a["write_timeout"], "/server/write_timeout", &s.WriteTimeout)
	d.duration(a["idle_timeout"], "/server/idle_timeout", &s.IdleTimeout)
	d.duration(a["shutdown_timeout"], "/server/shutdown_timeout", &s.ShutdownTimeout)
	d.sizeInt(a["max_header_bytes"], "/server/max_header_bytes", &s.MaxHeaderBytes)
	d.size(a["max_body_bytes"], "/server/max_body_bytes", &s.MaxBodyBytes)
	if at := a["request_id_header"]; at != nil {
		var h string
		if _, ok := d.str(at, "/server/request_id_header", &h); ok {
			if h == "" || strings.ContainsAny(h, " \t:\r\n") {
				d.errorf(at.Expr.Range(), "Invalid header name", "request_id_header must be a header name such as \"X-Request-Id\".")
			} else {
				s.RequestIDHeader = h
			}
		}
	}
	if at := a["trusted_proxies"]; at != nil {
		var cidrs []string
		if secret, ok := d.strings(at, "/server/trusted_proxies", &cidrs); ok {
			for i, c := range cidrs {
				p, err := netip.ParsePrefix(c)
				if err != nil {
					addr, aerr := netip.ParseAddr(c)
					if aerr != nil {
						d.errorf(elemRange(at, i), "Invalid CIDR",
							"%s in trusted_proxies is not an IP prefix. Write a CIDR such as \"10.0.0.0/8\" or \"::1/128\", or a single address.", show(c, secret[i]))
						continue
					}
					p = netip.PrefixFrom(addr, addr.BitLen())
				}
				s.TrustedProxies = append(s.TrustedProxies, p.Masked())
			}
		}
	}
	if at := a["admin_listen"]; at != nil {
		d.str(at, "/admin/address", &g.Admin.Address)
	}
	g.Pipeline = r.plugins(d.pipeline(a["pipeline"]), "the gateway pipeline")

	declared := false
	if at := a["listen"]; at != nil {
		declared = true
		var addrs []string
		if _, ok := d.strings(at, "/listeners", &addrs); ok {
			for i, addr := range addrs {
				g.Listeners = append(g.Listeners, &Listener{Name: "listen." + strconv.Itoa(i), Address: addr, Range: elemRange(at, i)})
			}
		}
	}
	seen := map[string]*hcl.Block{}
	for _, lb := range content.Blocks {
		declared = true
		if prev, dup := seen[lb.Labels[0]]; dup {
			d.errorf(lb.LabelRanges[0], "Duplicate listener block",
				"A listener named %q is already defined. Previous definition was at %s; rename or remove one.", lb.Labels[0], posString(prev.DefRange))
			continue
		}
		seen[lb.Labels[0]] = lb
		g.Listeners = append(g.Listeners, d.listener(lb, len(g.Listeners)))
	}
	return declared
}

// listener decodes a listener block; i is its index in Gateway.Listeners.
func (d *decoder) listener(b *hcl.Block, i int) *Listener {
	ptr := "/listeners/" + strconv.Itoa(i)
	content, diags := b.Body.Content(&hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{{Name: "address", Required: true}, {Name: "h2c"}},
		Blocks:     []hcl.BlockHeaderSchema{{Type: "tls"}},
	})
	d.diags = append(d.diags, diags...)
	l := &Listener{Name: b.Labels[0], Range: b.DefRange}
	if at := content.Attributes["address"]; at != nil {
		d.str(at, ptr+"/address", &l.Address)
		l.Range = at.Expr.Range()
	}
	d.boolean(content.Attributes["h2c"], ptr+"/h2c", &l.H2C)
	for j, tb := range content.Blocks {
		if j > 0 {
			d.errorf(tb.DefRange, "Duplicate tls block",
				"Only one tls block is allowed in a listener. Previous definition was at %s; merge the two.", posString(content.Blocks[0].DefRange))
			continue
		}
		l.TLS = d.tlsBlock(tb, ptr+"/tls")
	}
	return l
}

// tlsBlock decodes a listener's tls block and checks that its files are readable.
func (d *decoder) tlsBlock(b *hcl.Block, ptr string) *TLS {
	content, diags := b.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "cert_file", Required: true}, {Name: "key_file", Required: true}, {Name: "min_version"},
	}})
	d.diags = append(d.diags, diags...)
	t := &TLS{MinVersion: tls.VersionTLS12}
	file := func(name string, dst *string) {
		at := content.Attributes[name]
		var p string
		if _, ok := d.str(at, ptr+"/"+name, &p); !ok {
			return
		}
		full := resolvePath(d.dir, p)
		if _, err := os.ReadFile(full); err != nil {
			d.errorf(at.Expr.Range(), "Unreadable TLS file",
				"%s %s cannot be read: %v. Check the path (relative paths start at the config file's directory) and its permissions.", name, full, unwrapPathError(err))
			return
		}
		if abs, err := filepath.Abs(full); err == nil {
			full = abs
		}
		*dst = full
	}
	file("cert_file", &t.CertFile)
	file("key_file", &t.KeyFile)
	var v string
	if d.oneOf(content.Attributes["min_version"], ptr+"/min_version", []string{"1.0", "1.1", "1.2", "1.3"}, &v) {
		t.MinVersion = map[string]uint16{"1.0": tls.VersionTLS10, "1.1": tls.VersionTLS11, "1.2": tls.VersionTLS12, "1.3": tls.VersionTLS13}[v]
	}
	return t
}

// checkAddresses validates listener and admin addresses and rejects duplicates.
func (d *decoder) checkAddresses(g *Gateway, gw *hcl.Block) {
	type use struct {
		what string
		rng  hcl.Range
	}
	seen := map[string]use{}
	check := func(what, addr string, rng hcl.Range) {
		host, port, err := net.SplitHostPort(addr)
		if err == nil {
			_, err = net.LookupPort("tcp", port)
		}
		if err != nil {
			d.errorf(rng, "Invalid listen address",
				"%s address %q is not host:port (%v). Write it as \":8080\", \"127.0.0.1:8080\" or \"[::1]:8080\".", what, addr, err)
			return
		}
		key := strings.ToLower(host) + ":" + port
		if port == "0" {
			return // an ephemeral port: every bind gets its own
		}
		if prev, dup := seen[key]; dup {
			d.errorf(rng, "Duplicate listen address",
				"%s address %q is already used by %s at %s; each socket can be opened once, so change or remove one.", what, addr, prev.what, posString(prev.rng))
			return
		}
		seen[key] = use{what: what, rng: rng}
	}
	for i, l := range g.Listeners {
		if d.isSecret("/listeners/"+strconv.Itoa(i)) || d.isSecret("/listeners/"+strconv.Itoa(i)+"/address") {
			continue
		}
		rng := l.Range
		if rng.Filename == "" && gw != nil {
			rng = gw.DefRange
		}
		check(fmt.Sprintf("listener %q", l.Name), l.Address, rng)
	}
	if g.Admin.Address != "" && gw != nil && !d.isSecret("/admin/address") {
		attrs, _ := gw.Body.JustAttributes()
		rng := gw.DefRange
		if at := attrs["admin_listen"]; at != nil {
			rng = at.Expr.Range()
		}
		check("admin_listen", g.Admin.Address, rng)
	}
}

// logBlock decodes the log block.
func (d *decoder) logBlock(b *hcl.Block, l *Log) {
	content, diags := b.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "level"}, {Name: "output"}, {Name: "access_log"},
	}})
	d.diags = append(d.diags, diags...)
	a := content.Attributes
	d.oneOf(a["level"], "/log/level", []string{"debug", "info", "warn", "error"}, &l.Level)
	var out string
	if _, ok := d.str(a["output"], "/log/output", &out); ok {
		switch out {
		case "":
			d.errorf(a["output"].Expr.Range(), "Invalid log output", "output must be \"stdout\", \"stderr\" or a file path.")
		case "stdout", "stderr":
			l.Output = out
		default:
			l.Output = resolvePath(d.dir, out)
		}
	}
	d.boolean(a["access_log"], "/log/access_log", &l.AccessLog)
}

// defaultCompression returns the compression settings used when the block
// leaves an attribute unset. enabled is true when a compression block exists.
func defaultCompression(enabled bool) Compression {
	return Compression{
		Enabled:    enabled,
		Algorithms: []string{"zstd", "gzip"},
		MinSize:    1 << 10,
		ContentTypes: []string{
			"text/*",
			"application/json",
			"application/problem+json",
			"application/javascript",
			"application/xml",
			"application/x-ndjson",
			"image/svg+xml",
		},
		Level: "default",
	}
}

// compressionBlock decodes the compression block.
func (d *decoder) compressionBlock(b *hcl.Block, c *Compression) {
	content, diags := b.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "enabled"}, {Name: "algorithms"}, {Name: "min_size"}, {Name: "content_types"}, {Name: "level"},
	}})
	d.diags = append(d.diags, diags...)
	a := content.Attributes
	*c = defaultCompression(true)
	d.boolean(a["enabled"], "/compression/enabled", &c.Enabled)
	if at := a["algorithms"]; at != nil {
		var algs []string
		if _, ok := d.strings(at, "/compression/algorithms", &algs); ok {
			valid := len(algs) > 0
			seen := map[string]bool{}
			for _, alg := range algs {
				if (alg != "zstd" && alg != "gzip") || seen[alg] {
					valid = false
				}
				seen[alg] = true
			}
			if valid {
				c.Algorithms = algs
			} else {
				d.errorf(at.Expr.Range(), "Invalid algorithms",
					"algorithms must list \"zstd\" and/or \"gzip\" once each, in order of preference, such as [\"zstd\", \"gzip\"].")
			}
		}
	}
	d.sizeInt(a["min_size"], "/compression/min_size", &c.MinSize)
	if at := a["content_types"]; at != nil {
		var types []string
		if _, ok := d.strings(at, "/compression/content_types", &types); ok {
			for _, t := range types {
				typ, sub, found := strings.Cut(t, "/")
				if !found || typ == "" || sub == "" || typ == "*" || strings.ContainsAny(t, " ;") {
					d.errorf(at.Expr.Range(), "Invalid content type",
						"%q is not a media type; write \"type/subtype\" without parameters, such as \"application/json\" or \"text/*\".", t)
					types = nil
					break
				}
			}
			if types != nil {
				c.ContentTypes = types
			}
		}
	}
	d.oneOf(a["level"], "/compression/level", []string{"fastest", "default", "best"}, &c.Level)
}
