// Command pprof is keyport with net/http/pprof on a second, loopback-only listener, for
// profiling under load (`go run ./bench/run -pprof`). It runs the same cli.Main as the
// shipped binary; only the assets are read from the repository instead of embedded, which
// the API's hot path never touches. The shipped binary has no pprof endpoint.
package main

import (
	"context"
	"fmt"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof on http.DefaultServeMux, served only here
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"keyport/app"
	"keyport/cli"
	"keyport/migrations"
)

func main() {
	addr := os.Getenv("KEYPORT_BENCH_PPROF")
	if addr == "" {
		addr = "127.0.0.1:6060"
	}
	go func() {
		fmt.Fprintln(os.Stderr, "pprof:", http.ListenAndServe(addr, nil))
	}()
	root := os.Getenv("KEYPORT_BENCH_ROOT")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.Env{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv,
		Assets: app.Assets{
			Migrations: migrations.All(),
			Templates:  os.DirFS(filepath.Join(root, "templates")),
			Static:     os.DirFS(filepath.Join(root, "static")),
		},
	})
	stop()
	os.Exit(code)
}
