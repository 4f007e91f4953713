package config

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Function defaults.
const (
	DefaultFunctionMemory       = 64 << 20
	DefaultFunctionTimeout      = 3 * time.Second
	DefaultFunctionQueueTimeout = 100 * time.Millisecond
	DefaultFunctionMinWarm      = 1
	DefaultFunctionIdleTimeout  = 5 * time.Minute
)

// Function is a Wasm function backend declared in HCL: a module exporting
// handle_event that answers the routes pointing at it, in-process.
type Function struct {
	Name   string
	Source string // absolute path of the .wasm file
	// ConfigJSON is the function's config attribute encoded as JSON; the
	// function reads it in on_configure, like a plugin.
	ConfigJSON []byte
	// Sensitive reports JSON pointers into ConfigJSON whose values came from
	// env() or file().
	Sensitive []string
	// Env is handed to the module as its WASI environment (os.Getenv).
	Env         map[string]string
	MemoryBytes uint64        // memory cap per instance; default 64 MiB
	Timeout     time.Duration // per invocation; default 3s, then 504
	// Concurrency is the reserved concurrency: at most this many invocations
	// run at once; 0 means the host default (GOMAXPROCS*4).
	Concurrency int
	// QueueTimeout is how long an invocation over Concurrency waits for a
	// free instance before it gets 429; default 100ms.
	QueueTimeout time.Duration
	// MinWarm instances are created when the config loads (default 1).
	MinWarm int
	// IdleTimeout closes an instance above MinWarm that served no call for
	// this long (default 5m), so a burst does not keep its instances' memory
	// forever; 0 keeps every instance.
	IdleTimeout time.Duration
	// SoftTimeout (HCL strict_timeout = false) never cuts a call short: a
	// call past its Timeout gets its 504 only once it returns, and an
	// endless loop holds an instance and a CPU forever. It is no faster than
	// the default since interruption became cheap (host/wasm/interrupt.go);
	// it remains for functions that must not be stopped mid-call. false (the
	// default) stops a runaway call at its deadline.
	SoftTimeout bool
	Range       hcl.Range
}

// function decodes a function block; i is its index in Gateway.Functions.
func (d *decoder) function(b *hcl.Block, i int) *Function {
	ptr := "/functions/" + strconv.Itoa(i)
	content, diags := b.Body.Content(&hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{
			{Name: "source", Required: true}, {Name: "config"}, {Name: "env"},
			{Name: "concurrency"}, {Name: "queue_timeout"}, {Name: "min_warm"}, {Name: "idle_timeout"}, {Name: "strict_timeout"},
		},
		Blocks: []hcl.BlockHeaderSchema{{Type: "limits"}},
	})
	d.diags = append(d.diags, diags...)
	a := content.Attributes
	f := &Function{
		Name:         b.Labels[0],
		ConfigJSON:   []byte("{}"),
		Sensitive:    []string{},
		Env:          map[string]string{},
		MemoryBytes:  DefaultFunctionMemory,
		Timeout:      DefaultFunctionTimeout,
		QueueTimeout: DefaultFunctionQueueTimeout,
		MinWarm:      DefaultFunctionMinWarm,
		IdleTimeout:  DefaultFunctionIdleTimeout,
		Range:        b.DefRange,
	}
	if at := a["source"]; at != nil {
		f.Source = d.moduleSource(at, ptr, "function", f.Name, "make functions")
	}
	if at := a["config"]; at != nil {
		if js, sensitive, ok := d.moduleConfig(at, ptr, "function", f.Name); ok {
			f.ConfigJSON, f.Sensitive = js, sensitive
		}
	}
	if d.stringMap(a["env"], ptr+"/env", &f.Env) {
		for k := range f.Env {
			if k == "" || strings.ContainsAny(k, "=\x00") {
				d.errorf(a["env"].Expr.Range(), "Invalid environment variable", "%q is not an environment variable name; use letters, digits and \"_\", such as \"TABLE\".", k)
			}
		}
	}
	d.number(a["concurrency"], ptr+"/concurrency", 1, &f.Concurrency)
	strict := true
	if d.boolean(a["strict_timeout"], ptr+"/strict_timeout", &strict) {
		f.SoftTimeout = !strict
	}
	d.number(a["min_warm"], ptr+"/min_warm", 0, &f.MinWarm)
	if at := a["queue_timeout"]; at != nil {
		d.duration(at, ptr+"/queue_timeout", &f.QueueTimeout)
	}
	if at := a["idle_timeout"]; at != nil {
		d.duration(at, ptr+"/idle_timeout", &f.IdleTimeout)
	}
	if f.Concurrency > 0 && f.MinWarm > f.Concurrency {
		d.errorf(a["min_warm"].Expr.Range(), "Invalid min_warm",
			"function %q keeps %d warm instances but its concurrency is %d; lower min_warm to at most concurrency.", f.Name, f.MinWarm, f.Concurrency)
	}
	for j, lb := range content.Blocks {
		if j > 0 {
			d.errorf(lb.DefRange, "Duplicate limits block",
				"Only one limits block is allowed in a function. Previous definition was at %s; merge the two.", posString(content.Blocks[0].DefRange))
			continue
		}
		// The plugin limits block has the same shape; decode into a scratch plugin.
		p := &Plugin{MemoryBytes: f.MemoryBytes, Timeout: f.Timeout}
		d.limits(lb, ptr, p)
		f.MemoryBytes, f.Timeout = p.MemoryBytes, p.Timeout
	}
	return f
}

// functionRef resolves a route's function = function.NAME attribute.
func (r *resolver) functionRef(at *hcl.Attribute, owner string) *Function {
	name, ok := r.d.ref(at.Expr, "function", "orders")
	if !ok {
		return nil
	}
	f, ok := r.g.FunctionByName[name]
	if !ok {
		r.d.errorf(at.Expr.Range(), "Unknown function",
			"%s refers to function %q, which is not defined. Add a function %q block or fix the name.", owner, name, name)
		return nil
	}
	return f
}

// addFunctionDoc adds the functions to the RedactedJSON document; values from
// env() or file() are redacted through the pointers the decoder recorded.
func (g *Gateway) addFunctionDoc(doc map[string]any) {
	fns := make([]any, len(g.Functions))
	for i, f := range g.Functions {
		var cfg any
		dec := json.NewDecoder(bytes.NewReader(f.ConfigJSON))
		dec.UseNumber()
		if err := dec.Decode(&cfg); err != nil {
			cfg = Redacted // not JSON: print nothing of it
		}
		fns[i] = map[string]any{
			"name": f.Name, "source": f.Source, "config": cfg, "env": stringMapDoc(f.Env),
			"memory_bytes": f.MemoryBytes, "timeout": dur(f.Timeout), "concurrency": f.Concurrency,
			"queue_timeout": dur(f.QueueTimeout), "min_warm": f.MinWarm, "idle_timeout": dur(f.IdleTimeout), "strict_timeout": !f.SoftTimeout,
		}
	}
	doc["functions"] = fns
}
