package main

import (
	"fmt"
	"strings"
	"testing"
)

// body2K is the 2 KiB order of request-validator's wasm benchmarks.
func body2K() []byte {
	var tags []string
	for i := 0; len(strings.Join(tags, ",")) < 1900; i++ {
		tags = append(tags, fmt.Sprintf("%q", fmt.Sprintf("tag-%04d", i)))
	}
	return []byte(`{"item":"book","quantity":3,"note":"gift","tags":[` + strings.Join(tags, ",") + `]}`)
}

// bodyTemplates are the benchmarks' templates for body2K.
var bodyTemplates = []struct{ name, tmpl string }{
	{"no-body-read", `{"order":"$path.id | int","rid":"$context.requestId"}`},
	{"few-fields", `{"sku":"$.body.item","qty":"$.body.quantity | string","order":"$path.id | int","rid":"$context.requestId"}`},
	{"last-array-item", `{"t":"$.body.tags[189]"}`},
	{"whole-body", `{"data":"$.body"}`},
	{"interpolated", `{"s":"${$.body.item} x${$.body.quantity} (${$.body.note | upper})"}`},
}

// BenchmarkBodyTemplate2K is the native cost of what onRequestBody does with
// the body template of BenchmarkTransform2K (request-validator/wasm_bench_test.go):
// read the body, evaluate the template, write the new body.
func BenchmarkBodyTemplate2K(b *testing.B) {
	for _, bc := range bodyTemplates {
		b.Run(bc.name, func(b *testing.B) {
			s, err := compileSide(&Side{Body: []byte(bc.tmpl)}, "request")
			if err != nil {
				b.Fatal(err)
			}
			body := body2K()
			get := func(string) (string, bool) { return "7", true }
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				sc := &scope{path: get, query: get, header: get, context: get}
				if s.bodyReads {
					if err := bodyScope(sc, body, s.bodyKeys); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := s.body.render(sc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
