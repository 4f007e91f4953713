// Command gateway is the API gateway: an HCL-configured reverse proxy that runs
// sandboxed WebAssembly plugins.
//
//	gateway run      [--config gateway.hcl]   serve until SIGTERM/SIGINT; SIGHUP reloads
//	gateway validate [--config gateway.hcl]   check a config; exit 1 with diagnostics
//	gateway version                           print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/gateway"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: gateway <command> [flags]

commands:
  run       serve the config (default ./gateway.hcl); SIGHUP or a file change reloads it
  validate  check a config file and print every problem with file:line:column
  plugin    new, build, inspect or run a Wasm plugin ("gateway plugin help")
  version   print the version

run "gateway <command> -h" for the flags of a command.
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "run":
		return cmdRun(args[1:], stdout, stderr)
	case "validate":
		return cmdValidate(args[1:], stdout, stderr)
	case "plugin":
		return cmdPlugin(args[1:], stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "gateway", buildVersion())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "gateway: unknown command %q\n\n%s", args[0], usage)
	return 2
}

func configFlag(fs *flag.FlagSet) *string {
	return fs.String("config", "gateway.hcl", "path of the HCL config file")
}

func cmdValidate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := configFlag(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, diags := config.Load(*path)
	if !diags.HasErrors() {
		diags = append(diags, gateway.Validate(context.Background(), cfg)...)
	}
	if len(diags) > 0 {
		fmt.Fprint(stderr, config.FormatDiagnostics(diags))
	}
	if diags.HasErrors() {
		fmt.Fprintf(stderr, "%s: %d error(s)\n", *path, len(diags.Errs()))
		return 1
	}
	fmt.Fprintf(stdout, "%s: valid (%d routes, %d upstreams, %d plugins)\n", *path, len(cfg.Routes), len(cfg.Upstreams), len(cfg.Plugins))
	return 0
}

func cmdRun(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := configFlag(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, diags := config.Load(*path)
	if diags.HasErrors() {
		fmt.Fprint(stderr, config.FormatDiagnostics(diags))
		fmt.Fprintf(stderr, "%s: %d error(s); fix them and run again (gateway validate --config %s checks without serving)\n",
			*path, len(diags.Errs()), *path)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	g, err := gateway.New(ctx, cfg, gateway.Options{ConfigPath: *path, Version: buildVersion()})
	if err != nil {
		fmt.Fprintf(stderr, "gateway: %v\n", err)
		return 1
	}
	if err := g.Start(ctx); err != nil {
		fmt.Fprintf(stderr, "gateway: %v\n", err)
		_ = g.Shutdown(context.Background())
		return 1
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		for range hup {
			_ = g.Reload(ctx) // Reload logs its outcome.
		}
	}()
	err = g.Wait(ctx)
	signal.Stop(hup)
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "gateway: %v\n", err)
		return 1
	}
	return 0
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "dev-" + s.Value[:12]
			}
		}
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
	}
	return "dev"
}
