// Package seed fills a keyport database file for the load benchmarks: organizations, API
// keys and products, written through the sqlc queries in one transaction, fast enough to
// make a million of each in well under a minute.
package seed

import (
	"bufio"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"keyport/apikey"
	"keyport/database"
	"keyport/keyauth"
	keyportmigrations "keyport/migrations"
	"keyport/queries"
	"keyport/randid"
)

// Spec says how much data a dataset holds.
type Spec struct {
	Name string
	// ActiveKeys are the bench organization's keys; their full text is kept so the load
	// generator can send them.
	ActiveKeys int
	// OtherKeys are spread over other organizations, 1,000 to an organization: they only
	// make the key index as large as a big deployment's.
	OtherKeys int
	// Products all belong to the bench organization, so its deepest page is deep.
	Products int
	// DashKeys go to one more organization with a member who can sign in, to measure the
	// dashboard's key list.
	DashKeys int
}

// Keys reports the total number of API keys in the dataset.
func (s Spec) Keys() int { return s.ActiveKeys + s.OtherKeys + s.DashKeys }

// Manifest describes a seeded database: what the benchmark needs to address it.
type Manifest struct {
	Spec     Spec
	DB       string // the database file
	KeysFile string // the bench organization's keys, one a line
	OrgID    string // the bench organization
	KeyID    string // one of its keys, for the floor server's inserts
	MinSeq   int64  // the oldest product's seq
	// DashMinSeq is the seq of the dashboard organization's oldest key.
	DashMinSeq int64  `json:",omitempty"`
	DashEmail  string `json:",omitempty"`
	DashPass   string `json:",omitempty"`
	Took       time.Duration
}

const (
	dashPassword = "bench-password"
	keysPerOrg   = 1000
	// version changes whenever what Seed writes changes, so cached files are remade.
	version = "3" // 3: keys hold every scope keyport defines, so each is a root key too
)

// Cached returns the manifest of a database seeded to spec under dir, seeding it first
// if no earlier run left one for this spec and schema.
func Cached(ctx context.Context, dir string, spec Spec, migrations []string) (Manifest, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s %+v\n", version, spec)
	for _, m := range migrations {
		h.Write([]byte(m))
	}
	sub := filepath.Join(dir, spec.Name+"-"+hex.EncodeToString(h.Sum(nil))[:12])
	manifestPath := filepath.Join(sub, "manifest.json")
	if b, err := os.ReadFile(manifestPath); err == nil {
		var m Manifest
		if err := json.Unmarshal(b, &m); err == nil {
			return m, nil
		}
	}
	if err := os.RemoveAll(sub); err != nil {
		return Manifest{}, err
	}
	if err := os.MkdirAll(sub, 0o755); err != nil {
		return Manifest{}, err
	}
	m, err := Seed(ctx, sub, spec, migrations)
	if err != nil {
		return Manifest{}, err
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Manifest{}, err
	}
	// The manifest is written last: its presence means the seed completed.
	return m, os.WriteFile(manifestPath, b, 0o644)
}

