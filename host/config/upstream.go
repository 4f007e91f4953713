package config

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// upstream decodes an upstream block; i is its index in Gateway.Upstreams.
func (d *decoder) upstream(b *hcl.Block, i int) *Upstream {
	ptr := "/upstreams/" + strconv.Itoa(i)
	content, diags := b.Body.Content(&hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{
			{Name: "targets"}, {Name: "balance"}, {Name: "hash_on"},
			{Name: "connect_timeout"}, {Name: "response_timeout"}, {Name: "max_idle_conns_per_host"},
			{Name: "max_conns_per_host"}, {Name: "idle_conn_timeout"}, {Name: "tls_skip_verify"},
		},
		Blocks: []hcl.BlockHeaderSchema{
			{Type: "target"}, {Type: "retry"}, {Type: "health_check"}, {Type: "passive_health"}, {Type: "circuit_breaker"},
		},
	})
	d.diags = append(d.diags, diags...)
	a := content.Attributes
	u := &Upstream{
		Name:                b.Labels[0],
		Targets:             []*Target{},
		Balance:             BalanceRoundRobin,
		ConnectTimeout:      5 * time.Second,
		ResponseTimeout:     30 * time.Second,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
		Range:               b.DefRange,
	}

	emptyList := false
	if at := a["targets"]; at != nil {
		var urls []string
		if secret, ok := d.strings(at, ptr+"/targets", &urls); ok {
			emptyList = len(urls) == 0
			for j, raw := range urls {
				if d.checkTarget(elemRange(at, j), raw, secret[j]) {
					u.Targets = append(u.Targets, &Target{URL: strings.TrimRight(raw, "/"), Weight: 1})
				}
			}
		}
	}
	once := map[string]*hcl.Block{}
	var targetBlocks int
	for _, sb := range content.Blocks {
		if sb.Type == "target" {
			targetBlocks++
			if t := d.target(sb, ptr+"/targets/"+strconv.Itoa(len(u.Targets))); t != nil {
				u.Targets = append(u.Targets, t)
			}
			continue
		}
		if prev, dup := once[sb.Type]; dup {
			d.errorf(sb.DefRange, "Duplicate "+sb.Type+" block",
				"Only one %s block is allowed in an upstream. Previous definition was at %s; merge the two.", sb.Type, posString(prev.DefRange))
			continue
		}
		once[sb.Type] = sb
		switch sb.Type {
		case "retry":
			u.Retry = d.retry(sb, ptr+"/retry")
		case "health_check":
			u.HealthCheck = d.healthCheck(sb, ptr+"/health_check")
		case "passive_health":
			u.PassiveHealth = d.passiveHealth(sb, ptr+"/passive_health")
		case "circuit_breaker":
			u.CircuitBreaker = d.circuitBreaker(sb, ptr+"/circuit_breaker")
		}
	}
	switch {
	case a["targets"] != nil && targetBlocks > 0:
		d.errorf(a["targets"].NameRange, "Conflicting targets",
			"upstream %q has both a targets list and target blocks; use the list for equal weights or target blocks for weights, not both.", u.Name)
	case a["targets"] == nil && targetBlocks == 0:
		d.errorf(b.DefRange, "Missing targets",
			"upstream %q has no targets. Add targets = [\"http://127.0.0.1:9001\"] or target blocks.", u.Name)
	case emptyList:
		d.errorf(a["targets"].Expr.Range(), "Missing targets",
			"upstream %q has an empty targets list. Add at least one URL, such as \"http://127.0.0.1:9001\".", u.Name)
	}

	var balance string
	if d.oneOf(a["balance"], ptr+"/balance", []string{"round_robin", "least_requests", "hash", "random"}, &balance) {
		u.Balance = Balance(balance)
	}
	if at := a["hash_on"]; at != nil {
		var h string
		if secret, ok := d.str(at, ptr+"/hash_on", &h); ok {
			kind, name, _ := strings.Cut(h, ":")
			switch {
			case u.Balance != BalanceHash:
				d.errorf(at.NameRange, "Unused hash_on",
					"hash_on only applies when balance = \"hash\"; upstream %q uses %q. Set balance = \"hash\" or remove hash_on.", u.Name, string(u.Balance))
			case h == "ip" || ((kind == "header" || kind == "cookie") && validHeaderName(name)):
				u.HashOn = h
			default:
				d.errorf(at.Expr.Range(), "Invalid hash_on",
					"%s is not a hash key. Use \"ip\", \"header:NAME\" or \"cookie:NAME\", such as \"header:X-User\".", show(h, secret))
			}
		}
	} else if u.Balance == BalanceHash {
		d.errorf(a["balance"].Expr.Range(), "Missing hash_on",
			"upstream %q uses balance = \"hash\" but has no hash_on. Add hash_on = \"ip\", \"header:NAME\" or \"cookie:NAME\".", u.Name)
	}

	d.duration(a["connect_timeout"], ptr+"/connect_timeout", &u.ConnectTimeout)
	d.duration(a["response_timeout"], ptr+"/response_timeout", &u.ResponseTimeout)
	d.duration(a["idle_conn_timeout"], ptr+"/idle_conn_timeout", &u.IdleConnTimeout)
	d.number(a["max_idle_conns_per_host"], ptr+"/max_idle_conns_per_host", 0, &u.MaxIdleConnsPerHost)
	d.number(a["max_conns_per_host"], ptr+"/max_conns_per_host", 0, &u.MaxConnsPerHost)
	d.boolean(a["tls_skip_verify"], ptr+"/tls_skip_verify", &u.TLSSkipVerify)
	return u
}

