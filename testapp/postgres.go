package testapp

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for the admin connection

	"keyport/database"
	"keyport/migrations"
)

// PostgresEnv names the variable that runs the tests on PostgreSQL: a URL of a cluster
// where its user may create databases, e.g. postgres://postgres@127.0.0.1:5432/postgres.
// scripts/test starts a throwaway cluster and sets it.
const PostgresEnv = "KEYPORT_TEST_POSTGRES"

// Postgres reports whether the tests run on PostgreSQL.
func Postgres() bool { return os.Getenv(PostgresEnv) != "" }

// SQLiteOnly skips t on PostgreSQL; why says which SQLite mechanics the test is about.
func SQLiteOnly(t testing.TB, why string) {
	t.Helper()
	if Postgres() {
		t.Skip("SQLite only: " + why)
	}
}

// PostgresOnly skips t unless the tests run on PostgreSQL.
func PostgresOnly(t testing.TB) {
	t.Helper()
	if !Postgres() {
		t.Skip("PostgreSQL only: set " + PostgresEnv + " (make test does when PostgreSQL is installed)")
	}
}

// DB returns what -db takes for a fresh, empty database of t's own: a file in
// t.TempDir(), or on PostgreSQL the URL of a new database, dropped when t ends (after
// the cleanups registered later, such as the app's Close). Tests of migrating itself use
// it; the others want MigratedDB.
func DB(t testing.TB) string {
	t.Helper()
	if !Postgres() {
		return filepath.Join(t.TempDir(), "keyport.db")
	}
	// template0: nobody is ever connected to it, so parallel tests may copy it at once.
	return pgDatabase(t, "template0")
}

// MigratedDB is DB with the schema of ms applied already. On PostgreSQL the database is
// a copy of a template migrated once per migration set (see pgTemplate), which is much
// cheaper than running every version for every test; on SQLite it is DB, since opening
// migrates a new file in milliseconds.
func MigratedDB(t testing.TB, ms migrations.Set) string {
	t.Helper()
	if !Postgres() {
		return DB(t)
	}
	return pgDatabase(t, pgTemplate(t, ms.Postgres))
}

func pgDatabase(t testing.TB, template string) string {
	t.Helper()
	admin := adminDB(t)
	b := make([]byte, 8)
	rand.Read(b)
	name := "keyport_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE DATABASE " + name + " TEMPLATE " + template); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		// FORCE ends the connections of a keyport process a test left running.
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	return pgURL(name)
}

func pgURL(name string) string {
	u, _ := url.Parse(os.Getenv(PostgresEnv)) // adminDB parsed it already
	u.Path = "/" + name
	return u.String()
}

// templateLock is the pg_advisory_lock key under which one test process builds a
// template while the others (go test runs packages in parallel) wait for it. It differs
// from database's migration lock, which the build itself takes.
const templateLock = 0x6b6579706f7275

var templates struct {
	mu    sync.Mutex
	built map[string]string // hash of the versions -> template name
}

// pgTemplate returns the name of a database migrated with versions, for CREATE DATABASE
// … TEMPLATE. Its name carries a hash of the versions, so a changed or added version
// gets a new template, and every test process of a run (and later runs on the same
// cluster) reuses the one that exists: at most one per migration set is left behind,
// and the throwaway cluster of scripts/test takes it with it. It is built under another
// name and renamed when complete, so its name existing means it is whole. Connections
// to it are refused afterwards: CREATE DATABASE fails while anyone is connected to its
// template.
func pgTemplate(t testing.TB, versions []string) string {
	t.Helper()
	h := sha256.New()
	for _, v := range versions {
		fmt.Fprintf(h, "%d\n%s", len(v), v)
	}
	sum := hex.EncodeToString(h.Sum(nil))[:16]
	templates.mu.Lock()
	defer templates.mu.Unlock()
	if name, ok := templates.built[sum]; ok {
		return name
	}
	name := "keyport_template_" + sum
	if err := buildTemplate(adminDB(t), name, versions); err != nil {
		t.Fatalf("PostgreSQL template database %s: %v", name, err)
	}
	if templates.built == nil {
		templates.built = map[string]string{}
	}
	templates.built[sum] = name
	return name
}

