// Command bare is the benchmark's bare floor: about the least any HTTP server can do to
// store a JSON object durably in SQLite. Plain net/http, one connection in WAL mode with
// synchronous=NORMAL (keyport's durability), and one INSERT into a rowid table of three
// columns per request, through Exec: the statement runs to its end in autocommit mode,
// so SQLite's WAL auto-checkpoint runs as it does in any real server. No keys, no
// framework, no logging, no metrics, no second index, no foreign keys.
//
// With a postgres:// URL it is the same on PostgreSQL through pgx itself (no
// database/sql): a pool as large as keyport's, and one INSERT … RETURNING into a table of
// the three columns and an identity key, in autocommit.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/jackc/pgx/v5/pgxpool"

	"keyport/bench/serve"
	"keyport/database"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bare:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:8091", "listen address")
	dbPath := flag.String("db", "", "database file (created if missing)")
	pprofAddr := flag.String("pprof", "", "serve net/http/pprof on this address too (for bench/run -pprof)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if database.EngineOf(*dbPath) == database.Postgres {
		return runPostgres(ctx, *addr, *pprofAddr, *dbPath)
	}
	db, err := sql.Open("sqlite3", "file:"+*dbPath+"?_journal_mode=WAL&_synchronous=NORMAL&_busy_timeout=5000")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxIdleTime(0)
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS items (
		name TEXT NOT NULL, price_cents INTEGER NOT NULL, created_at INTEGER NOT NULL)`); err != nil {
		return err
	}
	insert, err := db.PrepareContext(ctx, "INSERT INTO items (name, price_cents, created_at) VALUES (?, ?, ?)")
	if err != nil {
		return err
	}
	defer insert.Close()

	return serve.Run(ctx, *addr, *pprofAddr, items(func(ctx context.Context, name string, cents, now int64) (int64, error) {
		res, err := insert.ExecContext(ctx, name, cents, now)
		if err != nil {
			return 0, err
		}
		return res.LastInsertId()
	}))
}

// items is the server: the no-work route, and POST /items storing each item through
// insert, which returns its id.
func items(insert func(ctx context.Context, name string, cents, now int64) (int64, error)) http.Handler {
	mux := serve.Mux()
	mux.HandleFunc("POST /items", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Name  string  `json:"name"`
			Price float64 `json:"price"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&in); err != nil || in.Name == "" || in.Price <= 0 {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		now := time.Now().UnixMilli()
		id, err := insert(r.Context(), in.Name, int64(math.Round(in.Price*100)), now)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(struct {
			ID        int64       `json:"id"`
			Name      string      `json:"name"`
			Price     json.Number `json:"price"`
			CreatedAt string      `json:"createdAt"`
		}{id, in.Name, json.Number(strconv.FormatFloat(in.Price, 'f', -1, 64)),
			time.UnixMilli(now).UTC().Format("2006-01-02T15:04:05.000Z07:00")})
	})
	return mux
}

func runPostgres(ctx context.Context, addr, pprofAddr, url string) error {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return err
	}
	cfg.MaxConns = int32(database.DefaultPoolSize())
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS bare_items (
		id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		name TEXT NOT NULL, price_cents BIGINT NOT NULL, created_at BIGINT NOT NULL)`); err != nil {
		return err
	}
	return serve.Run(ctx, addr, pprofAddr, items(func(ctx context.Context, name string, cents, now int64) (int64, error) {
		var id int64
		err := pool.QueryRow(ctx, "INSERT INTO bare_items (name, price_cents, created_at) VALUES ($1, $2, $3) RETURNING id",
			name, cents, now).Scan(&id)
		return id, err
	}))
}
