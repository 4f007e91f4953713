// Command geo-tag is an example gateway plugin that tags each request with the
// country of its client IP, looked up in a CIDR table from its config. It sets
// a request header and the "geo.country" property, and answers 403 for
// countries in deny.
//
//	plugin "geo-tag" {
//	  source = "geo-tag.wasm"
//	  config = {
//	    header   = "X-Country"
//	    networks = { "81.2.69.0/24" = "GB", "2001:db8::/32" = "ZZ" }
//	    deny     = ["XX"]
//	  }
//	}
//
// Build: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -ldflags=-s -o geo-tag.wasm ./examples/plugins/geo-tag
package main

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/wasmgate/gateway/sdk/go/plugin"
)

// Config is the plugin's config block.
type Config struct {
	Header   string            `json:"header"`   // default X-Country
	Networks map[string]string `json:"networks"` // CIDR -> ISO country code
	Default  string            `json:"default"`  // country when nothing matches
	Deny     []string          `json:"deny"`     // countries answered with 403
}

type network struct {
	prefix  netip.Prefix
	country string
}

// state is built once per instance by OnConfigure; an instance is single-threaded.
var state struct {
	cfg      Config
	networks []network // longest prefix first
	lookups  plugin.Metric
}

func configure(raw []byte) error {
	var c Config
	if err := plugin.DecodeConfig(raw, &c); err != nil {
		return err
	}
	if c.Header == "" {
		c.Header = "X-Country"
	}
	nets := make([]network, 0, len(c.Networks))
	for cidr, country := range c.Networks {
		p, err := netip.ParsePrefix(cidr)
		if err != nil {
			return fmt.Errorf("networks: %q is not a CIDR prefix like 10.0.0.0/8", cidr)
		}
		nets = append(nets, network{p.Masked(), country})
	}
	slices.SortFunc(nets, func(a, b network) int { return b.prefix.Bits() - a.prefix.Bits() })
	m, err := plugin.NewCounter("geo_tag_lookups_total", "Client IP lookups by the geo-tag plugin.")
	if err != nil {
		return fmt.Errorf("define metric: %w", err)
	}
	state.cfg, state.networks, state.lookups = c, nets, m
	return nil
}

func country(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return state.cfg.Default
	}
	addr = addr.Unmap()
	for _, n := range state.networks {
		if n.prefix.Contains(addr) {
			return n.country
		}
	}
	return state.cfg.Default
}

func init() {
	plugin.Handle(plugin.Handler{
		OnConfigure: configure,
		OnRequestHeaders: func(req plugin.Request) plugin.Action {
			state.lookups.Add(1)
			c := country(req.ClientIP())
			if c == "" {
				return plugin.Continue
			}
			if slices.Contains(state.cfg.Deny, c) {
				plugin.LogInfo("geo-tag: denied client from " + c)
				return plugin.Forbidden()
			}
			req.Header().Set(state.cfg.Header, c)
			req.SetProperty("geo.country", c)
			return plugin.Continue
		},
	})
}

func main() {}
