package quota

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Period is a quota period.
type Period string

// The quota periods.
const (
	Day   Period = "day"
	Week  Period = "week"
	Month Period = "month"
)

// numPeriods is the number of Periods; Period.index numbers them.
const numPeriods = 3

// allPeriods returns every Period in index order.
func allPeriods() [numPeriods]Period { return [numPeriods]Period{Day, Week, Month} }

// ErrInvalid is returned (wrapped) for an unknown period, a negative limit
// or a bad usage range.
var ErrInvalid = errors.New("invalid quota request")

// ParsePeriod returns the Period named s ("day", "week" or "month").
func ParsePeriod(s string) (Period, error) {
	p := Period(s)
	if p.index() < 0 {
		return "", fmt.Errorf("quota: period %q: %w; use \"day\", \"week\" or \"month\"", s, ErrInvalid)
	}
	return p, nil
}

func (p Period) index() int {
	switch p {
	case Day:
		return 0
	case Week:
		return 1
	case Month:
		return 2
	}
	return -1
}

// Start returns the start of the period containing t, in UTC.
func (p Period) Start(t time.Time) time.Time {
	t = t.UTC()
	y, m, d := t.Date()
	switch p {
	case Week:
		// time.Weekday counts from Sunday = 0; weeks start on Monday.
		back := (int(t.Weekday()) + 6) % 7
		return time.Date(y, m, d-back, 0, 0, 0, 0, time.UTC)
	case Month:
		return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	}
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// End returns the start of the period after the one containing t, in UTC:
// the moment the quota resets.
func (p Period) End(t time.Time) time.Time {
	s := p.Start(t)
	switch p {
	case Week:
		return s.AddDate(0, 0, 7)
	case Month:
		return s.AddDate(0, 1, 0)
	}
	return s.AddDate(0, 0, 1)
}

// Usage is a key's consumption of one quota period.
type Usage struct {
	// Used is the number of requests admitted in the current period.
	Used int64
	// Limit is the limit of the last Consume for the key and period (0 if
	// none has been made in this period).
	Limit int64
	// Period is the period's name: "day", "week" or "month".
	Period string
	// ResetAt is when the current period ends and Used starts again at 0.
	ResetAt time.Time
}

// Remaining returns Limit-Used, or 0 if the quota is used up.
func (u Usage) Remaining() int64 { return max(u.Limit-u.Used, 0) }

// DayUsage is the number of requests admitted for a key on one UTC day.
type DayUsage struct {
	// Day is 00:00 UTC of the day.
	Day  time.Time
	Used int64
}

// Counter counts requests against per-key quotas.
type Counter interface {
	// Consume admits one request for key if fewer than limit have been
	// admitted in the current period, and counts it. allowed reports the
	// outcome; u is the usage after the call. A refused request is not
	// counted. A limit of 0 refuses everything.
	Consume(ctx context.Context, key string, limit int64, period Period) (allowed bool, u Usage, err error)
	// Get returns key's usage of the current period without counting.
	Get(ctx context.Context, key string, period Period) (Usage, error)
	// Usage returns the requests admitted for key on each UTC day from the
	// day of from to the day of to, inclusive, oldest first, including days
	// with no requests. The range may span at most MaxUsageDays days.
	Usage(ctx context.Context, key string, from, to time.Time) ([]DayUsage, error)
	// Reset sets key's counters of the current day, week and month to zero.
	// Per-day usage history is kept.
	Reset(ctx context.Context, key string) error
}

// MaxUsageDays bounds the range of one Usage call.
const MaxUsageDays = 366

// DefaultHistory is how long per-day usage is kept by default.
const DefaultHistory = 90 * 24 * time.Hour

// checkConsume validates the arguments of Consume.
func checkConsume(limit int64, period Period) error {
	if period.index() < 0 {
		return fmt.Errorf("quota: period %q: %w; use quota.Day, quota.Week or quota.Month", period, ErrInvalid)
	}
	if limit < 0 {
		return fmt.Errorf("quota: limit %d: %w; use a limit of 0 or more", limit, ErrInvalid)
	}
	return nil
}

// days returns the UTC midnights from from's day to to's day inclusive.
func days(from, to time.Time) ([]time.Time, error) {
	first, last := Day.Start(from), Day.Start(to)
	if last.Before(first) {
		return nil, fmt.Errorf("quota: usage from %s to %s: %w; from must not be after to",
			first.Format(time.DateOnly), last.Format(time.DateOnly), ErrInvalid)
	}
	n := int(last.Sub(first)/(24*time.Hour)) + 1
	if n > MaxUsageDays {
		return nil, fmt.Errorf("quota: usage from %s to %s spans %d days: %w; ask for at most %d days per call",
			first.Format(time.DateOnly), last.Format(time.DateOnly), n, ErrInvalid, MaxUsageDays)
	}
	out := make([]time.Time, n)
	for i := range out {
		out[i] = first.AddDate(0, 0, i)
	}
	return out, nil
}
