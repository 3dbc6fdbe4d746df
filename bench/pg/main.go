// Command pg is make bench's PostgreSQL rows: POST /api/products through keyport on
// PostgreSQL against the floor (bench/floor) doing the same INSERT with pgx on the same
// cluster and database, under wrk, in alternating turns (ABBA), reported as a ratio in
// one run. It starts a throwaway cluster (scripts/pgcluster) unless -url names one.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench/pg:", err)
		os.Exit(1)
	}
}

func run() error {
	pgURL := flag.String("url", "", "a PostgreSQL cluster whose user may create databases (default: a throwaway one)")
	d := flag.Duration("d", 10*time.Second, "measured time per server, split into -rounds turns")
	rounds := flag.Int("rounds", 2, "turns per server, in ABBA order")
	conns := flag.Int("c", 32, "wrk connections")
	flag.Parse()
	ctx := context.Background()
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "keyport-bench-pg-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	if *pgURL == "" {
		out, err := exec.Command(filepath.Join(root, "scripts", "pgcluster"), "start").Output()
		if err != nil {
			return fmt.Errorf("scripts/pgcluster start: %w", err)
		}
		lines := strings.Fields(string(out))
		defer exec.Command(filepath.Join(root, "scripts", "pgcluster"), "stop", lines[0]).Run()
		*pgURL = lines[1]
	}
	name := fmt.Sprintf("keyport_bench_%d", time.Now().UnixNano())
	if out, err := exec.Command("psql", *pgURL, "-qc", "CREATE DATABASE "+name).CombinedOutput(); err != nil {
		return fmt.Errorf("create database: %v: %s", err, out)
	}
	u, err := url.Parse(*pgURL)
	if err != nil {
		return err
	}
	u.Path = "/" + name
	dbURL := u.String()

	for _, b := range []struct{ out, pkg string }{{"keyport", "."}, {"floor", "./bench/floor"}} {
		if out, err := exec.Command("go", "build", "-o", filepath.Join(dir, b.out), b.pkg).CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %v: %s", b.pkg, err, out)
		}
	}
	keyport := filepath.Join(dir, "keyport")
	cmd := exec.Command(keyport, "user", "create", "--email", "bench@example.com", "--org", "Bench", "-db", dbURL)
	cmd.Stdin = strings.NewReader("bench password 8a7f\n")
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("keyport user create: %w", err)
	}
	ids := strings.Fields(string(out)) // usr_… org_…
	key, err := exec.Command(keyport, "key", "create", "--email", "bench@example.com", "--name", "bench", "-db", dbURL).Output()
	if err != nil {
		return fmt.Errorf("keyport key create: %w", err)
	}
	list, err := exec.Command(keyport, "key", "list", "--json", "-db", dbURL).Output()
	if err != nil {
		return err
	}
	var keys []struct{ ID string }
	if err := json.Unmarshal(list, &keys); err != nil || len(keys) != 1 {
		return fmt.Errorf("key list: %v: %s", err, list)
	}
	keysFile := filepath.Join(dir, "keys")
	if err := os.WriteFile(keysFile, key, 0o600); err != nil {
		return err
	}

	kpAddr, floorAddr := freeAddr(), freeAddr()
	servers := []*exec.Cmd{
		exec.Command(keyport, "serve", "-addr", kpAddr, "-db", dbURL, "-key-rate-limit", "100000000"),
		exec.Command(filepath.Join(dir, "floor"), "-addr", floorAddr, "-db", dbURL, "-org", ids[1], "-key", keys[0].ID),
	}
	logs := filepath.Join(dir, "servers.log")
	logFile, err := os.Create(logs)
	if err != nil {
		return err
	}
	defer logFile.Close()
	for _, s := range servers {
		s.Stderr = logFile
		if err := s.Start(); err != nil {
			return err
		}
		defer func() { s.Process.Signal(os.Interrupt); s.Wait() }()
	}
	for _, u := range []string{"http://" + kpAddr + "/healthz", "http://" + floorAddr + "/nowork"} {
		if err := waitUp(u); err != nil {
			b, _ := os.ReadFile(logs)
			return fmt.Errorf("%w\n%s", err, b)
		}
	}

	body := `{"name":"Widget","price":9.99}`
	script := filepath.Join(root, "bench", "wrk.lua")
	targets := []struct {
		name, url, keys string
	}{
		{"keyport", "http://" + kpAddr + "/api/products", keysFile},
		{"floor (pgx INSERT)", "http://" + floorAddr + "/products", "-"},
	}
	reqs := make([]float64, 2)
	turn := *d / time.Duration(*rounds)
	for r := range *rounds {
		order := []int{0, 1}
		if r%2 == 1 {
			order = []int{1, 0}
		}
		for _, i := range order {
			t := targets[i]
			path := t.url[strings.Index(t.url[7:], "/")+7:]
			out, err := exec.CommandContext(ctx, "wrk", "-t", "2", "-c", strconv.Itoa(*conns), "-d", fmt.Sprintf("%ds", int(turn.Seconds())),
				"-s", script, t.url, "--", "POST", path, body, t.keys).Output()
			if err != nil {
				return fmt.Errorf("wrk %s: %w", t.name, err)
			}
			m := regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`).FindSubmatch(out)
			if m == nil {
				return fmt.Errorf("wrk %s printed no rate: %s", t.name, out)
			}
			n, _ := strconv.ParseFloat(string(m[1]), 64)
			if bad := regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`).FindSubmatch(out); bad != nil {
				return fmt.Errorf("wrk %s: %s answers were not 201", t.name, bad[1])
			}
			reqs[i] += n / float64(*rounds)
		}
	}
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintf(w, "\nPostgreSQL rows (same cluster and database, %d wrk connections, %v per server):\n", *conns, *d)
	fmt.Fprintf(w, "| row | req/s | vs floor |\n|---|---|---|\n")
	fmt.Fprintf(w, "| POST /api/products, keyport on PostgreSQL | %.0f | %.2f |\n", reqs[0], reqs[0]/reqs[1])
	fmt.Fprintf(w, "| POST /products, floor (pgx INSERT) | %.0f | 1.00 |\n", reqs[1])
	return w.Flush()
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitUp(u string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(u); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s not up after 30 s", u)
}
