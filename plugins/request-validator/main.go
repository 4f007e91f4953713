// Command request-validator is a gateway plugin that validates requests before
// they reach the upstream, like AWS API Gateway request validators and models:
// the JSON body against a JSON Schema (drafts 4, 7 and 2020-12), required query
// parameters and headers, the content type, and route parameter patterns.
//
//	plugin "validate_order" {
//	  source = "request-validator.wasm"
//	  config = {
//	    schema           = file("schemas/order.json")
//	    required_query   = ["tenant"]
//	    required_headers = ["X-Api-Version"]
//	    content_types    = ["application/json"]
//	    path_params      = { id = "^[0-9]+$" }
//	    report_errors    = true
//	  }
//	}
//
// See README.md for the responses it sends.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/wasmgate/gateway/sdk/go/plugin"
)

// Config is the plugin's config block.
type Config struct {
	// Schema is the JSON Schema of the body: an object, or a string holding
	// the schema's JSON text (what file("x.json") yields).
	Schema json.RawMessage `json:"schema"`
	// Draft is the default draft for schemas without $schema: "4", "7" or
	// "2020-12" (the default).
	Draft string `json:"draft"`
	// RequiredQuery lists query parameters that must be present.
	RequiredQuery []string `json:"required_query"`
	// RequiredHeaders lists headers that must be present.
	RequiredHeaders []string `json:"required_headers"`
	// ContentTypes is the allowlist of media types (parameters ignored);
	// empty allows any.
	ContentTypes []string `json:"content_types"`
	// PathParams maps a route parameter to a regular expression it must match
	// (unanchored unless the pattern anchors it, like JSON Schema "pattern").
	PathParams map[string]string `json:"path_params"`
	// ReportErrors adds an "errors" list of {"pointer","reason"} to 400s.
	ReportErrors bool `json:"report_errors"`
	// MaxErrors caps the errors list (default 10).
	MaxErrors int `json:"max_errors"`
	// AllowEmptyBody lets an empty body through without schema validation.
	AllowEmptyBody bool `json:"allow_empty_body"`
}

// validator is the compiled config.
type validator struct {
	cfg    Config
	schema *jsonschema.Schema
	params []paramRule
	types  map[string]bool
}

type paramRule struct {
	name string
	re   *regexp.Regexp
}

// v is set once per instance by OnConfigure; an instance is single-threaded.
var v *validator

func drafts(name string) (*jsonschema.Draft, error) {
	switch name {
	case "", "2020-12", "2020":
		return jsonschema.Draft2020, nil
	case "7", "draft-07", "draft7":
		return jsonschema.Draft7, nil
	case "4", "draft-04", "draft4":
		return jsonschema.Draft4, nil
	}
	return nil, fmt.Errorf("draft %q is not supported; use \"4\", \"7\" or \"2020-12\"", name)
}

