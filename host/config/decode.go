package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// decoder turns attribute expressions into Go values. It collects diagnostics
// and records which fields hold secrets, as JSON pointers into the document
// RedactedJSON prints.
type decoder struct {
	dir     string
	ctx     *hcl.EvalContext
	diags   hcl.Diagnostics
	secrets []string
}

// errorf records an error diagnostic at rng.
func (d *decoder) errorf(rng hcl.Range, summary, format string, args ...any) {
	d.diags = append(d.diags, NewDiagnostic(rng, summary, fmt.Sprintf(format, args...)))
}

// eval evaluates a's expression and converts it to want. It returns the value
// without marks and whether any part of it was secret, recording the secret
// parts under ptr. ok is false after an error or when the value is null (an
// attribute set to null counts as unset).
func (d *decoder) eval(a *hcl.Attribute, want cty.Type, ptr string) (v cty.Value, secret, ok bool) {
	v, diags := a.Expr.Value(d.ctx)
	d.diags = append(d.diags, diags...)
	if diags.HasErrors() {
		return cty.NilVal, false, false
	}
	v, pvm := v.UnmarkDeepWithPaths()
	secret = len(pvm) > 0
	if v.IsNull() {
		return cty.NilVal, secret, false
	}
	if want != cty.DynamicPseudoType {
		cv, err := convert.Convert(v, want)
		if err != nil {
			d.errorf(a.Expr.Range(), "Incorrect attribute value type",
				"Inappropriate value for attribute %q: %s. Write it as %s.", a.Name, err, typeHint(want))
			return cty.NilVal, secret, false
		}
		v = cv
	}
	if !v.IsWhollyKnown() {
		d.errorf(a.Expr.Range(), "Unknown value", "The value of %q cannot be known when the config is loaded; use literals, env() or file().", a.Name)
		return cty.NilVal, secret, false
	}
	for _, p := range pvm {
		d.secrets = append(d.secrets, ptr+pathPointer(p.Path))
	}
	return v, secret, true
}

// typeHint describes a cty type for a diagnostic.
func typeHint(t cty.Type) string {
	switch {
	case t == cty.String:
		return "a string"
	case t == cty.Number:
		return "a number"
	case t == cty.Bool:
		return "true or false"
	case t.IsListType():
		return "a list of " + strings.TrimPrefix(typeHint(t.ElementType()), "a ") + "s, such as [...]"
	case t.IsMapType():
		return "a map of " + strings.TrimPrefix(typeHint(t.ElementType()), "a ") + "s, such as { name = value }"
	}
	return t.FriendlyName()
}

// pathPointer renders a cty path as a JSON pointer suffix ("/keys/0").
func pathPointer(p cty.Path) string {
	var b strings.Builder
	for _, step := range p {
		b.WriteByte('/')
		switch s := step.(type) {
		case cty.GetAttrStep:
			b.WriteString(escapePointer(s.Name))
		case cty.IndexStep:
			if s.Key.Type() == cty.String {
				b.WriteString(escapePointer(s.Key.AsString()))
			} else {
				bf := s.Key.AsBigFloat()
				i, _ := bf.Int64()
				b.WriteString(strconv.FormatInt(i, 10))
			}
		}
	}
	return b.String()
}

// escapePointer escapes one JSON pointer reference token (RFC 6901).
func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// show quotes v for a diagnostic, unless it is secret.
func show(v string, secret bool) string {
	if secret {
		return "the value from env() or file()"
	}
	return strconv.Quote(v)
}

// str decodes a string attribute into dst. It reports whether dst was set.
func (d *decoder) str(a *hcl.Attribute, ptr string, dst *string) (secret, ok bool) {
	if a == nil {
		return false, false
	}
	v, secret, ok := d.eval(a, cty.String, ptr)
	if !ok {
		return secret, false
	}
	*dst = v.AsString()
	return secret, true
}

// boolean decodes a bool attribute into dst.
func (d *decoder) boolean(a *hcl.Attribute, ptr string, dst *bool) bool {
	if a == nil {
		return false
	}
	v, _, ok := d.eval(a, cty.Bool, ptr)
	if !ok {
		return false
	}
	*dst = v.True()
	return true
}

// number decodes a whole-number attribute of at least lo into dst.
func (d *decoder) number(a *hcl.Attribute, ptr string, lo int, dst *int) bool {
	if a == nil {
		return false
	}
	v, secret, ok := d.eval(a, cty.Number, ptr)
	if !ok {
		return false
	}
	n, ok := wholeNumber(v)
	if !ok {
		d.errorf(a.Expr.Range(), "Invalid number", "%s must be a whole number, not %s.", a.Name, show(v.AsBigFloat().String(), secret))
		return false
	}
	if n < lo {
		d.errorf(a.Expr.Range(), "Invalid number", "%s must be %d or more, not %s.", a.Name, lo, show(strconv.Itoa(n), secret))
		return false
	}
	*dst = n
	return true
}

