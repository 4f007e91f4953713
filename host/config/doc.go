// Package config reads the gateway's HCL configuration and turns it into an
// immutable, fully validated Gateway value.
//
// It is the only package that imports hcl/v2 and go-cty. Every problem it finds
// is an hcl.Diagnostic with a Subject range (file:line:col) and a Detail sentence
// that says what to do; Load collects all of them instead of stopping at the first,
// but it never evaluates a file whose syntax failed. Other packages report their
// own config problems with NewDiagnostic at a block's Range and print everything
// with FormatDiagnostics.
//
// Values produced by the env() and file() functions are secrets: they are
// tracked through evaluation with cty marks, never printed in diagnostics, and
// replaced by "(redacted)" in Gateway.RedactedJSON.
//
// The schema is documented in docs/configuration.md.
package config
