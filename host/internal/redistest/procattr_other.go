//go:build !linux

package redistest

import "os/exec"

// setProcAttr is a no-op where Pdeathsig does not exist; t.Cleanup still
// stops the server.
func setProcAttr(*exec.Cmd) {}
