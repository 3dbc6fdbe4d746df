// Package app assembles keyport from its parts: the database, the key verifier, sessions,
// templates and the router. `keyport serve` and the tests build it the same way.
package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/alexedwards/scs/postgresstore"
	"github.com/alexedwards/scs/sqlite3store"
	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"

	"keyport/database"
	"keyport/groupcommit"
	"keyport/handlers"
	"keyport/keyauth"
	"keyport/lastused"
	"keyport/metrics"
	"keyport/migrations"
	"keyport/queries"
	"keyport/ratelimit"
	"keyport/sessionstore"
	"keyport/usage"
)

// Assets are the files embedded in the binary (or read from disk in tests).
type Assets struct {
	Migrations migrations.Set
	Templates  fs.FS
	Static     fs.FS
}

// Config is how keyport runs.
type Config struct {
	// DBPath is a SQLite file path or a postgres:// URL (database.EngineOf).
	DBPath        string
	SecureCookies bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// BcryptCost for new passwords; 0 means bcrypt.DefaultCost.
	BcryptCost int
	// WatchInterval is how often another process's changes to keys are looked for;
	// 0 means 200 ms.
	WatchInterval time.Duration
	// KeyRateLimit is how many API requests per minute each key may make; 0 means
	// unlimited. The serve command defaults it to DefaultKeyRateLimit.
	KeyRateLimit int
	// KeyRateLimitStore is where the per-key counts live: "local" (this process) or
	// "shared" (the database, exact across replicas); "" picks rateLimitStore's default.
	KeyRateLimitStore string
	// TrustedProxies are the peers whose X-Forwarded-For names the client.
	TrustedProxies []*net.IPNet
	// PublicURL, if set, is the only address keyport answers at; over https it also
	// makes the session cookie __Host- prefixed and Secure, and sends HSTS.
	PublicURL *url.URL
	// UsageFlushInterval is how often noted key uses are written (each key still at
	// most once a minute), and how often verification counts are; 0 means 5 s.
	UsageFlushInterval time.Duration
	// NoUsageCounts turns off counting each key's verifications by outcome (the usage
	// charts and API then show nothing new); the benchmark compares both.
	NoUsageCounts bool
	// UsageFlushAt is how many (key, hour) counts may be pending before they are written
	// without waiting for the interval; 0 means usage.DefaultFlushAt.
	UsageFlushAt int
}

// DefaultKeyRateLimit is the per-key limit (requests a minute) the server runs with
// unless told otherwise.
const DefaultKeyRateLimit = 600

// App is a running keyport without its listener.
type App struct {
	DB     *database.DB
	Server *handlers.Server
	Echo   *echo.Echo

	now          func() time.Time
	logger       *slog.Logger
	sessionStore sessionStore
	stop         context.CancelFunc
	wg           sync.WaitGroup
	closeOnce    sync.Once
}

// Open opens the database, applies migrations and builds the router.
func Open(ctx context.Context, cfg Config, assets Assets, logger *slog.Logger) (*App, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.BcryptCost == 0 {
		cfg.BcryptCost = bcrypt.DefaultCost
	}
	if cfg.WatchInterval == 0 {
		cfg.WatchInterval = 200 * time.Millisecond
	}
	if cfg.UsageFlushInterval == 0 {
		cfg.UsageFlushInterval = 5 * time.Second
	}
	db, err := database.Open(ctx, cfg.DBPath, assets.Migrations)
	if err != nil {
		return nil, err
	}
	a, err := build(ctx, db, cfg, assets, logger)
	if err != nil {
		db.Close()
		return nil, err
	}
	return a, nil
}

