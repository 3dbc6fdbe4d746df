package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/alexedwards/scs/sqlite3store"
	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"

	"keyport/database"
	"keyport/handlers"
	"keyport/keyauth"
	"keyport/queries"
)

// ServeConfig is everything `keyport serve` takes from flags and the environment.
type ServeConfig struct {
	Addr          string
	DBPath        string
	SecureCookies bool
	LogFormat     string
}

func serve(ctx context.Context, env Env, args []string) error {
	var cfg ServeConfig
	fs := newFlags("serve", env)
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&cfg.DBPath, "db", "keyport.db", "SQLite database file (created if missing)")
	fs.BoolVar(&cfg.SecureCookies, "secure-cookies", false, "mark the session cookie Secure (turn on behind TLS)")
	fs.StringVar(&cfg.LogFormat, "log-format", "text", "log format: text or json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := envDefaults(fs, env); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	logger, err := newLogger(env.Stderr, cfg.LogFormat)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	return Serve(ctx, ln, cfg, env.Assets, logger)
}

func newLogger(w io.Writer, format string) (*slog.Logger, error) {
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	}
	return nil, fmt.Errorf("%w: -log-format must be text or json, not %q", errUsage, format)
}

// Serve runs keyport on ln until ctx is done, then stops accepting, lets in-flight
// requests finish (up to 10 s) and closes the database.
func Serve(ctx context.Context, ln net.Listener, cfg ServeConfig, assets Assets, logger *slog.Logger) error {
	db, err := database.Open(ctx, cfg.DBPath, assets.Migrations)
	if err != nil {
		ln.Close()
		return err
	}
	defer db.Close()

	e, srv, err := newApp(ctx, db, cfg, assets, logger)
	if err != nil {
		ln.Close()
		return err
	}
	hs := &http.Server{
		Handler:           e,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}

	watchCtx, stopWatch := context.WithCancel(context.Background())
	defer stopWatch()
	go db.WatchDataVersion(watchCtx, 200*time.Millisecond, func() {
		if err := srv.Keys.CheckEpoch(watchCtx); err != nil && watchCtx.Err() == nil {
			// Fail safe: if the epoch cannot be read, forget every verification.
			srv.Keys.Invalidate()
		}
	})

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	logger.Info("keyport listening", slog.String("addr", ln.Addr().String()), slog.String("db", cfg.DBPath))

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
	stopWatch()
	if cerr := <-errc; cerr != nil && !errors.Is(cerr, http.ErrServerClosed) {
		err = errors.Join(err, cerr)
	}
	logger.Info("stopped")
	return err
}

// newApp builds the handlers' dependencies and the router.
func newApp(ctx context.Context, db *database.DB, cfg ServeConfig, assets Assets, logger *slog.Logger) (*echo.Echo, *handlers.Server, error) {
	pages, err := handlers.ParseTemplates(assets.Templates)
	if err != nil {
		return nil, nil, err
	}
	read, err := queries.Prepare(ctx, db.Read)
	if err != nil {
		return nil, nil, fmt.Errorf("prepare read queries: %w", err)
	}
	write, err := queries.Prepare(ctx, db.Write)
	if err != nil {
		return nil, nil, fmt.Errorf("prepare write queries: %w", err)
	}

	sessions := scs.New()
	sessions.Store = sqlite3store.New(db.Write)
	sessions.Lifetime = 7 * 24 * time.Hour
	sessions.IdleTimeout = 12 * time.Hour
	sessions.Cookie.Name = "keyport_session"
	sessions.Cookie.HttpOnly = true
	sessions.Cookie.SameSite = http.SameSiteLaxMode
	sessions.Cookie.Secure = cfg.SecureCookies
	sessions.Cookie.Persist = true

	verifier := keyauth.NewVerifier(read)
	if err := verifier.CheckEpoch(ctx); err != nil {
		return nil, nil, err
	}
	srv := &handlers.Server{
		DB:         db,
		Write:      write,
		Read:       read,
		Sessions:   sessions,
		Pages:      pages,
		Keys:       verifier,
		Logger:     logger,
		Now:        time.Now,
		BcryptCost: bcrypt.DefaultCost,
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	if err := srv.Routes(e, assets.Static); err != nil {
		return nil, nil, err
	}
	return e, srv, nil
}
