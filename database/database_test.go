package database_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"keyport/database"
	"keyport/queries"
	"keyport/testapp"
)

func open(t *testing.T, path string) *database.DB {
	t.Helper()
	db, err := database.Open(context.Background(), path, testapp.Assets(t).Migrations)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Every pooled connection has the pragmas, not just the first one: they must come from
// the connection string.
func TestPragmasOnEveryConnection(t *testing.T) {
	testapp.SQLiteOnly(t, "pragmas")
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "keyport.db"))

	// Hold several connections at once so the pool has to open new ones. The writer
	// pool has a single connection by design.
	type conn struct {
		name     string
		c        *sql.Conn
		readOnly bool
	}
	var conns []conn
	for i := range 4 {
		c, err := db.Read.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, conn{fmt.Sprintf("read %d", i), c, true})
	}
	w, err := db.Write.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	conns = append(conns, conn{"write", w, false})

	for _, c := range conns {
		for _, p := range []struct{ pragma, want string }{
			{"journal_mode", "wal"},
			{"foreign_keys", "1"},
			{"busy_timeout", "5000"},
			{"synchronous", "1"},
		} {
			var got string
			if err := c.c.QueryRowContext(ctx, "PRAGMA "+p.pragma).Scan(&got); err != nil {
				t.Fatalf("%s: PRAGMA %s: %v", c.name, p.pragma, err)
			}
			if strings.ToLower(got) != p.want {
				t.Errorf("%s: %s = %s, want %s", c.name, p.pragma, got, p.want)
			}
		}
		var queryOnly string
		if err := c.c.QueryRowContext(ctx, "PRAGMA query_only").Scan(&queryOnly); err != nil {
			t.Fatal(err)
		}
		if got := queryOnly == "1"; got != c.readOnly {
			t.Errorf("%s: query_only = %s", c.name, queryOnly)
		}
		// The writer checkpoints by itself only past what background checkpoints allow
		// (a safety net); the readers keep SQLite's default, which matters only to a
		// connection that writes.
		var autoCheckpoint int
		if err := c.c.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&autoCheckpoint); err != nil {
			t.Fatal(err)
		}
		if want := 1000; !c.readOnly && autoCheckpoint <= database.CheckpointFrames || c.readOnly && autoCheckpoint != want {
			t.Errorf("%s: wal_autocheckpoint = %d", c.name, autoCheckpoint)
		}
	}
}

// Checkpoint copies the WAL into the database file from a reader connection while the
// writer is in the middle of a transaction, and what the writer then commits stays in
// the WAL until the next one.
func TestCheckpointBesideTheWriter(t *testing.T) {
	testapp.SQLiteOnly(t, "the WAL")
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "keyport.db"))
	q := queries.New(db.Write)
	for i := range 100 {
		if err := q.CreateUser(ctx, queries.CreateUserParams{ID: fmt.Sprintf("usr_%d", i), Email: fmt.Sprintf("%d@example.com", i), PasswordHash: "x", CreatedAt: 1}); err != nil {
			t.Fatal(err)
		}
	}
	tx, err := db.Write.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := q.WithTx(tx).CreateUser(ctx, queries.CreateUserParams{ID: "usr_open", Email: "open@example.com", PasswordHash: "x", CreatedAt: 1}); err != nil {
		t.Fatal(err)
	}
	pages, err := db.Checkpoint(ctx)
	if err != nil || pages < 100 {
		t.Fatalf("Checkpoint: %d pages, %v; want the 100 commits' pages", pages, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if after, err := db.Checkpoint(ctx); err != nil || after <= pages {
		t.Errorf("Checkpoint after the commit: %d pages, %v; want more than %d: the WAL started over under a writer", after, err, pages)
	}
}

// WALFrames reads the WAL's size from the WAL index as PRAGMA wal_checkpoint reports it,
// also after a checkpoint, and sees it start over at the next write once all of it is
// copied.
func TestWALFrames(t *testing.T) {
	testapp.SQLiteOnly(t, "the WAL")
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "keyport.db"))
	q := queries.New(db.Write)
	user := func(i int) {
		t.Helper()
		if err := q.CreateUser(ctx, queries.CreateUserParams{ID: fmt.Sprintf("usr_%d", i), Email: fmt.Sprintf("%d@example.com", i), PasswordHash: "x", CreatedAt: 1}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 50 {
		user(i)
	}
	before, err := db.WALFrames()
	if err != nil {
		t.Fatal(err)
	}
	pages, err := db.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if before < 50 || before != pages {
		t.Errorf("WALFrames before a checkpoint = %d; the checkpoint saw %d pages (50 commits)", before, pages)
	}
	if after, err := db.WALFrames(); err != nil || after != pages {
		t.Errorf("WALFrames after the checkpoint = %d, %v; want %d (a copy does not start the WAL over)", after, err, pages)
	}
	user(50)
	if restarted, err := db.WALFrames(); err != nil || restarted == 0 || restarted >= pages {
		t.Errorf("WALFrames after the next write = %d, %v; want a few pages, fewer than %d", restarted, err, pages)
	}
}

// The readers cannot write, and foreign keys are enforced on the writer.
func TestPoolsEnforce(t *testing.T) {
	testapp.SQLiteOnly(t, "a read-only reader pool (PostgreSQL has one pool)")
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "keyport.db"))
	org := queries.CreateOrganizationParams{ID: "org_1", Name: "One", CreatedAt: 1}
	if err := queries.New(db.Read).CreateOrganization(ctx, org); err == nil {
		t.Error("a write through the reader pool succeeded")
	}
	if err := queries.New(db.Write).CreateUser(ctx, queries.CreateUserParams{
		ID: "usr_1", Email: "a@example.com", PasswordHash: "x", CreatedAt: 1,
	}); err != nil {
		t.Fatal(err)
	}
	err := queries.New(db.Write).CreateMembership(ctx, queries.CreateMembershipParams{
		OrgID: "org_missing", UserID: "usr_1", Role: "owner", CreatedAt: 1,
	})
	if err == nil {
		t.Error("a membership of a missing organization was inserted: foreign keys are off")
	}
}