func build(ctx context.Context, db *database.DB, cfg Config, assets Assets, logger *slog.Logger) (*App, error) {
	pages, err := handlers.ParseTemplates(assets.Templates)
	if err != nil {
		return nil, err
	}
	read, err := queries.Prepare(ctx, db.Read)
	if err != nil {
		return nil, fmt.Errorf("prepare read queries: %w", err)
	}
	write, err := queries.Prepare(ctx, db.Write)
	if err != nil {
		return nil, fmt.Errorf("prepare write queries: %w", err)
	}

	store := newSessionStore(db)
	sessions := scs.New()
	sessions.Store = sessionstore.Hash(store)
	sessions.Lifetime = 7 * 24 * time.Hour
	sessions.IdleTimeout = 12 * time.Hour
	sessions.Cookie.Name = "keyport_session"
	sessions.Cookie.HttpOnly = true
	sessions.Cookie.SameSite = http.SameSiteLaxMode
	sessions.Cookie.Secure = cfg.SecureCookies
	if cfg.PublicURL != nil && cfg.PublicURL.Scheme == "https" {
		// __Host-: the browser takes the cookie only if Secure, for Path=/ and without
		// Domain, so a sibling subdomain cannot set or shadow it.
		sessions.Cookie.Name = "__Host-keyport_session"
		sessions.Cookie.Secure = true
	}

	verifier := keyauth.NewVerifier(read)
	m := metrics.New()
	deps := handlers.Deps{
		DB:         db,
		Write:      write,
		Commit:     newCommitter(db, write, m.WriteBatch, logger),
		Read:       read,
		Sessions:   sessions,
		Pages:      pages,
		Keys:       verifier,
		Usage:      lastused.New(db.Write, write),
		Logger:     logger,
		Metrics:    m,
		Now:        cfg.Now,
		BcryptCost: cfg.BcryptCost,

		TrustedProxies: cfg.TrustedProxies,
		PublicURL:      cfg.PublicURL,
	}
	if !cfg.NoUsageCounts {
		deps.Counts = usage.New(db.Write, write)
		if cfg.UsageFlushAt > 0 {
			deps.Counts.FlushAt = cfg.UsageFlushAt
		}
	}
	if cfg.KeyRateLimit > 0 {
		store, err := rateLimitStore(cfg.KeyRateLimitStore, db)
		if err != nil {
			return nil, err
		}
		if store == "shared" {
			deps.Limiter = ratelimit.NewShared(write, cfg.KeyRateLimit, time.Minute)
		} else {
			deps.Limiter = ratelimit.New(cfg.KeyRateLimit, time.Minute, ratelimit.DefaultMaxEntries)
		}
	}
	srv, err := handlers.New(deps)
	if err != nil {
		return nil, err
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	srv.Routes(e, assets.Static)

	a := &App{DB: db, Server: srv, Echo: e, now: cfg.Now, logger: logger, sessionStore: store}
	bg, stop := context.WithCancel(context.Background())
	a.stop = stop
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		// The first check builds the key filter (a second at a million keys), so it runs
		// here rather than delaying the start; until it is built every key is looked up.
		if err := verifier.CheckEpoch(bg); err != nil && bg.Err() == nil {
			logger.Warn("reading the keys for the key filter failed; will retry", slog.Any("error", err))
		}
		err := db.Watch(bg, cfg.WatchInterval, func() {
			if err := verifier.CheckEpoch(bg); err != nil && bg.Err() == nil {
				// If the epoch cannot be read, forgetting every verification is safe.
				verifier.Invalidate()
			}
		})
		if err != nil {
			logger.Error("watching the database for key changes failed; caching disabled", slog.Any("error", err))
			verifier.Disable()
		}
	}()
	if srv.Limiter != nil {
		a.every(bg, time.Minute, func() { srv.Limiter.Sweep(cfg.Now()) })
	}
	a.every(bg, 10*time.Minute, func() {
		if err := srv.PruneLoginFailures(bg); err != nil && bg.Err() == nil {
			logger.Warn("pruning old failed sign-ins failed; will retry", slog.Any("error", err))
		}
	})
	a.every(bg, time.Hour, func() {
		if err := srv.Org.PruneFormTokens(bg); err != nil && bg.Err() == nil {
			logger.Warn("pruning old form tokens failed; will retry", slog.Any("error", err))
		}
	})
	a.every(bg, cfg.UsageFlushInterval, func() {
		if _, err := srv.Usage.Flush(bg, cfg.Now(), false); err != nil && bg.Err() == nil {
			logger.Warn("writing keys' last use failed; will retry", slog.Any("error", err))
		}
	})
	a.flushCounts(bg, cfg.UsageFlushInterval)
	a.every(bg, time.Hour, func() {
		if _, err := srv.Counts.Prune(bg, cfg.Now()); err != nil && bg.Err() == nil {
			logger.Warn("pruning old key usage failed; will retry", slog.Any("error", err))
		}
	})
	return a, nil
}

