package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// mark is the type of the cty marks this package puts on values.
type mark string

// markSecret marks values produced by env() and file(): they are never printed.
const markSecret mark = "secret"

// evalContext returns the functions available in config expressions. Paths
// given to file() are resolved against dir, the config file's directory.
func evalContext(dir string) *hcl.EvalContext {
	return &hcl.EvalContext{
		Functions: map[string]function.Function{
			"env":        envFunc(),
			"file":       fileFunc(dir),
			"jsonencode": stdlib.JSONEncodeFunc,
			"jsondecode": stdlib.JSONDecodeFunc,
			"lower":      stdlib.LowerFunc,
			"upper":      stdlib.UpperFunc,
			"format":     stdlib.FormatFunc,
			"concat":     stdlib.ConcatFunc,
			"merge":      stdlib.MergeFunc,
		},
	}
}

// envFunc is env("NAME") or env("NAME", "default"): the value of an environment
// variable, marked secret.
func envFunc() function.Function {
	return function.New(&function.Spec{
		Description: "Returns the value of an environment variable, or the default when it is unset.",
		Params:      []function.Parameter{{Name: "name", Type: cty.String}},
		VarParam:    &function.Parameter{Name: "default", Type: cty.String},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if len(args) > 2 {
				return cty.NilVal, function.NewArgErrorf(2, "env takes a name and at most one default; remove the extra arguments")
			}
			name := args[0].AsString()
			if v, ok := os.LookupEnv(name); ok {
				return cty.StringVal(v).Mark(markSecret), nil
			}
			if len(args) == 2 {
				return args[1].Mark(markSecret), nil
			}
			return cty.NilVal, fmt.Errorf("environment variable %q is not set; set it, or give a default as the second argument: env(%q, \"default\")", name, name)
		},
	})
}

// fileFunc is file("path"): the contents of a file, relative to dir, marked secret.
func fileFunc(dir string) function.Function {
	return function.New(&function.Spec{
		Description: "Returns the contents of a file, relative to the config file's directory.",
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			p := resolvePath(dir, args[0].AsString())
			b, err := os.ReadFile(p)
			if err != nil {
				var pe *fs.PathError
				if errors.As(err, &pe) {
					err = pe.Err
				}
				return cty.NilVal, fmt.Errorf("read %s: %w; check that the file exists and is readable (relative paths start at the config file's directory)", p, err)
			}
			return cty.StringVal(string(b)).Mark(markSecret), nil
		},
	})
}

// resolvePath makes p absolute relative to dir, the config file's directory.
func resolvePath(dir, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}