// Opening a database again applies nothing twice and keeps the data.
func TestMigrationsIdempotent(t *testing.T) {
	ctx := context.Background()
	path := testapp.DB(t)
	first := open(t, path)
	org := queries.CreateOrganizationParams{ID: "org_1", Name: "Kept", CreatedAt: 1}
	if err := queries.New(first.Write).CreateOrganization(ctx, org); err != nil {
		t.Fatal(err)
	}
	user := queries.CreateUserParams{ID: "usr_1", Email: "kept@example.com", PasswordHash: "x", CreatedAt: 1}
	if err := queries.New(first.Write).CreateUser(ctx, user); err != nil {
		t.Fatal(err)
	}
	if err := queries.New(first.Write).CreateMembership(ctx, queries.CreateMembershipParams{
		OrgID: org.ID, UserID: user.ID, Role: "owner", CreatedAt: 1,
	}); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	for i := range 2 {
		db := open(t, path)
		v, err := db.SchemaVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := v, len(testapp.Assets(t).Migrations.SQLite); got != want {
			t.Errorf("open %d: schema version = %d, want %d", i+2, got, want)
		}
		m, err := queries.New(db.Read).GetSessionMember(ctx, queries.GetSessionMemberParams{UserID: user.ID})
		if err != nil || m.Email != user.Email || m.OrgName != org.Name {
			t.Errorf("open %d: the data from the first open is gone: %+v, %v", i+2, m, err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}

	// A binary that knows fewer versions than the database refuses to open it.
	older := testapp.Assets(t).Migrations
	older.SQLite, older.Postgres = older.SQLite[:len(older.SQLite)-1], older.Postgres[:len(older.Postgres)-1]
	_, err := database.Open(ctx, path, older)
	if err == nil || !strings.Contains(err.Error(), "newer than this keyport binary knows") {
		t.Errorf("opening a newer schema with an older binary: %v, want a refusal", err)
	}
}

// Replicas starting together on a new database: each version is applied once (on
// PostgreSQL under an advisory lock, on SQLite inside BEGIN IMMEDIATE) and all start.
// On SQLite the race to turn a new file's journal to WAL fails one open in a few dozen
// without a retry, so the test starts eight processes' worth of opens on ten new files.
func TestMigrationsConcurrentOpen(t *testing.T) {
	ctx := context.Background()
	m := testapp.Assets(t).Migrations
	const files, opens = 10, 8
	for range files {
		path := testapp.DB(t)
		errs := make(chan error, opens)
		for range opens {
			go func() {
				db, err := database.Open(ctx, path, m)
				if err == nil {
					err = db.Close()
				}
				errs <- err
			}()
		}
		for range opens {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
		db := open(t, path)
		if v, err := db.SchemaVersion(ctx); err != nil || v != len(m.SQLite) {
			t.Errorf("schema version %d, %v; want %d", v, err, len(m.SQLite))
		}
		if t.Failed() || db.Engine() != database.SQLite {
			return
		}
	}
}

// Both engines classify a taken email as a unique violation, and a foreign key failure
// as neither unique nor unavailable.
func TestErrorClassification(t *testing.T) {
	ctx := context.Background()
	db := open(t, testapp.DB(t))
	q := queries.New(db.Write)
	if err := q.CreateOrganization(ctx, queries.CreateOrganizationParams{ID: "org_1", Name: "One", CreatedAt: 1}); err != nil {
		t.Fatal(err)
	}
	u := queries.CreateUserParams{ID: "usr_1", Email: "a@example.com", PasswordHash: "x", CreatedAt: 1}
	if err := q.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	u.ID = "usr_2"
	err := q.CreateUser(ctx, u)
	if !database.IsUniqueViolation(err) || database.IsUnavailable(err) {
		t.Errorf("taken email: %v: unique %v, unavailable %v", err, database.IsUniqueViolation(err), database.IsUnavailable(err))
	}
	err = q.CreateMembership(ctx, queries.CreateMembershipParams{OrgID: "org_missing", UserID: "usr_1", Role: "owner", CreatedAt: 1})
	if err == nil || database.IsUniqueViolation(err) || database.IsUnavailable(err) {
		t.Errorf("membership of a missing organization: %v: unique %v, unavailable %v", err, database.IsUniqueViolation(err), database.IsUnavailable(err))
	}
}
