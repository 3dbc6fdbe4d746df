package handlers

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"keyport/queries"
	"keyport/usage"
)

// outcomeNames are the outcomes as the dashboard names them (as a heading and within a
// sentence), with the CSS class that colors them, in usage.Outcome order.
var outcomeNames = [usage.NumOutcomes]struct{ label, word, class string }{
	{"Valid", "valid", "u-valid"},
	{"Rate limited", "rate limited", "u-rate"},
	{"Missing scope", "missing scope", "u-scope"},
	{"Revoked", "revoked", "u-revoked"},
	{"Expired", "expired", "u-expired"},
}

// Chart is a stacked bar chart that the template draws as SVG: every coordinate is
// decided here.
type Chart struct {
	Width, Height int
	Bars          []ChartBar
}

// ChartBar is one bar, its segments bottom up.
type ChartBar struct {
	X, W  int
	Segs  []ChartSeg
	Title string // the bar's span and counts, shown on hover
}

// ChartSeg is one colored part of a bar.
type ChartSeg struct {
	Y, H  int
	Class string
}

// Spark is a key's last 24 hours in its table row: a bar an hour, valid at the bottom,
// refused on top.
type Spark struct {
	SVG         template.HTML // the chart, drawn once: the "bars" template writes it
	Summary     string        // the totals, for the tooltip and screen readers
	RateLimited bool          // over 10% refused for rate: warn
	Rejections  bool          // over 10% revoked, expired or missing a scope: warn
}

const (
	sparkBarW, sparkGap, sparkH = 4, 1, 24
	chartBarW, chartGap, chartH = 14, 4, 120
)

// spark builds the row chart from the key's hourly rows.
func spark(rows []queries.KeyUsage, now time.Time) *Spark {
	c, total := sparkChart(rows, now)
	sp := &Spark{SVG: c.SVG(), Summary: "Last 24 hours: " + summary(total)}
	sp.RateLimited, sp.Rejections = total.Warnings()
	return sp
}

// sparkChart is the row chart of the key's hourly rows, and their total.
func sparkChart(rows []queries.KeyUsage, now time.Time) (Chart, usage.Counts) {
	buckets := usage.LastHours(now, 24).Sum(rows)
	// Two segments, valid and refused, so a bar still reads at 4 px wide.
	stacks := make([]usage.Counts, len(buckets))
	for i, b := range buckets {
		stacks[i] = usage.Counts{b.Counts[usage.Valid], b.Total() - b.Counts[usage.Valid]}
	}
	c := drawBars(stacks, sparkBarW, sparkGap, sparkH, [usage.NumOutcomes]string{"u-valid", "u-refused"})
	var title []byte
	for i, b := range buckets {
		title = append(b.Start.AppendFormat(title[:0], "15:04"), " UTC: "...)
		c.Bars[i].Title = string(appendSummary(title, b.Counts))
	}
	return c, usage.Total(buckets)
}

// drawBars lays stacks out as bars w wide with gap between them, scaled so the tallest
// is h high; a bar with any count is at least 1 px. classes colors each segment.
func drawBars(stacks []usage.Counts, w, gap, h int, classes [usage.NumOutcomes]string) Chart {
	var peak int64
	for _, st := range stacks {
		peak = max(peak, st.Total())
	}
	c := Chart{Width: len(stacks)*(w+gap) - gap, Height: h, Bars: make([]ChartBar, len(stacks))}
	// One array holds every bar's segments: a keys page draws 1,200 bars.
	var nonzero int
	for _, st := range stacks {
		for _, n := range st {
			if n != 0 {
				nonzero++
			}
		}
	}
	segs := make([]ChartSeg, 0, nonzero)
	for i, st := range stacks {
		bar := ChartBar{X: i * (w + gap), W: w}
		first := len(segs)
		// Segment tops are cumulative, each rounded up, so the segments add up to the bar
		// and a single count still shows.
		var below int64
		y0 := h
		for o, n := range st {
			if n == 0 {
				continue
			}
			below += n
			top := min(h-int((below*int64(h)+peak-1)/peak), y0-1)
			segs = append(segs, ChartSeg{Y: top, H: y0 - top, Class: classes[o]})
			y0 = top
		}
		bar.Segs = segs[first:len(segs):len(segs)]
		c.Bars[i] = bar
	}
	return c
}

