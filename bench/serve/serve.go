// Package serve runs the benchmark's baseline servers (bench/floor, bench/bare) the same
// way: a mux with the no-work route GET /nowork, pprof on a second listener when asked,
// and a clean stop on SIGINT or SIGTERM.
package serve

import (
	"context"
	"fmt"
	"net/http"
	_ "net/http/pprof" // on http.DefaultServeMux, served only with a pprof address
	"os"
	"time"
)

// Mux returns a mux that already answers GET /nowork with 200 "ok".
func Mux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /nowork", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("ok"))
	})
	return mux
}

// Run serves h on addr until ctx ends, and net/http/pprof on pprofAddr unless it is "".
func Run(ctx context.Context, addr, pprofAddr string, h http.Handler) error {
	if pprofAddr != "" {
		go func() { fmt.Fprintln(os.Stderr, "pprof:", http.ListenAndServe(pprofAddr, nil)) }()
	}
	hs := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	return hs.Shutdown(context.Background())
}
