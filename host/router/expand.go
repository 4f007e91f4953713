package router

import "strings"

// Expand fills a path template such as "/internal/{id}/{proxy}" with the
// parameters of a match. A placeholder is "{name}" or "{name+}"; both insert
// the value of parameter name, so a greedy "{proxy+}" may be referred to
// either way. Values are inserted in their canonical encoded form, so the
// result is a path ready to forward. A placeholder naming a parameter that p
// does not hold is left as written; validate templates with ParamNames when
// loading config so that this does not happen.
func Expand(template string, p *Params) string {
	if strings.IndexByte(template, '{') < 0 {
		return template
	}
	size := len(template)
	for i := 0; i < p.Len(); i++ {
		size += len(p.values[i])
	}
	var b strings.Builder
	b.Grow(size)
	for {
		open := strings.IndexByte(template, '{')
		if open < 0 {
			break
		}
		end := strings.IndexByte(template[open:], '}')
		if end < 0 {
			break
		}
		end += open
		b.WriteString(template[:open])
		name := strings.TrimSuffix(template[open+1:end], "+")
		if v, ok := p.Get(name); ok {
			b.WriteString(v)
		} else {
			b.WriteString(template[open : end+1])
		}
		template = template[end+1:]
	}
	b.WriteString(template)
	return b.String()
}
