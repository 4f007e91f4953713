package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// options name the JSON keys of XML attributes and text.
type options struct {
	attrPrefix string // "@"
	textKey    string // "#text"
	root       string // wrapper element for JSON that is not a one-key object
}

// xmlNode is an element being decoded.
type xmlNode struct {
	name     string
	attrs    []xml.Attr
	children []*xmlNode
	text     strings.Builder
}

// xmlToJSON converts an XML document to JSON: {"root": value}.
func xmlToJSON(b []byte, o options) ([]byte, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	var stack []*xmlNode
	var root *xmlNode
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if root != nil && len(stack) == 0 {
				return nil, errors.New("more than one root element")
			}
			n := &xmlNode{name: t.Name.Local}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue // namespace declarations are dropped
				}
				n.attrs = append(n.attrs, a)
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, errors.New("text outside the root element")
			}
		}
	}
	if root == nil {
		return nil, errors.New("no root element")
	}
	return json.Marshal(map[string]any{root.name: nodeValue(root, o)})
}

// nodeValue is the JSON value of an element: a string for text-only
// elements, null for empty ones, else an object.
func nodeValue(n *xmlNode, o options) any {
	text := strings.TrimSpace(n.text.String())
	if len(n.attrs) == 0 && len(n.children) == 0 {
		if text == "" {
			return nil
		}
		return text
	}
	m := map[string]any{}
	for _, a := range n.attrs {
		m[o.attrPrefix+a.Name.Local] = a.Value
	}
	count := map[string]int{}
	for _, c := range n.children {
		count[c.name]++
	}
	for _, c := range n.children {
		v := nodeValue(c, o)
		if count[c.name] > 1 {
			arr, _ := m[c.name].([]any)
			m[c.name] = append(arr, v)
			continue
		}
		m[c.name] = v
	}
	if text != "" {
		m[o.textKey] = text
	}
	return m
}

// jsonToXML converts a JSON document to XML. A one-key object names the root
// element; anything else is wrapped in o.root.
func jsonToXML(b []byte, o options) ([]byte, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(b[d.InputOffset():])) > 0 {
		return nil, errors.New("unexpected data after the JSON value")
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	name, val := o.root, v
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		for k, x := range m {
			if _, isArr := x.([]any); !isArr && !strings.HasPrefix(k, o.attrPrefix) && k != o.textKey {
				name, val = k, x
			}
		}
	}
	if err := writeElement(&buf, name, val, o); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// validName reports whether s is usable as an XML element or attribute name.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		letter := r == '_' || r == ':' || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || r >= 0xC0
		if !letter && (i == 0 || !(r == '-' || r == '.' || (r >= '0' && r <= '9'))) {
			return false
		}
	}
	return true
}

func writeElement(buf *bytes.Buffer, name string, v any, o options) error {
	if !validName(name) {
		return fmt.Errorf("key %q is not a valid XML element name", name)
	}
	if arr, ok := v.([]any); ok {
		for _, it := range arr {
			if err := writeElement(buf, name, it, o); err != nil {
				return err
			}
		}
		return nil
	}
	buf.WriteByte('<')
	buf.WriteString(name)
	m, isObj := v.(map[string]any)
	var keys []string
	if isObj {
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !strings.HasPrefix(k, o.attrPrefix) || k == o.textKey {
				continue
			}
			an := k[len(o.attrPrefix):]
			if !validName(an) {
				return fmt.Errorf("key %q is not a valid XML attribute name", k)
			}
			buf.WriteByte(' ')
			buf.WriteString(an)
			buf.WriteString(`="`)
			if err := xml.EscapeText(buf, []byte(scalar(m[k]))); err != nil {
				return err
			}
			buf.WriteByte('"')
		}
	}
	if v == nil {
		buf.WriteString("/>")
		return nil
	}
	buf.WriteByte('>')
	if isObj {
		if t, ok := m[o.textKey]; ok {
			if err := xml.EscapeText(buf, []byte(scalar(t))); err != nil {
				return err
			}
		}
		for _, k := range keys {
			if strings.HasPrefix(k, o.attrPrefix) || k == o.textKey {
				continue
			}
			if err := writeElement(buf, k, m[k], o); err != nil {
				return err
			}
		}
	} else if err := xml.EscapeText(buf, []byte(scalar(v))); err != nil {
		return err
	}
	buf.WriteString("</")
	buf.WriteString(name)
	buf.WriteByte('>')
	return nil
}

// scalar renders a JSON scalar as text.
func scalar(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case json.Number:
		return string(t)
	case bool:
		if t {
			return "true"
		}
		return "false"
	}
	b, _ := json.Marshal(v)
	return string(b)
}
