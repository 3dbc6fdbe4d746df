package cli

import (
	"context"
	"fmt"
)

// migrate applies the schema versions the database lacks, as `serve` does at start, for
// deploy pipelines that migrate before they roll out replicas. Replicas that start while
// it runs wait for it (migrations hold a lock).
func migrate(ctx context.Context, env Env, args []string) error {
	fs := newFlags("migrate", env)
	synopsis(fs, "migrate [-db FILE|URL]")
	path := dbFlag(fs)
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	db, _, err := openDB(ctx, env, *path, true)
	if err != nil {
		return err
	}
	defer db.Close()
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(env.Stdout, "schema at version %d (%s)\n", v, db.Engine())
	return err
}