// checkTarget validates a target URL: http or https, with a host, without a
// query or fragment.
func (d *decoder) checkTarget(rng hcl.Range, raw string, secret bool) bool {
	u, err := url.Parse(raw)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https"):
		d.errorf(rng, "Invalid target URL",
			"%s is not an http or https URL. Write a target as \"http://host:port\" or \"https://host\", with an optional base path.", show(raw, secret))
	case u.Host == "" || u.Hostname() == "":
		d.errorf(rng, "Invalid target URL", "%s has no host. Write a target as \"http://host:port\".", show(raw, secret))
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		d.errorf(rng, "Invalid target URL", "%s has a query, fragment or user info; a target is scheme, host, port and an optional base path only.", show(raw, secret))
	default:
		return true
	}
	return false
}

// target decodes a target block.
func (d *decoder) target(b *hcl.Block, ptr string) *Target {
	content, diags := b.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "url", Required: true}, {Name: "weight"},
	}})
	d.diags = append(d.diags, diags...)
	t := &Target{Weight: 1}
	at := content.Attributes["url"]
	secret, ok := d.str(at, ptr+"/url", &t.URL)
	if ok && !d.checkTarget(at.Expr.Range(), t.URL, secret) {
		ok = false
	}
	t.URL = strings.TrimRight(t.URL, "/")
	d.number(content.Attributes["weight"], ptr+"/weight", 1, &t.Weight)
	if !ok {
		return nil
	}
	return t
}

// retry decodes a retry block.
func (d *decoder) retry(b *hcl.Block, ptr string) *Retry {
	content, diags := b.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "attempts"}, {Name: "on_status"}, {Name: "backoff"}, {Name: "max_backoff"},
	}})
	d.diags = append(d.diags, diags...)
	a := content.Attributes
	r := &Retry{Attempts: 2, OnStatus: []int{502, 503, 504}, Backoff: 25 * time.Millisecond, MaxBackoff: 250 * time.Millisecond}
	d.number(a["attempts"], ptr+"/attempts", 0, &r.Attempts)
	d.statuses(a["on_status"], ptr+"/on_status", &r.OnStatus)
	d.duration(a["backoff"], ptr+"/backoff", &r.Backoff)
	d.duration(a["max_backoff"], ptr+"/max_backoff", &r.MaxBackoff)
	if r.MaxBackoff < r.Backoff {
		rng := b.DefRange
		if at := a["max_backoff"]; at != nil {
			rng = at.Expr.Range()
		}
		d.errorf(rng, "Invalid max_backoff", "max_backoff (%s) is shorter than backoff (%s); make it at least as long.", r.MaxBackoff, r.Backoff)
	}
	return r
}

