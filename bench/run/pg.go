package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"keyport/bench/seed"
	"keyport/migrations"
)

// pgDatabase is the database the servers share in a benchmark cluster.
const pgDatabase = "keyport"

// pgCluster is a throwaway PostgreSQL cluster (scripts/pgcluster).
type pgCluster struct {
	root, dir string
	base      *url.URL
	pid       int // the postmaster's
}

// startCluster starts a cluster on a copy of the data directory data, or on a new one
// when data is "".
func startCluster(c *config, data string, durable bool) (*pgCluster, error) {
	args := []string{"start"}
	if data != "" {
		args = append(args, data)
	}
	cmd := exec.Command(filepath.Join(c.root, "scripts", "pgcluster"), args...)
	if durable {
		cmd.Env = append(os.Environ(), "PGCLUSTER_DURABLE=1")
	}
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("scripts/pgcluster start: %w", err)
	}
	lines := strings.Fields(string(out))
	if len(lines) != 2 {
		return nil, fmt.Errorf("scripts/pgcluster start printed %q", out)
	}
	cl := &pgCluster{root: c.root, dir: lines[0]}
	if cl.base, err = url.Parse(lines[1]); err != nil {
		cl.stop()
		return nil, err
	}
	pidFile, err := os.ReadFile(filepath.Join(cl.dir, "data", "postmaster.pid"))
	if err == nil {
		cl.pid, err = strconv.Atoi(strings.SplitN(string(pidFile), "\n", 2)[0])
	}
	if err != nil {
		cl.stop()
		return nil, fmt.Errorf("the cluster's postmaster.pid: %w", err)
	}
	return cl, nil
}

// url is the URL of the cluster's database db.
func (cl *pgCluster) url(db string) string {
	u := *cl.base
	u.Path = "/" + db
	return u.String()
}

func (cl *pgCluster) stop() {
	exec.Command(filepath.Join(cl.root, "scripts", "pgcluster"), "stop", cl.dir).Run()
}

// cpuTime is the CPU time the cluster has used so far: the postmaster's, its backends'
// and other workers', and that of those that have exited.
func (cl *pgCluster) cpuTime() (time.Duration, error) {
	pm, err := readStat(cl.pid)
	if err != nil {
		return 0, err
	}
	total := pm.cpu + pm.children
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		// A process may exit between the listing and the read: its time is then in
		// the postmaster's children's, read before.
		if st, err := readStat(pid); err == nil && st.ppid == cl.pid {
			total += st.cpu
		}
	}
	return total, nil
}

// pgSeed returns the data directory of a stopped cluster whose database pgDatabase holds
// the dataset m: cached under c.data, keyed by the SQLite seed, the PostgreSQL schema and
// the PostgreSQL version, and made by `keyport import-sqlite` (COPY) from the seeded
// SQLite file when missing, so both engines serve the same rows, keys and seqs. The
// leading number of the key changes when what the import leaves changes (2: vacuumed).
func pgSeed(ctx context.Context, c *config, m seed.Manifest) (string, error) {
	version, err := exec.Command("bash", "-c", `ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1`).Output()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "2 %s %s\n", filepath.Base(filepath.Dir(m.DB)), version)
	for _, s := range migrations.All().Postgres {
		h.Write([]byte(s))
	}
	dir := filepath.Join(c.data, "pg-"+m.Spec.Name+"-"+hex.EncodeToString(h.Sum(nil))[:12])
	data, done := filepath.Join(dir, "data"), filepath.Join(dir, "done")
	if _, err := os.Stat(done); err == nil {
		return data, nil
	}
	logf("seeding %s on PostgreSQL (import-sqlite from %s; cached in %s)", m.Spec.Name, m.DB, dir)
	start := time.Now()
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	cl, err := startCluster(c, "", false)
	if err != nil {
		return "", err
	}
	saved := false
	defer func() {
		if !saved {
			cl.stop()
		}
	}()
	conn, err := pgx.Connect(ctx, cl.url("postgres"))
	if err != nil {
		return "", err
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgDatabase)
	conn.Close(ctx)
	if err != nil {
		return "", err
	}
	out, err := exec.CommandContext(ctx, c.keyport, "import-sqlite", "-from", m.DB, "-to", cl.url(pgDatabase)).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("keyport import-sqlite: %w: %s", err, out)
	}
	// A clean stop, so the copies start without recovery; the marker is written last:
	// its presence means the data directory is complete.
	saved = true
	if out, err := exec.Command(filepath.Join(c.root, "scripts", "pgcluster"), "save", cl.dir, data).CombinedOutput(); err != nil {
		return "", fmt.Errorf("scripts/pgcluster save: %w: %s", err, out)
	}
	logf("seeded %s on PostgreSQL in %s", m.Spec.Name, time.Since(start).Round(time.Second))
	return data, os.WriteFile(done, nil, 0o644)
}