// newValidator compiles cfg.
func newValidator(raw []byte) (*validator, error) {
	var cfg Config
	if err := plugin.DecodeConfig(raw, &cfg); err != nil {
		return nil, err
	}
	if cfg.MaxErrors <= 0 {
		cfg.MaxErrors = 10
	}
	out := &validator{cfg: cfg}
	d, err := drafts(cfg.Draft)
	if err != nil {
		return nil, err
	}
	if s := bytes.TrimSpace(cfg.Schema); len(s) > 0 && !bytes.Equal(s, []byte("null")) {
		if s[0] == '"' {
			var text string
			if err := json.Unmarshal(s, &text); err != nil {
				return nil, fmt.Errorf("schema: %w", err)
			}
			s = []byte(text)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(s))
		if err != nil {
			return nil, fmt.Errorf("schema is not valid JSON: %w; check the schema file or inline object", err)
		}
		c := jsonschema.NewCompiler()
		c.DefaultDraft(d)
		if err := c.AddResource("schema.json", doc); err != nil {
			return nil, fmt.Errorf("schema: %w", err)
		}
		sch, err := c.Compile("schema.json")
		if err != nil {
			return nil, fmt.Errorf("compile schema: %w; fix the schema", err)
		}
		out.schema = sch
	}
	names := make([]string, 0, len(cfg.PathParams))
	for k := range cfg.PathParams {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, n := range names {
		re, err := regexp.Compile(cfg.PathParams[n])
		if err != nil {
			return nil, fmt.Errorf("path_params.%s: %w", n, err)
		}
		out.params = append(out.params, paramRule{n, re})
	}
	if len(cfg.ContentTypes) > 0 {
		out.types = map[string]bool{}
		for _, ct := range cfg.ContentTypes {
			mt, _, err := mime.ParseMediaType(ct)
			if err != nil {
				return nil, fmt.Errorf("content_types: %q: %w", ct, err)
			}
			out.types[mt] = true
		}
	}
	if out.schema == nil && len(cfg.RequiredQuery) == 0 && len(cfg.RequiredHeaders) == 0 && out.types == nil && len(out.params) == 0 {
		return nil, errors.New("nothing to validate; set schema, required_query, required_headers, content_types or path_params")
	}
	return out, nil
}

// fieldError is one entry of the optional errors list.
type fieldError struct {
	Pointer string `json:"pointer"`
	Reason  string `json:"reason"`
}

// reject answers 400 with AWS's message and, if configured, the errors.
func reject(msg string, errs []fieldError) plugin.Action {
	body := map[string]any{"message": msg}
	if v.cfg.ReportErrors && len(errs) > 0 {
		if len(errs) > v.cfg.MaxErrors {
			errs = errs[:v.cfg.MaxErrors]
		}
		body["errors"] = errs
	}
	b, _ := json.Marshal(body)
	plugin.Response{}.Header().Set("Content-Type", "application/json")
	return plugin.Respond(400, b)
}

// checkHeaders validates everything but the body.
func checkHeaders(req plugin.Request) plugin.Action {
	var missing []string
	if len(v.cfg.RequiredQuery) > 0 {
		q, _ := url.ParseQuery(req.Query())
		for _, n := range v.cfg.RequiredQuery {
			if _, ok := q[n]; !ok {
				missing = append(missing, n)
			}
		}
	}
	h := req.Header()
	for _, n := range v.cfg.RequiredHeaders {
		if _, ok := h.Lookup(n); !ok {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		errs := make([]fieldError, len(missing))
		for i, m := range missing {
			errs[i] = fieldError{Pointer: m, Reason: "required"}
		}
		return reject("Missing required request parameters: ["+strings.Join(missing, ", ")+"]", errs)
	}
	var bad []fieldError
	for _, p := range v.params {
		val, _ := req.Param(p.name)
		if !p.re.MatchString(val) {
			bad = append(bad, fieldError{Pointer: p.name, Reason: "does not match " + strconv.Quote(p.re.String())})
		}
	}
	if len(bad) > 0 {
		return reject("Invalid request parameters", bad)
	}
	if v.types != nil {
		ct := h.Get("Content-Type")
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !v.types[mt] {
			h := plugin.Response{}.Header()
			h.Set("Content-Type", "application/json")
			return plugin.Respond(415, []byte(`{"message":"Unsupported Media Type"}`))
		}
	}
	return plugin.Continue
}

// checkBody validates the body against the schema.
func checkBody(req plugin.Request) plugin.Action {
	if v.schema == nil {
		return plugin.Continue
	}
	body, err := req.Body()
	if err != nil {
		plugin.LogError("read request body: " + err.Error())
		return plugin.RespondJSON(500, "Internal server error")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if v.cfg.AllowEmptyBody {
			return plugin.Continue
		}
		return reject("Invalid request body", []fieldError{{Pointer: "", Reason: "body is empty; a JSON document is required"}})
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return reject("Invalid request body", []fieldError{{Pointer: "", Reason: "malformed JSON: " + err.Error()}})
	}
	err = v.schema.Validate(doc)
	if err == nil {
		return plugin.Continue
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return reject("Invalid request body", []fieldError{{Pointer: "", Reason: err.Error()}})
	}
	return reject("Invalid request body", leaves(ve))
}

// leaves flattens a validation error to its leaf causes.
func leaves(ve *jsonschema.ValidationError) []fieldError {
	out := ve.BasicOutput()
	var errs []fieldError
	for _, u := range out.Errors {
		if u.Error == nil {
			continue
		}
		errs = append(errs, fieldError{Pointer: u.InstanceLocation, Reason: u.Error.String()})
	}
	if len(errs) == 0 && out.Error != nil {
		errs = append(errs, fieldError{Pointer: out.InstanceLocation, Reason: out.Error.String()})
	}
	return errs
}

func init() {
	plugin.Handle(plugin.Handler{
		OnConfigure: func(raw []byte) error {
			nv, err := newValidator(raw)
			if err != nil {
				return err
			}
			v = nv
			return nil
		},
		OnRequestHeaders: checkHeaders,
		OnRequestBody:    checkBody,
	})
}

func main() {}