// wholeNumber converts a cty number to an int when it is whole and fits.
func wholeNumber(v cty.Value) (int, bool) {
	bf := v.AsBigFloat()
	if !bf.IsInt() {
		return 0, false
	}
	i, acc := bf.Int64()
	if acc != 0 || int64(int(i)) != i {
		return 0, false
	}
	return int(i), true
}

// float decodes a number attribute into dst.
func (d *decoder) float(a *hcl.Attribute, ptr string, dst *float64) bool {
	if a == nil {
		return false
	}
	v, _, ok := d.eval(a, cty.Number, ptr)
	if !ok {
		return false
	}
	*dst, _ = v.AsBigFloat().Float64()
	return true
}

// duration decodes a duration string ("250ms", "30s", "1h30m") into dst.
func (d *decoder) duration(a *hcl.Attribute, ptr string, dst *time.Duration) bool {
	var s string
	secret, ok := d.str(a, ptr, &s)
	if !ok {
		return false
	}
	v, err := parseDuration(s)
	if err != nil {
		what := "is not a duration"
		if err == errNegative {
			what = "is negative"
		}
		d.errorf(a.Expr.Range(), "Invalid duration", "%s %s. Use a number with a unit, such as \"30s\" or \"250ms\".", show(s, secret), what)
		return false
	}
	*dst = v
	return true
}

// size decodes a byte size ("512", "64KiB", "10MiB", "1GB") into dst.
func (d *decoder) size(a *hcl.Attribute, ptr string, dst *int64) bool {
	var s string
	secret, ok := d.str(a, ptr, &s)
	if !ok {
		return false
	}
	v, err := parseSize(s)
	if err != nil {
		what := "is not a size"
		if err == errNegative {
			what = "is negative"
		}
		d.errorf(a.Expr.Range(), "Invalid size", "%s %s. Use a number of bytes with an optional unit, such as \"512\", \"64KiB\", \"10MiB\" or \"1GB\".", show(s, secret), what)
		return false
	}
	*dst = v
	return true
}

// sizeInt is size for int fields.
func (d *decoder) sizeInt(a *hcl.Attribute, ptr string, dst *int) bool {
	var v int64
	if !d.size(a, ptr, &v) {
		return false
	}
	if int64(int(v)) != v {
		d.errorf(a.Expr.Range(), "Invalid size", "%s is too large for this machine; use a smaller size.", a.Name)
		return false
	}
	*dst = int(v)
	return true
}

// strings decodes a list of strings into dst. secret reports, per element,
// whether it came from env() or file().
func (d *decoder) strings(a *hcl.Attribute, ptr string, dst *[]string) (secret []bool, ok bool) {
	if a == nil {
		return nil, false
	}
	v, _, ok := d.eval(a, cty.List(cty.String), ptr)
	if !ok {
		return nil, false
	}
	out := []string{}
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() {
			d.errorf(a.Expr.Range(), "Invalid list", "%s must not contain null; remove the element.", a.Name)
			return nil, false
		}
		out = append(out, e.AsString())
	}
	secret = make([]bool, len(out))
	for i := range out {
		secret[i] = d.isSecret(ptr + "/" + strconv.Itoa(i))
	}
	*dst = out
	return secret, true
}

// isSecret reports whether the value at ptr, or a value containing it, was recorded as secret.
func (d *decoder) isSecret(ptr string) bool {
	for _, s := range d.secrets {
		if s == ptr || strings.HasPrefix(ptr, s+"/") {
			return true
		}
	}
	return false
}

// stringMap decodes a map of strings into dst.
func (d *decoder) stringMap(a *hcl.Attribute, ptr string, dst *map[string]string) bool {
	if a == nil {
		return false
	}
	v, _, ok := d.eval(a, cty.Map(cty.String), ptr)
	if !ok {
		return false
	}
	out := map[string]string{}
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		if e.IsNull() {
			d.errorf(a.Expr.Range(), "Invalid map", "%s must not contain null values; remove %q.", a.Name, k.AsString())
			return false
		}
		out[k.AsString()] = e.AsString()
	}
	*dst = out
	return true
}

