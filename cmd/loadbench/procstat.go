package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// procStatusKB returns a "kB" field of /proc/PID/status, such as VmRSS (resident
// memory now) or VmHWM (peak resident memory), in bytes.
func procStatusKB(pid int, field string) (int64, error) {
	path := "/proc/" + strconv.Itoa(pid) + "/status"
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read %s of process %d: %w (Linux only)", field, pid, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	prefix := []byte(field + ":")
	for sc.Scan() {
		l := sc.Bytes()
		if !bytes.HasPrefix(l, prefix) {
			continue
		}
		f := bytes.Fields(l[len(prefix):])
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, fmt.Errorf("%s: unexpected %s line %q", path, field, l)
		}
		n, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: parse %s: %w", path, field, err)
		}
		return n << 10, nil
	}
	return 0, fmt.Errorf("%s has no %s line", path, field)
}

// formatBytes prints a byte count with a binary unit.
func formatBytes(n int64) string {
	switch {
	case n < 0:
		return "-" + formatBytes(-n)
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
