package testapp

import (
	"context"
	"crypto/rand"
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
// the cleanups registered later, such as the app's Close).
func DB(t testing.TB) string {
	t.Helper()
	if !Postgres() {
		return filepath.Join(t.TempDir(), "keyport.db")
	}
	admin := adminDB(t)
	b := make([]byte, 8)
	rand.Read(b)
	name := "keyport_test_" + hex.EncodeToString(b)
	// template0: nobody is ever connected to it, so parallel tests may copy it at once.
	if _, err := admin.Exec("CREATE DATABASE " + name + " TEMPLATE template0"); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		// FORCE ends the connections of a keyport process a test left running.
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u, _ := url.Parse(os.Getenv(PostgresEnv)) // adminDB parsed it already
	u.Path = "/" + name
	return u.String()
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
	pool := a.DB.Write
	pool.SetMaxIdleConns(0)
	for deadline := time.Now().Add(5 * time.Second); pool.Stats().OpenConnections > 0; {
		if time.Now().After(deadline) {
			t.Fatal("SetReadOnly: the pool's connections were not returned within 5 s")
		}
		time.Sleep(time.Millisecond)
	}
	pool.SetMaxIdleConns(pool.Stats().MaxOpenConnections)
}
