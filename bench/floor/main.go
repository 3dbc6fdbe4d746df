// Command floor is the benchmark's floor: the least a server can do for keyport's product
// routes. Plain net/http and mattn/go-sqlite3 with keyport's pragmas, pools and prepared
// statements, the same products table and the same INSERT and SELECT, but no key check,
// no framework, no logging and no metrics. keyport's figures are reported as ratios to
// this server's, measured in the same run.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"keyport/bench/serve"
	"keyport/database"
	"keyport/migrations"
	"keyport/queries"
	"keyport/randid"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

type floor struct {
	write, read *queries.Queries
	org, key    string
}

type product struct {
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	Price     json.Number `json:"price"`
	CreatedAt string      `json:"createdAt"`
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:8090", "listen address")
	dbPath := flag.String("db", "", "a database seeded for keyport (the schema must exist)")
	org := flag.String("org", "", "organization the products belong to")
	key := flag.String("key", "", "key id recorded on each product")
	pprofAddr := flag.String("pprof", "", "serve net/http/pprof on this address too (for bench/run -pprof)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	w, r, err := open(*dbPath)
	if err != nil {
		return err
	}
	defer w.Close()
	defer r.Close() // the same pool on PostgreSQL; closing it twice is harmless
	f := &floor{org: *org, key: *key}
	if f.write, err = queries.Prepare(ctx, w); err != nil {
		return err
	}
	if f.read, err = queries.Prepare(ctx, r); err != nil {
		return err
	}

	mux := serve.Mux()
	mux.HandleFunc("POST /products", f.create)
	mux.HandleFunc("GET /products", f.list)
	return serve.Run(ctx, *addr, *pprofAddr, mux)
}

// open makes the pools keyport makes (package database): one writer connection, a reader
// pool of max(4, 2×CPUs), and the same pragmas in the connection string. The file must
// already hold keyport's schema; the floor runs no migrations.
//
// With a postgres:// URL (bench/run's PostgreSQL rows) it is the pool keyport makes there, through package
// database: pgx's driver, one pool for reads and writes.
func open(path string) (w, r *sql.DB, err error) {
	if database.EngineOf(path) == database.Postgres {
		db, err := database.Open(context.Background(), path, migrations.All())
		if err != nil {
			return nil, nil, err
		}
		return db.Write, db.Read, nil
	}
	const pragmas = "_journal_mode=WAL&_foreign_keys=on&_busy_timeout=5000&_synchronous=NORMAL&_txlock=immediate"
	if w, err = sql.Open("sqlite3", "file:"+path+"?"+pragmas); err != nil {
		return nil, nil, err
	}
	w.SetMaxOpenConns(1)
	if r, err = sql.Open("sqlite3", "file:"+path+"?"+pragmas+"&_query_only=true"); err != nil {
		return nil, nil, err
	}
	n := max(4, 2*runtime.NumCPU())
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	return w, r, r.Ping()
}

func (f *floor) create(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name  string  `json:"name"`
		Price float64 `json:"price"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&in); err != nil || in.Name == "" || in.Price <= 0 {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	t := time.Now()
	now := t.UnixMilli()
	p := product{ID: randid.Ordered("prod", t), Name: in.Name, Price: json.Number(strconv.FormatFloat(in.Price, 'f', -1, 64))}
	p.CreatedAt = time.UnixMilli(now).UTC().Format("2006-01-02T15:04:05.000Z07:00")
	if err := f.write.CreateProduct(r.Context(), queries.CreateProductParams{
		ID: p.ID, OrgID: f.org, Name: in.Name, PriceCents: int64(math.Round(in.Price * 100)), CreatedAt: now,
		KeyID: sql.NullString{String: f.key, Valid: f.key != ""},
	}); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, http.StatusCreated, p)
}

// list serves the same SELECT as keyport's GET /api/products; ?before= is the plain seq
// that keyport's cursor encodes.
func (f *floor) list(w http.ResponseWriter, r *http.Request) {
	before := int64(math.MaxInt64)
	if s := r.URL.Query().Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			http.Error(w, "bad before", http.StatusBadRequest)
			return
		}
		before = n
	}
	const limit = 20
	rows, err := f.read.ListProducts(r.Context(), queries.ListProductsParams{OrgID: f.org, Before: before, Limit: limit + 1})
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	out := struct {
		Data       []product `json:"data"`
		NextCursor *string   `json:"nextCursor"`
	}{Data: make([]product, 0, limit)}
	if len(rows) > limit {
		rows = rows[:limit]
		next := strconv.FormatInt(rows[len(rows)-1].Seq, 10)
		out.NextCursor = &next
	}
	for _, p := range rows {
		out.Data = append(out.Data, product{
			ID: p.ID, Name: p.Name, Price: json.Number(strconv.FormatFloat(float64(p.PriceCents)/100, 'f', -1, 64)),
			CreatedAt: time.UnixMilli(p.CreatedAt).UTC().Format("2006-01-02T15:04:05.000Z07:00"),
		})
	}
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
