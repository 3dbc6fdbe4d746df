package cli

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"runtime/metrics"
	"strings"
	"testing"

	"keyport/testapp"
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
		{"negative GC heap floor", []string{"-gc-heap-floor", "-1"}, nil, "-gc-heap-floor must be 0 (off)"},
		{"GC heap floor not a number, in env", nil, map[string]string{"KEYPORT_GC_HEAP_FLOOR": "24MiB"}, "KEYPORT_GC_HEAP_FLOOR"},
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

// TestServeLeavesAnExplicitGOGCAlone runs serve on a port in use, so it stops right after
// setting up the heap floor: with GOGC in the environment it says the floor is not
// applied, and either way GOGC is what it was once serve returns.
func TestServeLeavesAnExplicitGOGCAlone(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, gogc := range []string{"", "100"} {
		var stderr bytes.Buffer
		vars := map[string]string{"GOGC": gogc, "KEYPORT_GC_HEAP_FLOOR": "64"}
		env := Env{Stdout: &bytes.Buffer{}, Stderr: &stderr, Getenv: func(k string) string { return vars[k] }, Assets: testapp.Assets(t)}
		if got, want := Main(context.Background(), []string{"serve", "-addr", ln.Addr().String(), "-db", filepath.Join(t.TempDir(), "k.db")}, env), 1; got != want {
			t.Fatalf("GOGC=%q: exit %d, want %d (port in use); stderr:\n%s", gogc, got, want, stderr.String())
		}
		if got, want := strings.Contains(stderr.String(), "-gc-heap-floor is not applied"), gogc != ""; got != want {
			t.Errorf("GOGC=%q: stderr says the floor is not applied: %v, want %v; stderr:\n%s", gogc, got, want, stderr.String())
		}
		s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
		metrics.Read(s)
		if got := s[0].Value.Uint64(); got != 100 {
			t.Errorf("GOGC=%q: after serve GOGC is %d, want 100 again", gogc, got)
		}
	}
}
