package config

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// NewDiagnostic returns an error diagnostic at rng. Packages that build on a
// loaded Gateway (the Wasm host rejecting a plugin, the upstream pool rejecting a
// target) use it to report a problem at the block's Range, so that it prints like
// Load's own diagnostics. summary is a short title ("Invalid plugin"); detail is a
// full sentence that says what failed and what to do.
func NewDiagnostic(rng hcl.Range, summary, detail string) *hcl.Diagnostic {
	d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail}
	if rng.Filename != "" || rng.Start.Line > 0 {
		r := rng
		d.Subject = &r
	}
	return d
}

// FormatDiagnostic renders d on one line: "file:line:col: summary; detail".
// Warnings are prefixed with "warning: ". A diagnostic without a position
// starts with its file name only, or with nothing when it has none.
func FormatDiagnostic(d *hcl.Diagnostic) string {
	var b strings.Builder
	if s := d.Subject; s != nil {
		switch {
		case s.Start.Line > 0:
			fmt.Fprintf(&b, "%s:%d:%d: ", s.Filename, s.Start.Line, s.Start.Column)
		case s.Filename != "":
			fmt.Fprintf(&b, "%s: ", s.Filename)
		}
	}
	if d.Severity == hcl.DiagWarning {
		b.WriteString("warning: ")
	}
	b.WriteString(d.Summary)
	if d.Detail != "" {
		b.WriteString("; ")
		b.WriteString(strings.Join(strings.Fields(d.Detail), " "))
	}
	return b.String()
}

// FormatDiagnostics renders each diagnostic with FormatDiagnostic, followed by
// the source line it points at and a caret underline, read from the file named
// in its Subject (a file that cannot be read is shown without a snippet). The
// output has no color, so it suits logs, the admin API and terminals alike:
//
//	gateway.hcl:14:16: Unknown upstream; route "GET /x" refers to upstream "billing", ...
//	   14 |   upstream = upstream.billing
//	      |              ^^^^^^^^^^^^^^^^
func FormatDiagnostics(diags hcl.Diagnostics) string {
	var b strings.Builder
	sources := map[string][]string{}
	for _, d := range diags {
		b.WriteString(FormatDiagnostic(d))
		b.WriteByte('\n')
		writeSnippet(&b, d.Subject, sources)
	}
	return b.String()
}

// writeSnippet writes the first line of rng with carets under the range.
func writeSnippet(b *strings.Builder, rng *hcl.Range, sources map[string][]string) {
	if rng == nil || rng.Filename == "" || rng.Start.Line < 1 {
		return
	}
	lines, ok := sources[rng.Filename]
	if !ok {
		src, err := os.ReadFile(rng.Filename)
		if err == nil {
			lines = strings.Split(string(src), "\n")
		}
		sources[rng.Filename] = lines
	}
	if rng.Start.Line > len(lines) {
		return
	}
	line := strings.TrimRight(lines[rng.Start.Line-1], "\r")
	line = strings.ReplaceAll(line, "\t", " ")
	start := min(max(rng.Start.Column-1, 0), len([]rune(line)))
	end := len([]rune(line))
	if rng.End.Line == rng.Start.Line {
		end = min(max(rng.End.Column-1, start+1), end)
	}
	width := max(end-start, 1)
	num := fmt.Sprintf("%d", rng.Start.Line)
	fmt.Fprintf(b, "  %4s | %s\n", num, line)
	fmt.Fprintf(b, "  %4s | %s%s\n", "", strings.Repeat(" ", start), strings.Repeat("^", width))
}

// WriteDiagnostics prints diags with hcl's diagnostic text writer: a summary, the
// source snippet and the detail paragraph, wrapped to 78 columns. Sources are
// read from the files named in the diagnostics. Output is colored only when w is
// a terminal.
func WriteDiagnostics(w io.Writer, diags hcl.Diagnostics) error {
	p := hclparse.NewParser()
	files := map[string]*hcl.File{}
	for _, d := range diags {
		if d.Subject == nil || d.Subject.Filename == "" {
			continue
		}
		name := d.Subject.Filename
		if _, done := files[name]; done {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			files[name] = nil
			continue
		}
		// Only the bytes are needed for snippets; syntax errors do not matter here.
		f, _ := p.ParseHCL(src, name)
		if f == nil {
			f = &hcl.File{Bytes: src}
		}
		files[name] = f
	}
	for name, f := range files {
		if f == nil {
			delete(files, name)
		}
	}
	return hcl.NewDiagnosticTextWriter(w, files, 78, isTerminal(w)).WriteDiagnostics(diags)
}

// isTerminal reports whether w is a character device such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
