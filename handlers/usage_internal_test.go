package handlers

import (
	"bytes"
	"html/template"
	"math"
	"os"
	"testing"
	"time"

	"keyport/queries"
	"keyport/usage"
)

// barsTemplate is how the "bars" template drew a Chart before Chart.SVG: the reference
// its markup must match.
const barsTemplate = `{{define "bars"}}
<svg class="bars" width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}" preserveAspectRatio="none" aria-hidden="true" focusable="false">
  {{- $h := .Height}}{{range .Bars}}{{$b := .}}
  <g><title>{{.Title}}</title><rect class="u-slot" x="{{.X}}" y="0" width="{{.W}}" height="{{$h}}"/>{{range .Segs}}<rect class="{{.Class}}" x="{{$b.X}}" y="{{.Y}}" width="{{$b.W}}" height="{{.H}}"/>{{end}}</g>
  {{- end}}
</svg>
{{end}}`

func TestChartSVG(t *testing.T) {
	ref := template.Must(template.New("ref").Parse(barsTemplate))
	pages, err := ParseTemplates(os.DirFS("../templates"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)
	hour := func(h int) int64 { return now.Truncate(time.Hour).Add(-time.Duration(h) * time.Hour).UnixMilli() }
	var classes [usage.NumOutcomes]string
	for o, n := range outcomeNames {
		classes[o] = n.class
	}
	charts := map[string]Chart{
		"no usage": first(sparkChart(nil, now)),
		"every outcome, some hours": first(sparkChart([]queries.KeyUsage{
			{HourStart: hour(23), Valid: 1200, RateLimited: 4},
			{HourStart: hour(5), Valid: 1, Revoked: 2, Expired: 3, InsufficientScope: 1},
			{HourStart: hour(0), RateLimited: 99999},
		}, now)),
		"key page": drawBars([]usage.Counts{{5, 3}, {}, {0, 0, 0, 0, 4}, {1, 1, 1, 1, 1}}, chartBarW, chartGap, chartH, classes),
		"text to escape": {Width: 9, Height: 3, Bars: []ChartBar{
			{X: 0, W: 4, Title: `<b> & "q" 'a' +1 ` + "\x00 é \u2028", Segs: []ChartSeg{{Y: 1, H: 2, Class: `x"><script>`}}},
			{X: 5, W: 4},
		}},
	}
	for name, c := range charts {
		var want, got bytes.Buffer
		if err := ref.ExecuteTemplate(&want, "bars", c); err != nil {
			t.Fatal(err)
		}
		if err := pages.pages["key"].ExecuteTemplate(&got, "bars", c); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%s:\n got %q\nwant %q", name, got.String(), want.String())
		}
	}
}

func first[A, B any](a A, _ B) A { return a }

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0", 7: "7", 999: "999", 1000: "1,000", 1204: "1,204", 123456: "123,456",
		1234567: "1,234,567", -1234: "-1,234", -999: "-999",
		math.MinInt64: "-9,223,372,036,854,775,808",
	} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestSummary(t *testing.T) {
	for _, tc := range []struct {
		c    usage.Counts
		want string
	}{
		{usage.Counts{}, "no verifications"},
		{usage.Counts{0, 0, 0, 1, 0}, "1 verification: 1 revoked"},
		{usage.Counts{1200, 4}, "1,204 verifications: 1,200 valid, 4 rate limited"},
		{usage.Counts{1, 2, 3, 4, 5}, "15 verifications: 1 valid, 2 rate limited, 3 missing scope, 4 revoked, 5 expired"},
	} {
		if got := summary(tc.c); got != tc.want {
			t.Errorf("summary(%v) = %q, want %q", tc.c, got, tc.want)
		}
	}
}