func buildTemplate(admin *sql.DB, name string, versions []string) error {
	ctx := context.Background()
	conn, err := admin.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", templateLock); err != nil {
		return err
	}
	defer conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", templateLock)
	var exists bool
	if err := conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil || exists {
		return err
	}
	// A process killed while building leaves its half-built copy under this name.
	build := name + "_build"
	for _, stmt := range []string{
		"DROP DATABASE IF EXISTS " + build + " WITH (FORCE)",
		"CREATE DATABASE " + build + " TEMPLATE template0",
	} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	db, err := database.Open(ctx, pgURL(build), migrations.Set{Postgres: versions})
	if err != nil {
		return err
	}
	if err := db.Close(); err != nil {
		return err
	}
	// RENAME waits (up to 5 s) for the server to end the sessions just closed. A process
	// killed between the two statements leaves a template that still works as one.
	for _, stmt := range []string{
		"ALTER DATABASE " + build + " RENAME TO " + name,
		"ALTER DATABASE " + name + " WITH ALLOW_CONNECTIONS false IS_TEMPLATE true",
	} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return nil
}

var admin struct {
	once sync.Once
	db   *sql.DB
	err  error
}

// adminDB is one connection pool per test process to the cluster's maintenance
// database, for creating and dropping the tests' databases.
func adminDB(t testing.TB) *sql.DB {
	t.Helper()
	admin.once.Do(func() {
		dsn := os.Getenv(PostgresEnv)
		if _, err := url.Parse(dsn); err != nil {
			admin.err = err
			return
		}
		admin.db, admin.err = sql.Open("pgx", dsn)
		if admin.err == nil {
			admin.db.SetMaxOpenConns(4)
			admin.err = admin.db.PingContext(context.Background())
		}
	})
	if admin.err != nil {
		t.Fatalf("%s: %v", PostgresEnv, admin.err)
	}
	return admin.db
}

// SetReadOnly makes the app's database refuse writes (on) or take them again (off), so
// tests can watch keyport answer a database that cannot write. On SQLite the writer's
// single connection gets PRAGMA query_only; on PostgreSQL the database gets
// default_transaction_read_only and the pool's connections are replaced to pick it up.
func (a *App) SetReadOnly(t testing.TB, on bool) {
	t.Helper()
	if !Postgres() {
		if _, err := a.DB.Write.Exec(fmt.Sprintf("PRAGMA query_only = %t", on)); err != nil {
			t.Fatal(err)
		}
		return
	}
	var name string
	if err := a.DB.Write.QueryRow("SELECT current_database()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	stmt := "ALTER DATABASE " + name + " RESET default_transaction_read_only"
	if on {
		stmt = "ALTER DATABASE " + name + " SET default_transaction_read_only = on"
	}
	if _, err := adminDB(t).Exec(stmt); err != nil {
		t.Fatal(err)
	}
	// The setting reaches new sessions only. With no idle connections kept, every one
	// open now is closed when it is returned; once none is open, all later ones are new.
	// The deadline only guards against a hang: with every package's tests running at
	// once on a loaded 2-core CI machine, a connection was once held past 5 s.
	pool := a.DB.Write
	pool.SetMaxIdleConns(0)
	const wait = 30 * time.Second
	for deadline := time.Now().Add(wait); pool.Stats().OpenConnections > 0; {
		if time.Now().After(deadline) {
			t.Fatalf("SetReadOnly: the pool's connections were not returned within %s", wait)
		}
		time.Sleep(time.Millisecond)
	}
	pool.SetMaxIdleConns(pool.Stats().MaxOpenConnections)
}