// SVG is the chart's markup: a full-height slot behind each bar carries its title, so
// hovering an empty hour says so too. It is written here, not by a template: a keys page draws 50
// charts of 24 bars, and html/template's reflection and escaping of every coordinate cost
// ~10 ms of CPU a page. TestChartSVG holds it byte for byte to the template it replaced.
func (c Chart) SVG() template.HTML {
	size := 170 // the markup around the bars, with room for the numbers
	for _, bar := range c.Bars {
		size += 90 + len(bar.Title)
		for _, s := range bar.Segs {
			size += 70 + len(s.Class)
		}
	}
	var b strings.Builder
	b.Grow(size)
	b.WriteString(`<svg class="bars" width="`)
	writeInt(&b, c.Width)
	b.WriteString(`" height="`)
	writeInt(&b, c.Height)
	b.WriteString(`" viewBox="0 0 `)
	writeInt(&b, c.Width)
	b.WriteByte(' ')
	writeInt(&b, c.Height)
	b.WriteString(`" preserveAspectRatio="none" aria-hidden="true" focusable="false">`)
	for _, bar := range c.Bars {
		b.WriteString("\n  <g><title>")
		writeEscaped(&b, bar.Title)
		b.WriteString(`</title><rect class="u-slot" x="`)
		writeInt(&b, bar.X)
		b.WriteString(`" y="0" width="`)
		writeInt(&b, bar.W)
		b.WriteString(`" height="`)
		writeInt(&b, c.Height)
		b.WriteString(`"/>`)
		for _, s := range bar.Segs {
			b.WriteString(`<rect class="`)
			writeEscaped(&b, s.Class)
			b.WriteString(`" x="`)
			writeInt(&b, bar.X)
			b.WriteString(`" y="`)
			writeInt(&b, s.Y)
			b.WriteString(`" width="`)
			writeInt(&b, bar.W)
			b.WriteString(`" height="`)
			writeInt(&b, s.H)
			b.WriteString(`"/>`)
		}
		b.WriteString("</g>")
	}
	b.WriteString("\n</svg>")
	return template.HTML(b.String())
}

func writeInt(b *strings.Builder, n int) {
	var buf [20]byte
	b.Write(strconv.AppendInt(buf[:0], int64(n), 10))
}

// writeEscaped writes s escaped as html/template escapes text in an element or a quoted
// attribute.
func writeEscaped(b *strings.Builder, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var r string
		switch s[i] {
		case 0:
			r = "\uFFFD"
		case '"':
			r = "&#34;"
		case '&':
			r = "&amp;"
		case '\'':
			r = "&#39;"
		case '+':
			r = "&#43;"
		case '<':
			r = "&lt;"
		case '>':
			r = "&gt;"
		default:
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(r)
		last = i + 1
	}
	b.WriteString(s[last:])
}

// summary words counts: "1,204 verifications: 1,200 valid, 4 rate limited".
func summary(c usage.Counts) string { return string(appendSummary(nil, c)) }

// appendSummary appends summary(c) to b.
func appendSummary(b []byte, c usage.Counts) []byte {
	t := c.Total()
	if t == 0 {
		return append(b, "no verifications"...)
	}
	b = appendThousands(b, t)
	if t == 1 {
		b = append(b, " verification: "...)
	} else {
		b = append(b, " verifications: "...)
	}
	sep := ""
	for o, n := range c {
		if n > 0 {
			b = appendThousands(append(b, sep...), n)
			b = append(append(b, ' '), outcomeNames[o].word...)
			sep = ", "
		}
	}
	return b
}

// thousands formats n with comma separators.
func thousands(n int64) string { return string(appendThousands(nil, n)) }

// appendThousands appends thousands(n) to b.
func appendThousands(b []byte, n int64) []byte {
	var buf [20]byte
	digits := strconv.AppendInt(buf[:0], n, 10)
	if n < 0 {
		b, digits = append(b, '-'), digits[1:]
	}
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, d)
	}
	return b
}

