// Package schema compiles JSON Schemas and validates JSON documents against
// them natively, for the json_schema_* host functions (abi/ABI.md,
// "json_schema_compile"). Inside a Wasm guest the same validation costs about
// 7x more: Go's JSON and the validator's many small allocations run without
// assembly or a fast allocator. sdk/go/plugintest uses this package too, so a
// plugin tested natively sees exactly what the gateway would answer, and so
// does plugins/request-validator on a gateway without the host functions
// (the package builds for wasip1).
//
// The validator is github.com/santhosh-tekuri/jsonschema/v6 (drafts 4, 6, 7,
// 2019-09 and 2020-12). Schemas never load anything: a $ref outside the
// schema document is a compile error, so a schema cannot make the gateway
// read a file or fetch a URL.
package schema

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/wasmgate/gateway/abi"
)

// resourceURL names the schema document. Its scheme has no loader, so a
// relative $ref to another document resolves to a URL nothing loads.
const resourceURL = "mem://plugin/schema.json"

// Draft maps an abi.SchemaDraft* code to the library's draft; ok is false
// for an unknown code.
func Draft(code int32) (d *jsonschema.Draft, ok bool) {
	switch code {
	case abi.SchemaDraftDefault, abi.SchemaDraft2020:
		return jsonschema.Draft2020, true
	case abi.SchemaDraft2019:
		return jsonschema.Draft2019, true
	case abi.SchemaDraft7:
		return jsonschema.Draft7, true
	case abi.SchemaDraft6:
		return jsonschema.Draft6, true
	case abi.SchemaDraft4:
		return jsonschema.Draft4, true
	}
	return nil, false
}

// noLoader refuses every URL: schemas are self-contained.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("%s is outside the schema; the gateway loads no files or URLs for schemas: move it under $defs and refer to it as #/$defs/NAME", url)
}

// Schema is a compiled schema: the library's, and the fast path's tree when
// the schema allows one (fast.go).
type Schema struct {
	full   *jsonschema.Schema
	fast   *node
	fastOK bool
}

// Compile compiles the JSON Schema text src; draft (an abi.SchemaDraft*
// code) applies when the schema has no $schema.
func Compile(src []byte, draft int32) (*Schema, error) {
	d, ok := Draft(draft)
	if !ok {
		return nil, fmt.Errorf("unknown draft code %d; use 4, 6, 7, 2019 or 2020", draft)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("schema is not valid JSON: %w; check the schema file or inline object", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(d)
	c.UseLoader(noLoader{})
	if err := c.AddResource(resourceURL, doc); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	sch, err := c.Compile(resourceURL)
	if err != nil {
		return nil, fmt.Errorf("compile schema: %s; fix the schema", strings.ReplaceAll(err.Error(), resourceURL, "schema"))
	}
	out := &Schema{full: sch}
	out.fast, out.fastOK = buildFast(sch, 0)
	return out, nil
}

// Error is one reason a document is invalid.
type Error struct {
	Pointer string // JSON pointer into the document; "" is the whole document
	Reason  string
}

// MaxErrors caps the errors Validate returns.
const MaxErrors = abi.MaxSchemaErrors

// Validate checks the JSON text doc against sch. It returns nil when doc is
// valid, otherwise at least one Error (at most MaxErrors): the leaf causes,
// or a single "malformed JSON: ..." for a document that does not parse.
func Validate(sch *Schema, doc []byte) []Error {
	if sch.fastOK && fastValid(sch.fast, doc) {
		return nil
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return []Error{{Reason: "malformed JSON: " + err.Error()}}
	}
	err = sch.full.Validate(v)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []Error{{Reason: err.Error()}}
	}
	out := ve.BasicOutput()
	var errs []Error
	for _, u := range out.Errors {
		if u.Error != nil {
			errs = append(errs, Error{Pointer: u.InstanceLocation, Reason: u.Error.String()})
		}
	}
	// The library visits an object's properties in map order: sort, so
	// that the same document always gets the same list (and the same first
	// MaxErrors).
	slices.SortFunc(errs, func(a, b Error) int {
		return cmp.Or(strings.Compare(a.Pointer, b.Pointer), strings.Compare(a.Reason, b.Reason))
	})
	if len(errs) > MaxErrors {
		errs = errs[:MaxErrors]
	}
	if len(errs) == 0 {
		reason := ve.Error()
		if out.Error != nil {
			reason = out.Error.String()
		}
		errs = append(errs, Error{Pointer: out.InstanceLocation, Reason: reason})
	}
	return errs
}

// AppendErrors appends errs in the ABI's list form: pointer NUL reason NUL,
// per error. A NUL inside a pointer or reason becomes U+FFFD.
func AppendErrors(b []byte, errs []Error) []byte {
	for _, e := range errs {
		b = appendItem(b, e.Pointer)
		b = appendItem(b, e.Reason)
	}
	return b
}

func appendItem(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			b = append(b, "\uFFFD"...)
			continue
		}
		b = append(b, s[i])
	}
	return append(b, 0)
}

