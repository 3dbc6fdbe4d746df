package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestHardeningFlagsRejectBadValues(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"proxy not an address", []string{"-trusted-proxies", "10.0.0.0/8,proxy.local"}, nil, "-trusted-proxies"},
		{"proxy in env", nil, map[string]string{"KEYPORT_TRUSTED_PROXIES": "10.0.0.0/33"}, "-trusted-proxies"},
		{"public URL without scheme", []string{"-public-url", "keys.example.com"}, nil, "-public-url"},
		{"public URL with a path, in env", nil, map[string]string{"KEYPORT_PUBLIC_URL": "https://example.com/keys"}, "-public-url"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			env := Env{Stdout: &bytes.Buffer{}, Stderr: &stderr, Getenv: func(k string) string { return tt.env[k] }}
			if got, want := Main(context.Background(), tt.args, env), 2; got != want {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", got, want, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr = %q, want it to mention %q", stderr.String(), tt.want)
			}
		})
	}
}

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
