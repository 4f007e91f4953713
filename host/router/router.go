package router

import (
	"errors"
	"fmt"
	"strings"
)

// Route is one entry given to New.
type Route struct {
	// Method is GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS or ANY. Lower
	// case is accepted.
	Method string
	// Host is "" (any host), an exact host "api.example.com" or a wildcard
	// "*.example.com"; case-insensitive, without a port.
	Host string
	// Path is the template: literal segments, "{param}" segments and an
	// optional final "{proxy+}".
	Path string
	// Value is what Match returns for this route.
	Value any
}

// Result says how Match ended.
type Result uint8

// The results of Match.
const (
	// NotFound: no route has a template matching the host and path (404).
	NotFound Result = iota
	// Matched: a route matched; Match returned its Value.
	Matched
	// MethodNotAllowed: routes match the host and path but none accepts the
	// method (405; Allowed gives the Allow header).
	MethodNotAllowed
)

// String returns the result's name.
func (r Result) String() string {
	switch r {
	case NotFound:
		return "NotFound"
	case Matched:
		return "Matched"
	case MethodNotAllowed:
		return "MethodNotAllowed"
	}
	return fmt.Sprintf("Result(%d)", uint8(r))
}

// Router matches requests to routes. It is immutable after New and safe for
// concurrent use.
type Router struct {
	anyHost *node
	exact   map[string]*node // by lower-case host
	wild    map[string]*node // by lower-case suffix with its leading dot
	maxWild int              // length of the longest key of wild
}

// node is one position in a host's segment tree.
type node struct {
	lits   map[string]*node // literal children by canonical segment ("" = trailing slash)
	param  *node            // the {param} child
	end    *leaf            // routes whose template ends here
	greedy *leaf            // routes whose template ends here with {proxy+}
}

// leaf holds the routes of one template shape, one per method slot.
type leaf struct {
	routes [numSlots]*entry
}

// entry is one route as stored in a leaf.
type entry struct {
	value any
	names []string // parameter names in template order
	index int      // position in the slice given to New
	route Route
}

