// Command request-validator is a gateway plugin that validates requests before
// they reach the upstream, like AWS API Gateway request validators and models:
// the JSON body against a JSON Schema (drafts 4, 6, 7, 2019-09 and 2020-12), required query
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

	"github.com/wasmgate/gateway/abi"
	"github.com/wasmgate/gateway/host/schema"
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
	// SchemaEngine is where the schema runs: "host" (the gateway validates
	// natively, about 7x faster), "guest" (this module's own validator), or
	// "auto" (the default: host when the gateway offers it).
	SchemaEngine string `json:"schema_engine"`
}

// validator is the compiled config.
type validator struct {
	cfg    Config
	schema *schema.Schema // schema_engine "guest"
	host   *plugin.Schema // schema_engine "host"
	params []paramRule
	types  map[string]bool
}

type paramRule struct {
	name string
	re   *regexp.Regexp
}

// v is set once per instance by OnConfigure; an instance is single-threaded.
var v *validator

// schemaText returns the schema's JSON text, or nil when there is none.
func schemaText(raw json.RawMessage) ([]byte, error) {
	s := bytes.TrimSpace(raw)
	if len(s) == 0 || bytes.Equal(s, []byte("null")) {
		return nil, nil
	}
	if s[0] == '"' {
		var text string
		if err := json.Unmarshal(s, &text); err != nil {
			return nil, fmt.Errorf("schema: %w", err)
		}
		s = []byte(text)
	}
	return s, nil
}

// hostEngine reports whether schema_engine puts the schema on the host.
func hostEngine(engine string) (bool, error) {
	switch engine {
	case "", "auto":
		return plugin.HostSchema(), nil
	case "host":
		if !plugin.HostSchema() {
			return false, errors.New(`schema_engine = "host" but this gateway does not validate schemas natively; use "auto" or "guest"`)
		}
		return true, nil
	case "guest":
		return false, nil
	}
	return false, fmt.Errorf("schema_engine %q is not one of \"auto\", \"host\", \"guest\"", engine)
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
	d, err := plugin.SchemaDraft(cfg.Draft)
	if err != nil {
		return nil, err
	}
	src, err := schemaText(cfg.Schema)
	if err != nil {
		return nil, err
	}
	if src != nil {
		useHost, err := hostEngine(cfg.SchemaEngine)
		if err != nil {
			return nil, err
		}
		if useHost {
			sch, err := plugin.CompileSchema(src, cfg.Draft)
			if err != nil {
				return nil, err
			}
			out.host = &sch
		} else if out.schema, err = schema.Compile(src, d); err != nil {
			return nil, err
		}
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
	if out.schema == nil && out.host == nil && len(cfg.RequiredQuery) == 0 && len(cfg.RequiredHeaders) == 0 && out.types == nil && len(out.params) == 0 {
		return nil, errors.New("nothing to validate; set schema, required_query, required_headers, content_types or path_params")
	}
	return out, nil
}

// phases are the phases the config needs: without a schema the gateway need
// not buffer the body for this plugin.
func (v *validator) phases() uint32 {
	var m uint32
	if len(v.cfg.RequiredQuery) > 0 || len(v.cfg.RequiredHeaders) > 0 || len(v.params) > 0 || v.types != nil {
		m |= abi.PhaseRequestHeaders
	}
	if v.schema != nil || v.host != nil {
		m |= abi.PhaseRequestBody
	}
	return m
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
		if !v.allowsType(h.Get("Content-Type")) {
			h := plugin.Response{}.Header()
			h.Set("Content-Type", "application/json")
			return plugin.Respond(415, []byte(`{"message":"Unsupported Media Type"}`))
		}
	}
	return plugin.Continue
}

// allowsType reports whether the media type of ct is in the allowlist. A
// value without parameters is only trimmed and lowercased, as
// mime.ParseMediaType would; that is the common case, and it saves the
// guest the map ParseMediaType allocates. The allowlist holds valid media
// types only, so an invalid value is refused either way.
func (v *validator) allowsType(ct string) bool {
	if !strings.Contains(ct, ";") {
		return v.types[strings.ToLower(strings.TrimSpace(ct))]
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && v.types[mt]
}

// checkBody validates the body against the schema.
func checkBody(req plugin.Request) plugin.Action {
	if v.schema == nil && v.host == nil {
		return plugin.Continue
	}
	body, err := req.BodyView()
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
	var errs []fieldError
	if v.host != nil {
		herrs, err := v.host.Validate(body)
		if err != nil {
			plugin.LogError("json_validate: " + err.Error())
			return plugin.RespondJSON(500, "Internal server error")
		}
		for _, e := range herrs {
			errs = append(errs, fieldError(e))
		}
	} else {
		for _, e := range schema.Validate(v.schema, body) {
			errs = append(errs, fieldError(e))
		}
	}
	if errs == nil {
		return plugin.Continue
	}
	return reject("Invalid request body", errs)
}

func init() {
	plugin.Handle(plugin.Handler{
		OnConfigure: func(raw []byte) error {
			nv, err := newValidator(raw)
			if err != nil {
				return err
			}
			v = nv
			plugin.UsePhases(nv.phases())
			return nil
		},
		OnRequestHeaders: checkHeaders,
		OnRequestBody:    checkBody,
	})
}

func main() {}
