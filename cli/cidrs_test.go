package cli

import (
	"strings"
	"testing"
)

func TestParseCIDRs(t *testing.T) {
	nets, err := parseCIDRs(" 10.0.0.0/8, 192.0.2.1 ,2001:db8::/32,::1,")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range nets {
		got = append(got, n.String())
	}
	if g, want := strings.Join(got, " "), "10.0.0.0/8 192.0.2.1/32 2001:db8::/32 ::1/128"; g != want {
		t.Errorf("parseCIDRs = %s, want %s", g, want)
	}
}