// statuses decodes a list of HTTP status codes (100-599) into dst.
func (d *decoder) statuses(a *hcl.Attribute, ptr string, dst *[]int) bool {
	if a == nil {
		return false
	}
	v, _, ok := d.eval(a, cty.List(cty.Number), ptr)
	if !ok {
		return false
	}
	out := []int{}
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		n, whole := 0, false
		if !e.IsNull() {
			n, whole = wholeNumber(e)
		}
		if !whole || n < 100 || n > 599 {
			shown := "null"
			if !e.IsNull() {
				shown = e.AsBigFloat().String()
			}
			d.errorf(a.Expr.Range(), "Invalid status code", "%s is not an HTTP status code; %s takes whole numbers from 100 to 599.", shown, a.Name)
			return false
		}
		out = append(out, n)
	}
	*dst = out
	return true
}

// status decodes one HTTP status code into dst.
func (d *decoder) status(a *hcl.Attribute, ptr string, dst *int) bool {
	var n int
	if !d.number(a, ptr, 0, &n) {
		return false
	}
	if n < 100 || n > 599 {
		d.errorf(a.Expr.Range(), "Invalid status code", "%d is not an HTTP status code; %s takes a whole number from 100 to 599.", n, a.Name)
		return false
	}
	*dst = n
	return true
}

// oneOf decodes a string attribute that must be one of allowed.
func (d *decoder) oneOf(a *hcl.Attribute, ptr string, allowed []string, dst *string) bool {
	var s string
	secret, ok := d.str(a, ptr, &s)
	if !ok {
		return false
	}
	for _, x := range allowed {
		if s == x {
			*dst = s
			return true
		}
	}
	d.errorf(a.Expr.Range(), "Invalid "+a.Name, "%s is not a valid %s. Use one of %s.", show(s, secret), a.Name, quoteList(allowed))
	return false
}

// quoteList renders ["a", "b", "c"] as `"a", "b" or "c"`.
func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = strconv.Quote(x)
	}
	if len(q) < 2 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// ref reads a reference such as upstream.users and returns the name.
func (d *decoder) ref(expr hcl.Expression, kind, example string) (string, bool) {
	trav, diags := hcl.AbsTraversalForExpr(expr)
	if diags.HasErrors() || len(trav) != 2 || trav.RootName() != kind {
		d.errorf(expr.Range(), "Invalid reference",
			"Expected a reference to %s %s block, such as %s.%s, written without quotes.", article(kind), kind, kind, example)
		return "", false
	}
	attr, ok := trav[1].(hcl.TraverseAttr)
	if !ok {
		d.errorf(expr.Range(), "Invalid reference",
			"Expected a reference to %s %s block, such as %s.%s, written without quotes.", article(kind), kind, kind, example)
		return "", false
	}
	return attr.Name, true
}

// pluginRef is an unresolved plugin reference in a pipeline.
type pluginRef struct {
	name string
	rng  hcl.Range
}

// pipeline reads a list of plugin references such as [plugin.auth, plugin.cors].
func (d *decoder) pipeline(a *hcl.Attribute) []pluginRef {
	if a == nil {
		return nil
	}
	exprs, diags := hcl.ExprList(a.Expr)
	if diags.HasErrors() {
		d.errorf(a.Expr.Range(), "Invalid pipeline",
			"pipeline must be a list of plugin references, such as [plugin.auth, plugin.cors].")
		return nil
	}
	var out []pluginRef
	seen := map[string]hcl.Range{}
	for _, e := range exprs {
		name, ok := d.ref(e, "plugin", "auth")
		if !ok {
			continue
		}
		if prev, dup := seen[name]; dup {
			d.errorf(e.Range(), "Duplicate plugin in pipeline",
				"plugin %q is already in this pipeline at %s; a plugin runs at most once per pipeline, so remove one.", name, posString(prev))
			continue
		}
		seen[name] = e.Range()
		out = append(out, pluginRef{name: name, rng: e.Range()})
	}
	return out
}

// elemRange returns the range of element i of a list attribute written as a
// literal list, or the whole expression's range otherwise.
func elemRange(a *hcl.Attribute, i int) hcl.Range {
	if exprs, diags := hcl.ExprList(a.Expr); !diags.HasErrors() && i < len(exprs) {
		return exprs[i].Range()
	}
	return a.Expr.Range()
}

// article returns "an" before a vowel sound and "a" otherwise.
func article(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}

// posString renders a range start as FILE:LINE,COL, as in
// "Previous definition was at gateway.hcl:3,1".
func posString(r hcl.Range) string {
	return fmt.Sprintf("%s:%d,%d", r.Filename, r.Start.Line, r.Start.Column)
}
