package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// durationValue is a flag of a lifetime as people write it: 30d, 2w, 12h, 90m, or a mix such
// as 1d12h. Go's own forms (720h, 1h30m) work too; a day is 24 hours.
type durationValue time.Duration

var dayWeekRE = regexp.MustCompile(`^(?:(\d+)w)?(?:(\d+)d)?(.*)$`)

func parseDuration(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	m := dayWeekRE.FindStringSubmatch(in)
	if in == "" || m == nil {
		return 0, fmt.Errorf("%q is not a duration; use e.g. 30d, 2w, 12h or 90m", s)
	}
	var d time.Duration
	for i, unit := range []time.Duration{7 * 24 * time.Hour, 24 * time.Hour} {
		if m[i+1] == "" {
			continue
		}
		n, err := strconv.ParseInt(m[i+1], 10, 64)
		if err != nil || n > 100_000 {
			return 0, fmt.Errorf("%q is not a duration; use e.g. 30d, 2w, 12h or 90m", s)
		}
		d += time.Duration(n) * unit
	}
	if rest := m[3]; rest != "" {
		r, err := time.ParseDuration(rest)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration; use e.g. 30d, 2w, 12h or 90m", s)
		}
		d += r
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative; a duration here is a length of time", s)
	}
	return d, nil
}

func (d *durationValue) Set(s string) error {
	v, err := parseDuration(s)
	if err != nil {
		return err
	}
	*d = durationValue(v)
	return nil
}

func (d *durationValue) Type() string { return "duration" }

// String shows whole days as days, the rest as Go does.
func (d *durationValue) String() string { return formatDuration(time.Duration(*d)) }

func formatDuration(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	if d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	return d.String()
}
