package config

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// errNegative reports a duration or size below zero.
var errNegative = errors.New("negative")

// parseDuration reads a Go duration such as "250ms", "30s" or "1h30m". It rejects
// negative values and bare numbers other than "0".
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, err
	}
	if d < 0 {
		return 0, errNegative
	}
	return d, nil
}

// sizeUnit returns the multiplier of a size suffix. KB, MB, GB and TB are
// decimal (10^3...), KiB, MiB, GiB and TiB binary (2^10...).
func sizeUnit(unit string) (int64, bool) {
	switch unit {
	case "", "B":
		return 1, true
	case "KB", "kB":
		return 1000, true
	case "MB":
		return 1000 * 1000, true
	case "GB":
		return 1000 * 1000 * 1000, true
	case "TB":
		return 1000 * 1000 * 1000 * 1000, true
	case "KiB":
		return 1 << 10, true
	case "MiB":
		return 1 << 20, true
	case "GiB":
		return 1 << 30, true
	case "TiB":
		return 1 << 40, true
	}
	return 0, false
}

// parseSize reads a byte size: a whole number with an optional unit, such as
// "512", "64KiB", "10MiB" or "1GB" (10^9 bytes).
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	num, unit := s[:i], strings.TrimSpace(s[i:])
	if num == "" || num == "-" {
		return 0, errors.New("no number")
	}
	mult, ok := sizeUnit(unit)
	if !ok {
		return 0, errors.New("unknown unit")
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, errNegative
	}
	if n > math.MaxInt64/mult {
		return 0, errors.New("too large")
	}
	return n * mult, nil
}
