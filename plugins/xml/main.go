// Command xml is a gateway plugin that converts request and/or response
// bodies between JSON and XML and updates Content-Type.
//
//	plugin "soap_bridge" {
//	  source = "xml.wasm"
//	  config = {
//	    request  = "json-to-xml"   # client JSON, upstream XML
//	    response = "xml-to-json"   # upstream XML, client JSON
//	  }
//	}
//
// The mapping (attributes, arrays, text, namespaces) is in README.md.
package main

import (
	"errors"
	"mime"

	"github.com/wasmgate/gateway/abi"
	"github.com/wasmgate/gateway/sdk/go/plugin"
)

// Conversion directions.
const (
	JSONToXML = "json-to-xml"
	XMLToJSON = "xml-to-json"
)

// Config is the plugin's config block.
type Config struct {
	// Request converts the request body: "json-to-xml", "xml-to-json" or "".
	Request string `json:"request"`
	// Response converts the response body likewise.
	Response string `json:"response"`
	// Root names the root element when the JSON is not a one-key object
	// (default "root").
	Root string `json:"root"`
	// AttributePrefix marks JSON keys that are XML attributes (default "@").
	AttributePrefix string `json:"attribute_prefix"`
	// TextKey is the JSON key of an element's text next to attributes or
	// children (default "#text").
	TextKey string `json:"text_key"`
}

// conf is set once per instance by OnConfigure; an instance is single-threaded.
var (
	conf Config
	opts options
)

func configure(raw []byte) error {
	var c Config
	if err := plugin.DecodeConfig(raw, &c); err != nil {
		return err
	}
	for _, d := range []string{c.Request, c.Response} {
		if d != "" && d != JSONToXML && d != XMLToJSON {
			return errors.New(`direction "` + d + `" is not supported; use "json-to-xml" or "xml-to-json"`)
		}
	}
	if c.Request == "" && c.Response == "" {
		return errors.New(`nothing to convert; set request or response to "json-to-xml" or "xml-to-json"`)
	}
	o := options{attrPrefix: c.AttributePrefix, textKey: c.TextKey, root: c.Root}
	if o.attrPrefix == "" {
		o.attrPrefix = "@"
	}
	if o.textKey == "" {
		o.textKey = "#text"
	}
	if o.root == "" {
		o.root = "root"
	}
	if !validName(o.root) {
		return errors.New("root " + o.root + " is not a valid XML element name")
	}
	conf, opts = c, o
	// Convert one direction only: the other body streams.
	var phases uint32
	if c.Request != "" {
		phases |= abi.PhaseRequestBody
	}
	if c.Response != "" {
		phases |= abi.PhaseResponseBody
	}
	plugin.UsePhases(phases)
	return nil
}

// convert runs dir on b and returns the new body and content type.
func convert(dir string, b []byte) ([]byte, string, error) {
	if dir == JSONToXML {
		out, err := jsonToXML(b, opts)
		return out, "application/xml; charset=utf-8", err
	}
	out, err := xmlToJSON(b, opts)
	return out, "application/json", err
}

// wrongType reports a body whose Content-Type says it is not the input format.
func wrongType(dir, ct string) bool {
	if ct == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return true
	}
	if dir == JSONToXML {
		return mt != "application/json" && !hasSuffix(mt, "+json")
	}
	return mt != "application/xml" && mt != "text/xml" && !hasSuffix(mt, "+xml")
}

func hasSuffix(s, suf string) bool { return len(s) >= len(suf) && s[len(s)-len(suf):] == suf }

func onRequestBody(req plugin.Request) plugin.Action {
	if conf.Request == "" {
		return plugin.Continue
	}
	b, err := req.BodyView()
	if err != nil {
		plugin.LogError("xml: read request body: " + err.Error())
		return plugin.RespondJSON(500, "Internal server error")
	}
	if len(b) == 0 {
		return plugin.Continue
	}
	h := req.Header()
	if wrongType(conf.Request, h.Get("Content-Type")) {
		return plugin.RespondJSON(415, "Unsupported Media Type")
	}
	out, ct, err := convert(conf.Request, b)
	if err != nil {
		what := "JSON"
		if conf.Request == XMLToJSON {
			what = "XML"
		}
		return plugin.RespondJSON(400, "Malformed "+what+" in request body: "+err.Error())
	}
	if err := req.SetBody(out); err != nil {
		plugin.LogError("xml: set request body: " + err.Error())
		return plugin.RespondJSON(500, "Internal server error")
	}
	h.Set("Content-Type", ct)
	return plugin.Continue
}

func onResponseBody(_ plugin.Request, resp plugin.Response) plugin.Action {
	if conf.Response == "" {
		return plugin.Continue
	}
	h := resp.Header()
	if wrongType(conf.Response, h.Get("Content-Type")) {
		return plugin.Continue // e.g. a JSON error from the gateway itself
	}
	b, err := resp.BodyView()
	if err != nil || len(b) == 0 {
		return plugin.Continue
	}
	out, ct, err := convert(conf.Response, b)
	if err != nil {
		plugin.LogWarn("xml: response body left unconverted: " + err.Error())
		return plugin.Continue
	}
	if err := resp.SetBody(out); err != nil {
		plugin.LogError("xml: set response body: " + err.Error())
		return plugin.Continue
	}
	h.Set("Content-Type", ct)
	return plugin.Continue
}

func init() {
	plugin.Handle(plugin.Handler{
		OnConfigure:    configure,
		OnRequestBody:  onRequestBody,
		OnResponseBody: onResponseBody,
	})
}

func main() {}
