package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestServeFlagsRejectBadValues(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"negative flag", []string{"-key-rate-limit", "-1"}, nil, "-key-rate-limit must be 0 (unlimited) or more"},
		{"not a number in env", nil, map[string]string{"KEYPORT_KEY_RATE_LIMIT": "lots"}, "KEYPORT_KEY_RATE_LIMIT"},
		{"negative env", nil, map[string]string{"KEYPORT_KEY_RATE_LIMIT": "-5"}, "-key-rate-limit must be 0"},
		{"proxy not an address", []string{"-trusted-proxies", "10.0.0.0/8,proxy.local"}, nil, "-trusted-proxies"},
		{"proxy in env", nil, map[string]string{"KEYPORT_TRUSTED_PROXIES": "10.0.0.0/33"}, "-trusted-proxies"},
		{"public URL without scheme", []string{"-public-url", "keys.example.com"}, nil, "-public-url"},
		{"negative log flush interval", []string{"-log-flush-interval", "-1s"}, nil, "-log-flush-interval must be 0"},
		{"log flush interval not a duration, in env", nil, map[string]string{"KEYPORT_LOG_FLUSH_INTERVAL": "soon"}, "KEYPORT_LOG_FLUSH_INTERVAL"},
		{"public URL with a path, in env", nil, map[string]string{"KEYPORT_PUBLIC_URL": "https://example.com/keys"}, "-public-url"},
	}
	for _, tt := range tests {
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
