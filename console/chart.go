package console

import (
	"fmt"
	"strconv"

	"tokend"
)

// Activity charts are drawn on the server as SVG: bars of requests per day, no script. The
// template places the numbers computed here; everything else is CSS.

type chart struct {
	Width, Height float64
	// Plot area.
	Left, Top, PlotW, PlotH float64
	Right, Mid, Base, TickX float64 // grid lines and where the axis labels go
	Bars                    []chartBar
	Total, Peak             int64
	PeakLabel               string
	From, To                string
	Label                   string // for screen readers
	Spark                   bool
}

type chartBar struct {
	X, Y, W, H float64
	Zero       bool
	Title      string
}

// newChart is the large chart of a token's page: axes, the peak and the first and last day.
func newChart(days []tokend.DailyUse) *chart {
	return layout(days, 720, 180, 44, 12, 28, false)
}

// newSparkline is the small chart of a list row.
func newSparkline(days []tokend.DailyUse) *chart {
	return layout(days, 120, 28, 0, 2, 0, true)
}

func layout(days []tokend.DailyUse, width, height, left, top, bottom float64, spark bool) *chart {
	c := &chart{Width: width, Height: height, Left: left, Top: top, PlotW: width - left - 4, PlotH: height - top - bottom, Spark: spark}
	c.Right, c.Base, c.Mid, c.TickX = left+c.PlotW, top+c.PlotH, round1(top+c.PlotH/2), left-8
	if len(days) == 0 {
		return c
	}
	for _, d := range days {
		c.Total += d.Count
		c.Peak = max(c.Peak, d.Count)
	}
	slot := c.PlotW / float64(len(days))
	gap := max(slot*0.2, 1)
	if spark {
		gap = max(slot*0.25, 0.5)
	}
	for i, d := range days {
		h := 0.0
		if c.Peak > 0 {
			h = float64(d.Count) / float64(c.Peak) * c.PlotH
		}
		zero := d.Count == 0
		if zero {
			h = 1.5 // a hairline keeps the day visible
		} else {
			h = max(h, 2)
		}
		c.Bars = append(c.Bars, chartBar{
			X: round1(c.Left + float64(i)*slot + gap/2), Y: round1(c.Top + c.PlotH - h),
			W: round1(slot - gap), H: round1(h), Zero: zero,
			Title: fmt.Sprintf("%s: %s", d.Day.UTC().Format("Jan 2"), requests(d.Count)),
		})
	}
	c.From = days[0].Day.UTC().Format("Jan 2")
	c.To = days[len(days)-1].Day.UTC().Format("Jan 2")
	c.PeakLabel = strconv.FormatInt(c.Peak, 10)
	c.Label = fmt.Sprintf("%s over the last %d days, from %s to %s; the busiest day had %s.",
		requests(c.Total), len(days), c.From, c.To, requests(c.Peak))
	return c
}

func requests(n int64) string {
	if n == 1 {
		return "1 request"
	}
	return strconv.FormatInt(n, 10) + " requests"
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }
