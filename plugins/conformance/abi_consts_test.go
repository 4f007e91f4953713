package conformance_test

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/abi"
)

// sdkABIFiles are the files of package abi whose constants and host
// functions every SDK copies: the core ABI and crypto_digest.
var sdkABIFiles = []string{"abi.go", "digest.go"}

// abiTable reads sdkABIFiles: their integer constants by UPPER_SNAKE name
// and the import names of their Func* constants.
func abiTable(t *testing.T) (map[string]int64, []string) {
	t.Helper()
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range sdkABIFiles {
		f, err := parser.ParseFile(fset, filepath.Join("..", "..", "abi", name), nil, 0)
		require.NoError(t, err)
		files = append(files, f)
	}
	pkg, err := (&types.Config{Importer: importer.Default()}).Check("abi", fset, files, nil)
	require.NoError(t, err)
	ints := map[string]int64{}
	var funcs []string
	for _, name := range pkg.Scope().Names() {
		c, ok := pkg.Scope().Lookup(name).(*types.Const)
		if !ok || !c.Exported() {
			continue
		}
		switch v := c.Val(); {
		case strings.HasPrefix(name, "Func"):
			s, err := strconv.Unquote(v.ExactString())
			require.NoError(t, err)
			funcs = append(funcs, s)
		case v.Kind().String() == "Int":
			n, err := strconv.ParseInt(v.ExactString(), 10, 64)
			require.NoError(t, err)
			ints[snake(name)] = n
		}
	}
	sort.Strings(funcs)
	return ints, funcs
}

// snake turns a Go name into UPPER_SNAKE: FeatureHTTPCall -> FEATURE_HTTP_CALL.
func snake(s string) string {
	r := []rune(s)
	var b strings.Builder
	for i, c := range r {
		if i > 0 && unicode.IsUpper(c) && (unicode.IsLower(r[i-1]) || (i+1 < len(r) && unicode.IsLower(r[i+1]) && unicode.IsUpper(r[i-1]))) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToUpper(c))
	}
	return b.String()
}

func TestSnake(t *testing.T) {
	for in, exp := range map[string]string{
		"FeatureHTTPCall": "FEATURE_HTTP_CALL", "ResultOK": "RESULT_OK", "TLSFieldServerName": "TLS_FIELD_SERVER_NAME",
		"KVFlagCreate": "KV_FLAG_CREATE", "LogLevelDebug": "LOG_LEVEL_DEBUG",
		"FeatureCryptoDigest": "FEATURE_CRYPTO_DIGEST", "DigestSHA256": "DIGEST_SHA256", "DigestHMACSHA512": "DIGEST_HMACSHA512",
	} {
		assert.Equal(t, exp, snake(in), in)
	}
}

// TestSDKConstantsMatchABI parses each SDK's constant table and import list
// and compares them with sdkABIFiles both ways, so the copies cannot drift.
func TestSDKConstantsMatchABI(t *testing.T) {
	ints, funcs := abiTable(t)
	require.NotEmpty(t, ints)
	require.Contains(t, funcs, abi.FuncLog)
	require.Contains(t, funcs, abi.FuncCryptoDigest)
	require.Contains(t, ints, "DIGEST_HMACSHA256")

	sdks := []struct {
		name, file      string
		constRe, funcRe *regexp.Regexp
		prefix          string
	}{
		{
			name: "c", file: "../../sdk/c/gateway.h", prefix: "GW_",
			constRe: regexp.MustCompile(`(?m)^#define GW_([A-Z0-9_]+) \(?(-?\d+)\)?$`),
			funcRe:  regexp.MustCompile(`GW_IMPORT\("([a-z0-9_]+)"\)`),
		},
		{
			name: "rust", file: "../../sdk/rust/src/lib.rs",
			constRe: regexp.MustCompile(`(?m)^pub const ([A-Z0-9_]+): [iu]\d+ = (-?\d+);$`),
			funcRe:  regexp.MustCompile(`#\[link_name = "([a-z0-9_]+)"\]`),
		},
		{
			name: "assemblyscript", file: "../../sdk/assemblyscript/assembly/index.ts",
			constRe: regexp.MustCompile(`(?m)^export const ([A-Z0-9_]+): [iu]\d+ = (-?\d+);$`),
			funcRe:  regexp.MustCompile(`@external\("gateway_v1", "([a-z0-9_]+)"\)`),
		},
	}
	for _, sdk := range sdks {
		t.Run(sdk.name, func(t *testing.T) {
			src, err := os.ReadFile(filepath.FromSlash(sdk.file))
			require.NoError(t, err)
			assert.Contains(t, string(src), `"`+abi.HostModule+`"`, "host module name")
			assert.Contains(t, string(src), abi.ExportABIV1, "version marker export")

			got := map[string]int64{}
			for _, m := range sdk.constRe.FindAllStringSubmatch(string(src), -1) {
				n, err := strconv.ParseInt(m[2], 10, 64)
				require.NoError(t, err)
				got[m[1]] = n
			}
			delete(got, "ABI_VERSION")
			for name, v := range ints {
				if assert.Contains(t, got, name, "%s lacks constant %s%s from package abi", sdk.file, sdk.prefix, name) {
					assert.Equal(t, v, got[name], "%s: %s%s", sdk.file, sdk.prefix, name)
				}
			}
			for name := range got {
				assert.Contains(t, ints, name, "%s defines %s%s, which %v do not have", sdk.file, sdk.prefix, name, sdkABIFiles)
			}

			var imports []string
			for _, m := range sdk.funcRe.FindAllStringSubmatch(string(src), -1) {
				imports = append(imports, m[1])
			}
			sort.Strings(imports)
			assert.Equal(t, funcs, imports, "%s must import every host function of %v, and only those", sdk.file, sdkABIFiles)
		})
	}
}