// withSparks sets the 24-hour chart of every key in rows, which are a page of org's
// keys with seq in [minSeq, maxSeq].
func (s *Server) withSparks(ctx context.Context, orgID string, rows []KeyRow, minSeq, maxSeq int64) error {
	if len(rows) == 0 {
		return nil
	}
	now := s.Now()
	all, err := s.Read.ListOrgKeysUsage(ctx, queries.ListOrgKeysUsageParams{
		OrgID: orgID, MinSeq: minSeq, MaxSeq: maxSeq, Since: usage.LastHours(now, 24).Start.UnixMilli(),
	})
	if err != nil {
		return err
	}
	byKey := make(map[string][]queries.KeyUsage)
	for _, u := range all {
		byKey[u.KeyID] = append(byKey[u.KeyID], u)
	}
	var idle *Spark // the same for every key not used in the last 24 hours
	for i := range rows {
		u := byKey[rows[i].ID]
		if len(u) > 0 {
			rows[i].Usage = spark(u, now)
			continue
		}
		if idle == nil {
			idle = spark(nil, now)
		}
		rows[i].Usage = idle
	}
	return nil
}

// withSpark sets one row's 24-hour chart.
func (s *Server) withSpark(ctx context.Context, row *KeyRow) error {
	now := s.Now()
	rows, err := s.Read.ListKeyUsage(ctx, queries.ListKeyUsageParams{KeyID: row.ID, Since: usage.LastHours(now, 24).Start.UnixMilli()})
	if err != nil {
		return err
	}
	row.Usage = spark(rows, now)
	return nil
}

// onKeyPage reports whether an htmx request came from key id's page.
func onKeyPage(c echo.Context, id string) bool {
	u, err := url.Parse(c.Request().Header.Get("HX-Current-URL"))
	return err == nil && u.Path == dashboardPath+"/keys/"+id
}

// KeyPage is one key: its details, actions and 30 days of usage.
type KeyPage struct {
	Layout
	Row    KeyRow
	Chart  Chart
	Totals []OutcomeTotal
	Total  string
	Days   []UsageDay // the chart's numbers, newest first
	From   time.Time  // the first day shown
	Peak   string     // the tallest bar's total, for the axis
}

// OutcomeTotal is one outcome's count over the page's period.
type OutcomeTotal struct {
	Label, Class string
	Count        string
	Share        string // of all verifications, e.g. "12.5%"
}

// UsageDay is one day's counts, as words.
type UsageDay struct {
	Day    time.Time
	Counts [usage.NumOutcomes]string
	Total  string
}

// usageDays is how far back the key page looks.
const usageDays = 30

func (s *Server) keyPage(c echo.Context) error {
	k, err := s.orgKey(c)
	if err != nil {
		return err
	}
	now := s.Now()
	row := memberFrom(c).keyRow(k, now)
	if row.CreatedBy, row.CreatorLeft, err = s.creator(c, k); err != nil {
		return err
	}
	w := usage.LastDays(now, usageDays)
	rows, err := s.Read.ListKeyUsage(c.Request().Context(), queries.ListKeyUsageParams{KeyID: row.ID, Since: w.Start.UnixMilli()})
	if err != nil {
		return err
	}
	days := w.Sum(rows)
	total := usage.Total(days)
	var classes [usage.NumOutcomes]string
	for o, n := range outcomeNames {
		classes[o] = n.class
	}
	stacks := make([]usage.Counts, len(days))
	var peak int64
	for i, d := range days {
		stacks[i] = d.Counts
		peak = max(peak, d.Total())
	}
	p := KeyPage{
		Layout: s.layout(c, row.Name, "keys"),
		Row:    row,
		Chart:  drawBars(stacks, chartBarW, chartGap, chartH, classes),
		Total:  thousands(total.Total()),
		From:   w.Start,
		Peak:   thousands(peak),
	}
	p.Row.Usage = spark(rows, now)
	for i, d := range days {
		p.Chart.Bars[i].Title = d.Start.Format("Mon, Jan 2") + ": " + summary(d.Counts)
	}
	for o, n := range total {
		ot := OutcomeTotal{Label: outcomeNames[o].label, Class: outcomeNames[o].class, Count: thousands(n), Share: "—"}
		if t := total.Total(); t > 0 {
			ot.Share = strconv.FormatFloat(float64(n)*100/float64(t), 'f', 1, 64) + "%"
		}
		p.Totals = append(p.Totals, ot)
	}
	for i := len(days) - 1; i >= 0; i-- {
		d := UsageDay{Day: days[i].Start, Total: thousands(days[i].Total())}
		for o, n := range days[i].Counts {
			d.Counts[o] = thousands(n)
		}
		p.Days = append(p.Days, d)
	}
	return s.render(c, http.StatusOK, "key", "", p)
}
