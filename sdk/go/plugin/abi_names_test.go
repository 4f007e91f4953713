package plugin

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/abi"
)

// abiStrings returns the string constants of package abi whose names start
// with prefix.
func abiStrings(t *testing.T, prefix string) map[string]bool {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../../../abi/abi.go", nil, 0)
	require.NoError(t, err)
	out := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		for i, name := range vs.Names {
			if strings.HasPrefix(name.Name, prefix) && i < len(vs.Values) {
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, _ := strconv.Unquote(lit.Value)
					out[s] = true
				}
			}
		}
		return true
	})
	return out
}

// TestImportNames checks that the //go:wasmimport and //go:wasmexport
// literals (directives cannot use constants) match package abi, both ways.
func TestImportNames(t *testing.T) {
	src, err := os.ReadFile("imports_wasip1.go")
	require.NoError(t, err)
	funcs := abiStrings(t, "Func")
	seen := map[string]bool{}
	for _, m := range regexp.MustCompile(`//go:wasmimport (\S+) (\S+)`).FindAllStringSubmatch(string(src), -1) {
		assert.Equal(t, abi.HostModule, m[1])
		assert.True(t, funcs[m[2]], "import %q is not an abi.Func… constant", m[2])
		seen[m[2]] = true
	}
	for f := range funcs {
		assert.True(t, seen[f], "abi function %q has no //go:wasmimport in the SDK", f)
	}

	src, err = os.ReadFile("exports_wasip1.go")
	require.NoError(t, err)
	exports := abiStrings(t, "Export")
	for _, m := range regexp.MustCompile(`//go:wasmexport (\S+)`).FindAllStringSubmatch(string(src), -1) {
		assert.True(t, exports[m[1]], "export %q is not an abi.Export… constant", m[1])
	}
}

// importNames returns the //go:wasmimport names of file, checking that each
// comes from the host module.
func importNames(t *testing.T, file string) []string {
	t.Helper()
	src, err := os.ReadFile(file)
	require.NoError(t, err)
	var got []string
	for _, m := range regexp.MustCompile(`//go:wasmimport (\S+) (\S+)`).FindAllStringSubmatch(string(src), -1) {
		assert.Equal(t, abi.HostModule, m[1])
		got = append(got, m[2])
	}
	return got
}

// TestSchemaImportNames checks schema_wasip1.go's import literals against
// abi/schema.go and abi/jsonselect.go, and digest_wasip1.go's against
// abi/digest.go.
func TestSchemaImportNames(t *testing.T) {
	assert.Equal(t, []string{abi.FuncJSONSchemaCompile, abi.FuncJSONSchemaError, abi.FuncJSONValidate, abi.FuncJSONSelect}, importNames(t, "schema_wasip1.go"))
	assert.Equal(t, []string{abi.FuncCryptoDigest}, importNames(t, "digest_wasip1.go"))
}
