package config

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// Wasm memory bounds for limits.memory: one page and the 32-bit address space.
const (
	minPluginMemory = 64 << 10
	maxPluginMemory = 4 << 30
)

// plugin decodes a plugin block; i is its index in Gateway.Plugins.
func (d *decoder) plugin(b *hcl.Block, i int) *Plugin {
	ptr := "/plugins/" + strconv.Itoa(i)
	content, diags := b.Body.Content(&hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{
			{Name: "source", Required: true}, {Name: "config"}, {Name: "on_error"}, {Name: "pool_size"}, {Name: "idle_timeout"},
		},
		Blocks: []hcl.BlockHeaderSchema{{Type: "limits"}},
	})
	d.diags = append(d.diags, diags...)
	a := content.Attributes
	p := &Plugin{
		Name:        b.Labels[0],
		ConfigJSON:  []byte("{}"),
		Sensitive:   []string{},
		MemoryBytes: DefaultPluginMemory,
		Timeout:     DefaultPluginTimeout,
		IdleTimeout: DefaultPluginIdleTimeout,
		OnError:     OnErrorDeny,
		Range:       b.DefRange,
	}

	if at := a["source"]; at != nil {
		p.Source = d.moduleSource(at, ptr, "plugin", p.Name, "make plugins")
	}
	if at := a["config"]; at != nil {
		if js, sensitive, ok := d.moduleConfig(at, ptr, "plugin", p.Name); ok {
			p.ConfigJSON, p.Sensitive = js, sensitive
		}
	}

	var onErr string
	if d.oneOf(a["on_error"], ptr+"/on_error", []string{"deny", "allow"}, &onErr) {
		p.OnError = OnError(onErr)
	}
	d.number(a["pool_size"], ptr+"/pool_size", 0, &p.PoolSize)
	if at := a["idle_timeout"]; at != nil {
		d.duration(at, ptr+"/idle_timeout", &p.IdleTimeout)
	}

	for j, lb := range content.Blocks {
		if j > 0 {
			d.errorf(lb.DefRange, "Duplicate limits block",
				"Only one limits block is allowed in a plugin. Previous definition was at %s; merge the two.", posString(content.Blocks[0].DefRange))
			continue
		}
		d.limits(lb, ptr, p)
	}
	return p
}

// limits decodes a plugin's limits block.
func (d *decoder) limits(b *hcl.Block, ptr string, p *Plugin) {
	content, diags := b.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "memory"}, {Name: "timeout"},
	}})
	d.diags = append(d.diags, diags...)
	a := content.Attributes
	var mem int64
	if d.size(a["memory"], ptr+"/memory_bytes", &mem) {
		if mem < minPluginMemory || mem > maxPluginMemory {
			d.errorf(a["memory"].Expr.Range(), "Invalid plugin memory",
				"memory must be between 64KiB (one Wasm page) and 4GiB, such as \"32MiB\".")
		} else {
			p.MemoryBytes = uint64(mem)
		}
	}
	if at := a["timeout"]; at != nil && d.duration(at, ptr+"/timeout", &p.Timeout) && p.Timeout == 0 {
		d.errorf(at.Expr.Range(), "Invalid plugin timeout", "timeout must be longer than zero, such as \"50ms\".")
	}
}

// moduleSource decodes the source attribute of a plugin or function block (kind
// names which, build the make target that builds it) into an absolute path of a
// readable file, or "" after reporting why not.
func (d *decoder) moduleSource(at *hcl.Attribute, ptr, kind, name, build string) string {
	var src string
	secret, ok := d.str(at, ptr+"/source", &src)
	if !ok {
		return ""
	}
	full := resolvePath(d.dir, src)
	st, err := os.Stat(full)
	switch {
	case src == "":
		d.errorf(at.Expr.Range(), "Missing "+kind+" source", "%s %q has an empty source; set it to the path of a .wasm file.", kind, name)
	case err != nil:
		d.errorf(at.Expr.Range(), "Missing "+kind+" source",
			"%s %q: %s cannot be read (%v). Build the %s (%s) or fix the path; relative paths start at the config file's directory.",
			kind, name, show(full, secret), unwrapPathError(err), kind, build)
	case !st.Mode().IsRegular():
		d.errorf(at.Expr.Range(), "Invalid "+kind+" source", "%s %q: %s is not a regular file; point source at a .wasm file.", kind, name, show(full, secret))
	default:
		if abs, err := filepath.Abs(full); err == nil {
			full = abs
		}
		return full
	}
	return ""
}

// moduleConfig encodes the config attribute of a plugin or function block as
// JSON and lists the JSON pointers of the values that came from env() or
// file(). ok is false when the attribute did not evaluate or encode.
func (d *decoder) moduleConfig(at *hcl.Attribute, ptr, kind, name string) (js []byte, sensitive []string, ok bool) {
	cptr := ptr + "/config"
	v, _, ok := d.eval(at, cty.DynamicPseudoType, cptr)
	if !ok {
		return nil, nil, false
	}
	js, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		d.errorf(at.Expr.Range(), "Invalid "+kind+" config", "%s %q: config cannot be encoded as JSON (%v); use strings, numbers, bools, lists and objects.", kind, name, err)
		return nil, nil, false
	}
	sensitive = []string{}
	for _, s := range d.secrets {
		if s == cptr || strings.HasPrefix(s, cptr+"/") {
			sensitive = append(sensitive, strings.TrimPrefix(s, cptr))
		}
	}
	return js, sensitive, true
}