// healthCheck decodes a health_check block.
func (d *decoder) healthCheck(b *hcl.Block, ptr string) *HealthCheck {
	content, diags := b.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "path"}, {Name: "interval"}, {Name: "timeout"}, {Name: "healthy_threshold"},
		{Name: "unhealthy_threshold"}, {Name: "expect_status"},
	}})
	d.diags = append(d.diags, diags...)
	a := content.Attributes
	h := &HealthCheck{Path: "/healthz", Interval: 10 * time.Second, Timeout: 2 * time.Second,
		HealthyThreshold: 2, UnhealthyThreshold: 3, ExpectStatus: []int{}}
	if at := a["path"]; at != nil {
		var p string
		if secret, ok := d.str(at, ptr+"/path", &p); ok {
			if strings.HasPrefix(p, "/") {
				h.Path = p
			} else {
				d.errorf(at.Expr.Range(), "Invalid health check path", "%s must start with \"/\", such as \"/healthz\".", show(p, secret))
			}
		}
	}
	d.duration(a["interval"], ptr+"/interval", &h.Interval)
	d.duration(a["timeout"], ptr+"/timeout", &h.Timeout)
	d.number(a["healthy_threshold"], ptr+"/healthy_threshold", 1, &h.HealthyThreshold)
	d.number(a["unhealthy_threshold"], ptr+"/unhealthy_threshold", 1, &h.UnhealthyThreshold)
	d.statuses(a["expect_status"], ptr+"/expect_status", &h.ExpectStatus)
	if h.Interval <= 0 {
		d.errorf(a["interval"].Expr.Range(), "Invalid interval", "interval must be longer than zero, such as \"10s\".")
	}
	if h.Timeout <= 0 {
		d.errorf(a["timeout"].Expr.Range(), "Invalid timeout", "timeout must be longer than zero, such as \"2s\".")
	}
	return h
}

// passiveHealth decodes a passive_health block.
func (d *decoder) passiveHealth(b *hcl.Block, ptr string) *PassiveHealth {
	content, diags := b.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "consecutive_failures"}, {Name: "eject_duration"},
	}})
	d.diags = append(d.diags, diags...)
	a := content.Attributes
	p := &PassiveHealth{ConsecutiveFailures: 5, EjectDuration: 30 * time.Second}
	d.number(a["consecutive_failures"], ptr+"/consecutive_failures", 1, &p.ConsecutiveFailures)
	d.duration(a["eject_duration"], ptr+"/eject_duration", &p.EjectDuration)
	return p
}

// circuitBreaker decodes a circuit_breaker block.
func (d *decoder) circuitBreaker(b *hcl.Block, ptr string) *CircuitBreaker {
	content, diags := b.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "consecutive_failures"}, {Name: "failure_ratio"}, {Name: "min_requests"}, {Name: "interval"},
		{Name: "open_timeout"}, {Name: "half_open_requests"}, {Name: "failure_statuses"},
	}})
	d.diags = append(d.diags, diags...)
	a := content.Attributes
	c := &CircuitBreaker{ConsecutiveFailures: 5, MinRequests: 20, Interval: 60 * time.Second,
		OpenTimeout: 30 * time.Second, HalfOpenRequests: 1, FailureStatuses: []int{}}
	if a["failure_ratio"] != nil && a["consecutive_failures"] == nil {
		c.ConsecutiveFailures = 0 // the ratio alone decides
	}
	d.number(a["consecutive_failures"], ptr+"/consecutive_failures", 0, &c.ConsecutiveFailures)
	if at := a["failure_ratio"]; at != nil && d.float(at, ptr+"/failure_ratio", &c.FailureRatio) {
		if c.FailureRatio <= 0 || c.FailureRatio > 1 {
			d.errorf(at.Expr.Range(), "Invalid failure_ratio",
				"failure_ratio must be more than 0 and at most 1, such as 0.5 (half the requests failed); got %s.", strconv.FormatFloat(c.FailureRatio, 'g', -1, 64))
			c.FailureRatio = 0
		}
	}
	d.number(a["min_requests"], ptr+"/min_requests", 0, &c.MinRequests)
	d.duration(a["interval"], ptr+"/interval", &c.Interval)
	d.duration(a["open_timeout"], ptr+"/open_timeout", &c.OpenTimeout)
	d.number(a["half_open_requests"], ptr+"/half_open_requests", 1, &c.HalfOpenRequests)
	d.statuses(a["failure_statuses"], ptr+"/failure_statuses", &c.FailureStatuses)
	if c.ConsecutiveFailures == 0 && c.FailureRatio == 0 && a["failure_ratio"] == nil {
		d.errorf(b.DefRange, "Circuit breaker never trips",
			"Set consecutive_failures (such as 5) or failure_ratio (such as 0.5) to a value above zero, or remove the circuit_breaker block.")
	}
	return c
}