// Cache shares compiled schemas between the instances of one plugin: each
// instance compiles its schemas in on_configure, and the same text compiles
// once. It holds at most max schemas; past that, Compile still works but
// does not cache.
type Cache struct {
	mu  sync.Mutex
	m   map[[sha256.Size]byte]*Schema
	max int
}

// NewCache returns a cache of at most max schemas.
func NewCache(max int) *Cache {
	return &Cache{m: map[[sha256.Size]byte]*Schema{}, max: max}
}

// Compile is Compile through the cache. Failures are not cached.
func (c *Cache) Compile(src []byte, draft int32) (*Schema, error) {
	h := sha256.New()
	_, _ = fmt.Fprintf(h, "%d\x00", draft)
	h.Write(src)
	var key [sha256.Size]byte
	h.Sum(key[:0])
	c.mu.Lock()
	sch, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return sch, nil
	}
	sch, err := Compile(src, draft)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.m) < c.max {
		c.m[key] = sch
	}
	c.mu.Unlock()
	return sch, nil
}

// Table is one guest instance's compiled schemas, as json_schema_compile,
// json_schema_error and json_validate see them: ids index it. The host and
// sdk/go/plugintest both use it, so they answer alike.
type Table struct {
	compile func([]byte, int32) (*Schema, error)
	list    []*Schema
	lastErr string
	out     []byte // the last reasons, reused
}

// NewTable returns a table that compiles through c (nil: no cache).
func NewTable(c *Cache) *Table {
	t := &Table{compile: Compile}
	if c != nil {
		t.compile = c.Compile
	}
	return t
}

// Compile implements json_schema_compile (the caller checks the phase): an
// id, or abi.ResultInvalid / abi.ResultTooLarge with the reason in LastError.
func (t *Table) Compile(src []byte, draft int32) int32 {
	if len(t.list) >= abi.MaxSchemas {
		t.lastErr = fmt.Sprintf("an instance may compile at most %d schemas", abi.MaxSchemas)
		return abi.ResultTooLarge
	}
	sch, err := t.compile(src, draft)
	if err != nil {
		t.lastErr = err.Error()
		return abi.ResultInvalid
	}
	t.lastErr = ""
	t.list = append(t.list, sch)
	return int32(len(t.list) - 1)
}

// LastError implements json_schema_error.
func (t *Table) LastError() string { return t.lastErr }

// Validate implements json_validate: 0 and nil for a valid doc,
// abi.ResultNotFound for an unknown id, else the length of the reasons and
// the reasons (AppendErrors), valid until the next call.
func (t *Table) Validate(id int32, doc []byte) (int32, []byte) {
	if id < 0 || int(id) >= len(t.list) {
		return abi.ResultNotFound, nil
	}
	errs := Validate(t.list[id], doc)
	if errs == nil {
		return 0, nil
	}
	t.out = AppendErrors(t.out[:0], errs)
	return int32(len(t.out)), t.out
}