// flushCounts writes the verification counts every interval, and at once whenever so
// many are pending that memory would otherwise grow with the number of keys in use.
func (a *App) flushCounts(ctx context.Context, interval time.Duration) {
	c := a.Server.Counts
	if c == nil {
		return
	}
	a.wg.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		var dropped int64
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			case <-c.Due():
			}
			if _, err := c.Flush(ctx); err != nil && ctx.Err() == nil {
				a.logger.Warn("writing key usage counts failed; will retry", slog.Any("error", err))
			}
			if d := c.Dropped(); d > dropped {
				a.logger.Error("key usage counts dropped: too many pending while writes failed", slog.Int64("dropped", d-dropped))
				dropped = d
			}
		}
	})
}

// newCommitter batches writes: on SQLite's single writer connection one batch at a
// time, with the WAL checkpointed beside it; on PostgreSQL up to half the pool's
// connections commit batches at once (the other half serve reads).
func newCommitter(db *database.DB, q *queries.Queries, observe func(int), logger *slog.Logger) *groupcommit.Committer {
	if db.Engine() == database.Postgres {
		return groupcommit.NewParallel(db.Write, q, observe, db.Write.Stats().MaxOpenConnections/2)
	}
	// The committer retries a failed checkpoint later (and the writer's own automatic
	// checkpoint bounds the WAL meanwhile), but only the log can tell an operator that a
	// WAL keeps growing.
	checkpoint := func(ctx context.Context) (int, error) {
		pages, err := db.Checkpoint(ctx)
		if err != nil {
			logger.Warn("checkpointing the WAL failed; will retry", slog.Any("error", err))
		}
		return pages, err
	}
	frames := func() (int, error) {
		n, err := db.WALFrames()
		if err != nil {
			logger.Warn("reading the WAL's size failed; checkpointing it anyway", slog.Any("error", err))
		}
		return n, err
	}
	return groupcommit.NewCheckpointing(db.Write, q, observe, checkpoint, frames, database.CheckpointFrames)
}

// rateLimitStore resolves -key-rate-limit-store: "" means shared on PostgreSQL, where
// replicas must count together, and local on SQLite, where one process serves.
func rateLimitStore(store string, db *database.DB) (string, error) {
	switch store {
	case "":
		if db.Engine() == database.Postgres {
			return "shared", nil
		}
		return "local", nil
	case "local", "shared":
		return store, nil
	}
	return "", fmt.Errorf("-key-rate-limit-store must be local or shared, not %q", store)
}

// sessionStore is an scs store with a background cleanup to stop.
type sessionStore interface {
	scs.Store
	StopCleanup()
}

// newSessionStore picks the engine's scs store; sessions live in the database, so on
// PostgreSQL every replica sees every session. Expired sessions are deleted every 5 min.
func newSessionStore(db *database.DB) sessionStore {
	if db.Engine() == database.Postgres {
		return postgresstore.NewWithCleanupInterval(db.Write, 5*time.Minute)
	}
	return sqlite3store.NewWithCleanupInterval(db.Write, 5*time.Minute)
}

// every runs fn every interval until ctx is done.
func (a *App) every(ctx context.Context, interval time.Duration, fn func()) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				fn()
			}
		}
	}()
}

// Close stops background work, writes the key uses and usage counts not yet written and
// closes the database. Call it after the HTTP server has finished its in-flight requests.
func (a *App) Close() error {
	var err error
	a.closeOnce.Do(func() {
		a.stop()
		a.wg.Wait()
		a.Server.Commit.Close()
		a.sessionStore.StopCleanup()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, ferr := a.Server.Usage.Flush(ctx, a.now(), true); ferr != nil {
			err = fmt.Errorf("write keys' last use: %w", ferr)
		}
		if _, ferr := a.Server.Counts.Flush(ctx); ferr != nil {
			err = errors.Join(err, fmt.Errorf("write key usage counts: %w", ferr))
		}
		err = errors.Join(err, a.DB.Close())
	})
	return err
}
