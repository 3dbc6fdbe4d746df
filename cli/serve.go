package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"keyport/app"
	"keyport/database"
	"keyport/gctune"
	"keyport/handlers"
	"keyport/logging"
)

func serve(ctx context.Context, env Env, args []string) error {
	var cfg app.Config
	var err error
	var addr, logFormat, proxies, publicURL string
	var logFlush time.Duration
	var gcFloor int
	fs := newFlags("serve", env)
	fs.StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&cfg.DBPath, "db", "keyport.db", dbUsage+"; a file is created if missing")
	fs.BoolVar(&cfg.SecureCookies, "secure-cookies", false, "mark the session cookie Secure (turn on behind TLS)")
	fs.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	fs.DurationVar(&logFlush, "log-flush-interval", DefaultLogFlushInterval, "longest a request's log line waits in memory to be written with others (0 = each at once); a kill -9 loses at most this much of the log")
	fs.IntVar(&gcFloor, "gc-heap-floor", DefaultGCHeapFloor, "MiB the Go heap may grow to before a garbage collection even when little of it is live (0 = off: GOGC=100's twice the live heap); ignored when GOGC is set")
	fs.IntVar(&cfg.KeyRateLimit, "key-rate-limit", app.DefaultKeyRateLimit, "API requests per minute per key (0 = unlimited)")
	fs.StringVar(&cfg.KeyRateLimitStore, "key-rate-limit-store", "", "where the per-key counts live: local (this process) or shared (the database, exact across replicas); default shared on PostgreSQL, local on SQLite")
	countUsage := fs.Bool("key-usage", true, "count each key's verifications by outcome for the usage charts and API")
	fs.StringVar(&proxies, "trusted-proxies", "", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For names the client (default none)")
	fs.StringVar(&publicURL, "public-url", "", "the URL people reach keyport at, e.g. https://keys.example.com: other hosts get 421; https makes the cookie __Host- and Secure and sends HSTS")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if publicURL != "" {
		if cfg.PublicURL, err = handlers.ParsePublicURL(publicURL); err != nil {
			return fmt.Errorf("%w: -public-url: %v", errUsage, err)
		}
	}
	cfg.NoUsageCounts = !*countUsage
	if cfg.TrustedProxies, err = parseCIDRs(proxies); err != nil {
		return fmt.Errorf("%w: -trusted-proxies: %v", errUsage, err)
	}
	if s := cfg.KeyRateLimitStore; s != "" && s != "local" && s != "shared" {
		return fmt.Errorf("%w: -key-rate-limit-store must be local or shared, not %q", errUsage, s)
	}
	if cfg.KeyRateLimit < 0 {
		return fmt.Errorf("%w: -key-rate-limit must be 0 (unlimited) or more, not %d", errUsage, cfg.KeyRateLimit)
	}
	if logFlush < 0 {
		return fmt.Errorf("%w: -log-flush-interval must be 0 (write each line at once) or more, not %v", errUsage, logFlush)
	}
	if gcFloor < 0 {
		return fmt.Errorf("%w: -gc-heap-floor must be 0 (off) or more MiB, not %d", errUsage, gcFloor)
	}
	logOut := logging.NewBuffer(env.Stderr, logFlush)
	// After Serve, so the last lines ("stopped") are written too.
	defer logOut.Close()
	logger, err := newLogger(logOut, logFormat)
	if err != nil {
		return err
	}
	gogc := env.Getenv("GOGC")
	if gogc != "" && gcFloor > 0 {
		logger.Info("GOGC is set: the garbage collector runs as it says, -gc-heap-floor is not applied", slog.String("GOGC", gogc))
	}
	defer gctune.Start(uint64(gcFloor)<<20, gogc != "").Stop()
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("%w\nAnother program (often a keyport started earlier) holds that port: stop it, or choose another address with -addr 127.0.0.1:PORT or KEYPORT_ADDR", err)
	}
	if err != nil {
		return err
	}
	return Serve(ctx, ln, cfg, env.Assets, logger)
}

// DefaultLogFlushInterval is how long request lines may wait to be written together:
// Envoy flushes its access logs every second, keyport more often, for people who tail it.
const DefaultLogFlushInterval = 100 * time.Millisecond

// DefaultGCHeapFloor (MiB) is off: with a 12 MiB floor the 1k POST cost about 5 µs less
// a request, but the POST rows' p99 rose to 19–30 ms in 9 of 24 rows measured. The 1M
// POST also stalled with the floor off, so the floor may not be the cause; until that is
// known it is for operators who want it (docs/PERFORMANCE.md, round 5).
const DefaultGCHeapFloor = 0

// logDB is -db as it may be logged: a URL's password is masked.
func logDB(dsn string) string {
	if database.EngineOf(dsn) == database.SQLite {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://(malformed)"
	}
	return u.Redacted()
}

func newLogger(w io.Writer, format string) (*slog.Logger, error) {
	switch format {
	case "text":
		return slog.New(logging.NewText(w, nil)), nil
	case "json":
		return slog.New(logging.NewJSON(w, nil)), nil
	}
	return nil, fmt.Errorf("%w: -log-format must be text or json, not %q", errUsage, format)
}

// Serve runs keyport on ln until ctx is done, then stops accepting, lets in-flight
// requests finish (up to 10 s) and closes the database.
func Serve(ctx context.Context, ln net.Listener, cfg app.Config, assets app.Assets, logger *slog.Logger) error {
	a, err := app.Open(ctx, cfg, assets, logger)
	if err != nil {
		ln.Close()
		return err
	}
	defer a.Close()

	hs := &http.Server{
		Handler:           a.Echo,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	logger.Info("keyport listening", slog.String("addr", ln.Addr().String()), slog.String("db", logDB(cfg.DBPath)))

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = hs.Shutdown(shutdownCtx)
	if errors.Is(err, context.DeadlineExceeded) {
		logger.Warn("in-flight requests did not finish in 10 s")
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if cerr := a.Close(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	logger.Info("stopped")
	return err
}

// parseCIDRs reads "10.0.0.0/8, 192.0.2.1": a bare address is a network of one.
func parseCIDRs(list string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			ip := net.ParseIP(f)
			if ip == nil {
				return nil, fmt.Errorf("%q is not an IP address or CIDR", f)
			}
			bits := 128
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP address or CIDR", f)
		}
		out = append(out, n)
	}
	return out, nil
}
