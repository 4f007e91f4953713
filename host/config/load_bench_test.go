package config

import (
	"os"
	"testing"
)

func BenchmarkLoadBytes(b *testing.B) {
	src, err := os.ReadFile("testdata/valid_full.hcl")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, diags := LoadBytes("testdata/valid_full.hcl", src); diags.HasErrors() {
			b.Fatal(FormatDiagnostics(diags))
		}
	}
}

func BenchmarkRedactedJSON(b *testing.B) {
	g, diags := Load("testdata/valid_full.hcl")
	if diags.HasErrors() {
		b.Fatal(FormatDiagnostics(diags))
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.RedactedJSON(); err != nil {
			b.Fatal(err)
		}
	}
}
