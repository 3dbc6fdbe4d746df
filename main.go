// Command keyport serves the API key dashboard and the products API from one binary and
// one SQLite file. Run `keyport --help` for the commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"keyport/app"
	"keyport/cli"
	"keyport/migrations"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.Env{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv,
		Assets: app.Assets{
			Migrations: migrations.All(),
			Templates:  sub(templateFiles, "templates"),
			Static:     sub(staticFiles, "static"),
		},
	})
	stop()
	os.Exit(code)
}
