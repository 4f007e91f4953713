// Command ip-restriction is a gateway plugin that allows or denies requests by
// client IP address, with allow and deny lists of CIDR prefixes (IPv4 and
// IPv6; a single address is a /32 or /128). Deny wins over allow; with an
// allow list, an address outside it is denied. A denied request gets 403
// {"message":"Forbidden"}.
//
// The client IP is the one the gateway computed (client_ip_get): the
// X-Forwarded-For header is believed only from the listener's trusted_proxies,
// so a client cannot spoof it. The plugin never reads X-Forwarded-For itself.
//
//	plugin "office-only" {
//	  source = "bin/plugins/ip-restriction.wasm"
//	  config = {
//	    allow = ["10.0.0.0/8", "2001:db8::/32", "192.0.2.10"]
//	    deny  = ["10.66.0.0/16"]
//	  }
//	}
//
// Lookups are O(log n): each list is compiled once per instance into sorted,
// merged, disjoint address ranges searched by binary search.
package main

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/wasmgate/gateway/sdk/go/plugin"
)

// Config is the plugin's config block.
type Config struct {
	// Allow lists the prefixes allowed; empty means every address not denied.
	Allow []string `json:"allow"`
	// Deny lists the prefixes denied; it wins over Allow.
	Deny []string `json:"deny"`
}

// state is built once per instance by configure; an instance serves one
// request at a time.
var state struct {
	allow, deny ranges
	hasAllow    bool
}

func configure(raw []byte) error {
	var c Config
	if err := plugin.DecodeConfig(raw, &c); err != nil {
		return err
	}
	if len(c.Allow) == 0 && len(c.Deny) == 0 {
		return fmt.Errorf("set at least one prefix in allow or deny, e.g. allow = [\"10.0.0.0/8\"]")
	}
	allow, err := compile("allow", c.Allow)
	if err != nil {
		return err
	}
	deny, err := compile("deny", c.Deny)
	if err != nil {
		return err
	}
	state.allow, state.deny, state.hasAllow = allow, deny, len(c.Allow) > 0
	return nil
}

// decide returns "" when addr may pass, or the reason it is denied.
func decide(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return fmt.Sprintf("client ip %q is not an IP address", ip)
	}
	addr = canonical(addr)
	if state.deny.contains(addr) {
		return "client ip " + ip + " is in the deny list"
	}
	if state.hasAllow && !state.allow.contains(addr) {
		return "client ip " + ip + " is not in the allow list"
	}
	return ""
}

func init() {
	plugin.Handle(plugin.Handler{
		OnConfigure: configure,
		OnRequestHeaders: func(req plugin.Request) plugin.Action {
			if why := decide(req.ClientIP()); why != "" {
				plugin.LogInfo("ip-restriction: " + why)
				return plugin.Forbidden()
			}
			return plugin.Continue
		},
	})
}

func main() {}

// canonical maps every address into the 16-byte space: IPv4 a.b.c.d becomes
// ::ffff:a.b.c.d, so IPv4 and IPv4-mapped IPv6 forms compare equal. The zone
// is dropped.
func canonical(a netip.Addr) netip.Addr {
	return netip.AddrFrom16(a.As16())
}

// addrRange is an inclusive range of canonical addresses.
type addrRange struct{ lo, hi netip.Addr }

// ranges is a sorted list of disjoint, non-adjacent ranges.
type ranges []addrRange

// compile parses prefixes (or single addresses) into merged ranges.
func compile(field string, in []string) (ranges, error) {
	rs := make(ranges, 0, len(in))
	for i, s := range in {
		p, err := parsePrefix(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %q is not an IP address or CIDR prefix like 10.0.0.0/8 or 2001:db8::/32", field, i, s)
		}
		rs = append(rs, prefixRange(p))
	}
	slices.SortFunc(rs, func(a, b addrRange) int { return a.lo.Compare(b.lo) })
	out := rs[:0]
	for _, r := range rs {
		if n := len(out); n > 0 {
			last := &out[n-1]
			if next := last.hi.Next(); !next.IsValid() || r.lo.Compare(next) <= 0 {
				if r.hi.Compare(last.hi) > 0 {
					last.hi = r.hi
				}
				continue
			}
		}
		out = append(out, r)
	}
	return slices.Clip(out), nil
}

// parsePrefix accepts "10.0.0.0/8", "10.0.0.1" and their IPv6 forms; host bits
// are masked off.
func parsePrefix(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("zones are not allowed")
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return p.Masked(), nil
}

// prefixRange returns the canonical first and last address of p.
func prefixRange(p netip.Prefix) addrRange {
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	b := canonical(p.Addr()).As16()
	lo := b
	for i := range 16 {
		// Bits of byte i that are inside the prefix.
		keep := min(max(bits-8*i, 0), 8)
		mask := byte(0xff) << (8 - keep) // keep == 0 shifts everything out
		lo[i] = b[i] & mask
		b[i] = b[i] | ^mask
	}
	return addrRange{netip.AddrFrom16(lo), netip.AddrFrom16(b)}
}

// contains reports whether a (canonical) is in one of the ranges.
func (rs ranges) contains(a netip.Addr) bool {
	// First range whose hi >= a.
	i, _ := slices.BinarySearchFunc(rs, a, func(r addrRange, a netip.Addr) int { return r.hi.Compare(a) })
	return i < len(rs) && rs[i].lo.Compare(a) <= 0
}