// New builds a Router from routes. It reports every invalid route (bad
// method, host or template) and every duplicate (same method and host pattern,
// and a path of the same shape: "/users/{id}" and "/users/{name}" are the same
// shape), each as a *RouteError, joined with errors.Join.
func New(routes []Route) (*Router, error) {
	r := &Router{}
	var errs []error
	for i, rt := range routes {
		if err := r.add(i, rt); err != nil {
			errs = append(errs, &RouteError{Index: i, Route: rt, Err: err})
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return r, nil
}

// add inserts one route.
func (r *Router) add(index int, rt Route) error {
	m := strings.ToUpper(rt.Method)
	slot := methodSlot(m)
	if m == MethodAny {
		slot = anySlot
	}
	if slot < 0 {
		return fmt.Errorf("%w %q: use one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS or ANY", ErrBadMethod, rt.Method)
	}
	kind, key, err := parseHost(rt.Host)
	if err != nil {
		return err
	}
	segs, err := parseTemplate(rt.Path)
	if err != nil {
		return err
	}

	n := r.tree(kind, key)
	var names []string
	var lf **leaf
	for i, s := range segs {
		last := i == len(segs)-1
		switch s.kind {
		case segLiteral:
			if n.lits == nil {
				n.lits = make(map[string]*node)
			}
			c := n.lits[s.text]
			if c == nil {
				c = &node{}
				n.lits[s.text] = c
			}
			n = c
		case segParam:
			names = append(names, s.text)
			if n.param == nil {
				n.param = &node{}
			}
			n = n.param
		case segGreedy:
			names = append(names, s.text)
		}
		if last {
			lf = &n.end
			if s.kind == segGreedy {
				lf = &n.greedy
			}
		}
	}
	if *lf == nil {
		*lf = &leaf{}
	}
	if prev := (*lf).routes[slot]; prev != nil {
		return fmt.Errorf("%w: same method, host and path shape as route %q (number %d); remove one or change its path",
			ErrDuplicateRoute, routeKey(prev.route), prev.index+1)
	}
	rt.Method = m
	(*lf).routes[slot] = &entry{value: rt.Value, names: names, index: index, route: rt}
	return nil
}

// tree returns the root of the segment tree for a host pattern, creating it
// as needed.
func (r *Router) tree(kind hostKind, key string) *node {
	if kind == hostAny {
		if r.anyHost == nil {
			r.anyHost = &node{}
		}
		return r.anyHost
	}
	m := &r.exact
	if kind == hostWildcard {
		m = &r.wild
		r.maxWild = max(r.maxWild, len(key))
	}
	if *m == nil {
		*m = make(map[string]*node)
	}
	n := (*m)[key]
	if n == nil {
		n = &node{}
		(*m)[key] = n
	}
	return n
}

// matcher is the state of one Match call; it lives on the caller's stack.
type matcher struct {
	path        string
	slot        int // method slot, -1 for methods only ANY matches
	pathMatched bool
	caps        [MaxParams]string
}

// Match finds the route for a request. method is the request method (case
// sensitive, as in HTTP), host the Host header or URL host (a port and one
// trailing dot are ignored, letters compared case-insensitively) and path the
// result of Normalize. When p is not nil, Match resets it and, on Matched,
// fills it with the route's parameters.
//
// Match does not allocate. See the package documentation for precedence.
func (r *Router) Match(method, host, path string, p *Params) (any, Result) {
	if p != nil {
		p.Reset()
	}
	st := matcher{path: path, slot: methodSlot(method)}
	e := r.find(&st, host)
	if e == nil {
		if st.pathMatched {
			return nil, MethodNotAllowed
		}
		return nil, NotFound
	}
	if p != nil {
		p.n = copy(p.names[:], e.names)
		copy(p.values[:p.n], st.caps[:p.n])
	}
	return e.value, Matched
}

// find tries the trees that apply to host, most specific first.
func (r *Router) find(st *matcher, host string) *entry {
	if len(st.path) == 0 || st.path[0] != '/' {
		return nil
	}
	if r.exact != nil || r.wild != nil {
		var buf [maxHostLen]byte
		if n := lowerHost(&buf, host); n > 0 {
			if t := r.exact[string(buf[:n])]; t != nil {
				if e := t.match(st, 1, 0); e != nil {
					return e
				}
			}
			if r.wild != nil {
				// Longest suffix first: ".b.example.com" before ".example.com".
				for i := max(1, n-r.maxWild); i < n; i++ {
					if buf[i] != '.' {
						continue
					}
					if t := r.wild[string(buf[i:n])]; t != nil {
						if e := t.match(st, 1, 0); e != nil {
							return e
						}
					}
				}
			}
		}
	}
	if r.anyHost != nil {
		return r.anyHost.match(st, 1, 0)
	}
	return nil
}

// match matches st.path[i:], which starts a segment, below n; k parameters are
// captured so far. It tries the literal child, then the parameter child, then
// a greedy parameter, backtracking when a branch finds no route for the
// method.
func (n *node) match(st *matcher, i, k int) *entry {
	rest := st.path[i:]
	j := strings.IndexByte(rest, '/')
	seg := rest
	if j >= 0 {
		seg = rest[:j]
	}
	if c := n.lits[seg]; c != nil {
		if j < 0 {
			if e := st.pick(c.end); e != nil {
				return e
			}
		} else if e := c.match(st, i+j+1, k); e != nil {
			return e
		}
	}
	if c := n.param; c != nil && seg != "" && k < MaxParams {
		st.caps[k] = seg
		if j < 0 {
			if e := st.pick(c.end); e != nil {
				return e
			}
		} else if e := c.match(st, i+j+1, k+1); e != nil {
			return e
		}
	}
	if n.greedy != nil && rest != "" && k < MaxParams {
		st.caps[k] = rest
		return st.pick(n.greedy)
	}
	return nil
}

// pick returns the route of l for the request method: the method's own route,
// else the ANY route. It notes a path match for the 405 answer.
func (st *matcher) pick(l *leaf) *entry {
	if l == nil {
		return nil
	}
	if st.slot >= 0 {
		if e := l.routes[st.slot]; e != nil {
			return e
		}
	}
	if e := l.routes[anySlot]; e != nil {
		return e
	}
	st.pathMatched = true
	return nil
}

// Allowed returns the methods for which Match would find a route for host and
// path, in the order GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, for the
// Allow header of a 405 answer. When an ANY route matches, all seven are
// listed. It allocates; call it only on the error path.
func (r *Router) Allowed(host, path string) []string {
	var mask uint16
	if len(path) > 0 && path[0] == '/' {
		var buf [maxHostLen]byte
		if n := lowerHost(&buf, host); n > 0 {
			if t := r.exact[string(buf[:n])]; t != nil {
				t.methods(path, 1, &mask)
			}
			for i := max(1, n-r.maxWild); i < n; i++ {
				if buf[i] == '.' {
					if t := r.wild[string(buf[i:n])]; t != nil {
						t.methods(path, 1, &mask)
					}
				}
			}
		}
		if r.anyHost != nil {
			r.anyHost.methods(path, 1, &mask)
		}
	}
	if mask&(1<<anySlot) != 0 {
		mask = 1<<numMethods - 1
	}
	var out []string
	for s := 0; s < numMethods; s++ {
		if mask&(1<<s) != 0 {
			out = append(out, methodName(s))
		}
	}
	return out
}

// methods ORs into mask the method slots of every route whose template
// matches path[i:] below n.
func (n *node) methods(path string, i int, mask *uint16) {
	rest := path[i:]
	j := strings.IndexByte(rest, '/')
	seg := rest
	if j >= 0 {
		seg = rest[:j]
	}
	var next []*node
	if c := n.lits[seg]; c != nil {
		next = append(next, c)
	}
	if n.param != nil && seg != "" {
		next = append(next, n.param)
	}
	for _, c := range next {
		if j < 0 {
			c.end.addTo(mask)
		} else {
			c.methods(path, i+j+1, mask)
		}
	}
	if rest != "" {
		n.greedy.addTo(mask)
	}
}

// addTo ORs l's occupied slots into mask.
func (l *leaf) addTo(mask *uint16) {
	if l == nil {
		return
	}
	for s, e := range l.routes {
		if e != nil {
			*mask |= 1 << s
		}
	}
}