// Seed creates keyport.db and keys.txt in dir, filled according to spec.
func Seed(ctx context.Context, dir string, spec Spec, migrations []string) (Manifest, error) {
	start := time.Now()
	m := Manifest{
		Spec:     spec,
		DB:       filepath.Join(dir, "keyport.db"),
		KeysFile: filepath.Join(dir, "keys.txt"),
	}
	db, err := database.Open(ctx, m.DB, keyportmigrations.Set{SQLite: migrations})
	if err != nil {
		return m, err
	}
	defer db.Close()
	// A page cache big enough for the whole key index keeps a million random-order
	// inserts from re-reading pages; the writer pool has exactly one connection, so the
	// pragma reaches the connection the transaction runs on.
	if _, err := db.Write.ExecContext(ctx, "PRAGMA cache_size = -1048576"); err != nil {
		return m, err
	}
	keys, err := os.Create(m.KeysFile)
	if err != nil {
		return m, err
	}
	defer keys.Close()
	kw := bufio.NewWriter(keys)

	tx, err := db.Write.BeginTx(ctx, nil)
	if err != nil {
		return m, err
	}
	defer tx.Rollback()
	q, err := queries.Prepare(ctx, tx)
	if err != nil {
		return m, err
	}
	now := time.Now().Add(-24 * time.Hour).UnixMilli()
	s := seeder{ctx: ctx, q: q, now: now}

	m.OrgID, err = s.org("Bench")
	if err != nil {
		return m, err
	}
	for i := range spec.ActiveKeys {
		key, id, err := s.key(m.OrgID, fmt.Sprintf("bench %d", i))
		if err != nil {
			return m, err
		}
		if i == 0 {
			m.KeyID = id
		}
		fmt.Fprintln(kw, key)
	}
	if err := kw.Flush(); err != nil {
		return m, err
	}

	var other string
	for i := range spec.OtherKeys {
		if i%keysPerOrg == 0 {
			if other, err = s.org(fmt.Sprintf("Other %d", i/keysPerOrg)); err != nil {
				return m, err
			}
		}
		if _, _, err := s.key(other, fmt.Sprintf("other %d", i)); err != nil {
			return m, err
		}
	}

	if spec.DashKeys > 0 {
		dash, err := s.org("Dashboard")
		if err != nil {
			return m, err
		}
		hash, err := bcrypt.GenerateFromPassword([]byte(dashPassword), bcrypt.MinCost)
		if err != nil {
			return m, err
		}
		user := randid.New("user")
		m.DashEmail, m.DashPass = "dash@bench.example", dashPassword
		if err := q.CreateUser(ctx, queries.CreateUserParams{
			ID: user, Email: m.DashEmail, PasswordHash: string(hash), CreatedAt: now,
		}); err != nil {
			return m, err
		}
		if err := q.CreateMembership(ctx, queries.CreateMembershipParams{
			OrgID: dash, UserID: user, Role: "owner", CreatedAt: now,
		}); err != nil {
			return m, err
		}
		for i := range spec.DashKeys {
			_, id, err := s.key(dash, fmt.Sprintf("dashboard key %d", i))
			if err != nil {
				return m, err
			}
			if i == 0 {
				k, err := q.GetAPIKey(ctx, queries.GetAPIKeyParams{OrgID: dash, ID: id})
				if err != nil {
					return m, err
				}
				m.DashMinSeq = k.Seq
			}
		}
	}

	for i := range spec.Products {
		id := randid.New("prod")
		if err := q.CreateProduct(ctx, queries.CreateProductParams{
			ID: id, OrgID: m.OrgID, Name: fmt.Sprintf("Seeded product %d", i),
			PriceCents: int64(100 + i%100000), CreatedAt: now + int64(i),
			KeyID: sql.NullString{String: m.KeyID, Valid: m.KeyID != ""},
		}); err != nil {
			return m, err
		}
		if i == 0 {
			p, err := q.GetProduct(ctx, queries.GetProductParams{OrgID: m.OrgID, ID: id})
			if err != nil {
				return m, err
			}
			m.MinSeq = p.Seq
		}
	}
	if err := tx.Commit(); err != nil {
		return m, err
	}
	if err := keys.Close(); err != nil {
		return m, err
	}
	m.Took = time.Since(start)
	return m, db.Close()
}

type seeder struct {
	ctx context.Context
	q   *queries.Queries
	now int64
}

func (s *seeder) org(name string) (string, error) {
	id := randid.New("org")
	return id, s.q.CreateOrganization(s.ctx, queries.CreateOrganizationParams{ID: id, Name: name, CreatedAt: s.now})
}

// key makes a real key, so hashes have the distribution production ones have.
func (s *seeder) key(org, name string) (key, id string, err error) {
	key, err = apikey.Generate()
	if err != nil {
		return "", "", err
	}
	h := apikey.Hash(key)
	id = randid.New("key")
	err = s.q.CreateAPIKey(s.ctx, queries.CreateAPIKeyParams{
		ID: id, OrgID: org, Name: name, Hash: h[:], Hint: apikey.Hint(key),
		Scopes: strings.Join(keyauth.AllScopes, " "), CreatedAt: s.now,
	})
	return key, id, err
}

// ReadKeys reads a keys file written by Seed.
func ReadKeys(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	keys := strings.Fields(string(b))
	if len(keys) == 0 {
		return nil, errors.New("seed: no keys in " + path)
	}
	return keys, nil
}
