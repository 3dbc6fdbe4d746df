// Command run is keyport's load benchmark (`make bench`). It builds keyport and the floor
// servers (bench/floor, bench/bare), seeds databases (cached between runs), then for each
// dataset starts them on loopback and runs wrk against them scenario by scenario, keyport
// and its baselines interleaved, and prints one table of requests/s, p50, p99, CPU per
// request and peak RSS with each keyport figure as a ratio to its baseline from the same
// run. Every dataset runs on SQLite, then, when PostgreSQL is installed, again on a
// throwaway PostgreSQL cluster (scripts/pgcluster) that keyport and the floors share.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/bits"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"keyport/apikey"
	"keyport/bench/seed"
	"keyport/input"
	"keyport/migrations"
)

var datasets = []seed.Spec{
	{Name: "1k", ActiveKeys: 1000, Products: 1000},
	{Name: "1m", ActiveKeys: 1000, OtherKeys: 1_000_000 - 1000 - 10_000, Products: 1_000_000, DashKeys: 10_000},
}

type config struct {
	root, out, data   string
	duration, warmup  time.Duration
	conns, threads    int
	repeat, rounds    int
	datasets, only    string
	engines           string
	pgDurable, pgAll  bool
	profile, turns    bool
	together          bool
	rateLimit         string
	unknownKeys       int
	keyport, floorBin string
	bareBin           string
}

func main() {
	var c config
	flag.StringVar(&c.out, "out", "bench/results", "directory for binaries, logs, working copies and results")
	flag.StringVar(&c.data, "data", "bench/results/seed", "directory that caches seeded databases")
	flag.DurationVar(&c.duration, "d", 20*time.Second, "measured duration of each row, over all its turns")
	flag.DurationVar(&c.warmup, "warmup", 2*time.Second, "unmeasured wrk run before each row's first turn")
	flag.IntVar(&c.conns, "c", 32, "wrk connections")
	flag.IntVar(&c.threads, "t", 2, "wrk threads")
	flag.IntVar(&c.rounds, "rounds", 4, "split each row's measured time into this many turns, taken in Thue–Morse order (ABBA BAAB…) with the rows it is compared to")
	flag.IntVar(&c.repeat, "repeat", 1, "run everything this many times and report the spread")
	flag.StringVar(&c.datasets, "datasets", "1k,1m", "datasets to run, comma-separated")
	flag.StringVar(&c.engines, "engines", "sqlite,postgres", "engines to run every dataset on, comma-separated (postgres is skipped when PostgreSQL is not installed)")
	flag.BoolVar(&c.pgDurable, "pg-durable", false, "run the PostgreSQL cluster with PostgreSQL's default durability (fsync, synchronous_commit) instead of without it, as the tests do")
	flag.BoolVar(&c.pgAll, "pg-all", false, "run every row on PostgreSQL, not only those in pgScenarios")
	flag.StringVar(&c.only, "only", "", "run only the groups of rows with a scenario whose name contains this, or one of these separated by |")
	flag.BoolVar(&c.together, "together", false, "measure an engine's datasets at the same time, each row's turns on one dataset next to its turns on the other")
	flag.BoolVar(&c.turns, "turns", false, "log every turn's figures, not only each row's merged ones")
	flag.BoolVar(&c.profile, "pprof", false, "run keyport (bench/pprof) and the floor with a pprof listener and save a CPU profile of every run")
	flag.StringVar(&c.rateLimit, "key-rate-limit", "100000000", "keyport's per-key limit (requests a minute): on, but too high to trigger")
	flag.IntVar(&c.unknownKeys, "unknown-keys", 300_000, "distinct well-formed unknown keys to spray")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, &c); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c *config) error {
	var err error
	if c.root, err = repoRoot(); err != nil {
		return err
	}
	for _, p := range []*string{&c.out, &c.data} {
		if !filepath.IsAbs(*p) {
			*p = filepath.Join(c.root, *p)
		}
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		return errors.New("wrk not found: apt-get install wrk")
	}
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return err
	}
	c.keyport = filepath.Join(c.out, "keyport")
	c.floorBin = filepath.Join(c.out, "floor")
	c.bareBin = filepath.Join(c.out, "bare")
	pkg := "."
	if c.profile {
		pkg = "./bench/pprof"
	}
	logf("building keyport (%s) and the floor servers", pkg)
	for _, b := range [][2]string{{c.keyport, pkg}, {c.floorBin, "./bench/floor"}, {c.bareBin, "./bench/bare"}} {
		if err := goBuild(ctx, c.root, b[0], b[1]); err != nil {
			return err
		}
	}
	unknown, badsum, err := attackKeys(c)
	if err != nil {
		return err
	}

	engines := strings.Split(c.engines, ",")
	var manifests []seed.Manifest
	for _, spec := range datasets {
		if !slices.Contains(strings.Split(c.datasets, ","), spec.Name) {
			continue
		}
		logf("seeding %s (%d keys, %d products; cached in %s)", spec.Name, spec.Keys(), spec.Products, c.data)
		m, err := seed.Cached(ctx, c.data, spec, migrations.All().SQLite)
		if err != nil {
			return fmt.Errorf("seed %s: %w", spec.Name, err)
		}
		logf("seeded %s in %s", spec.Name, m.Took.Round(time.Second))
		manifests = append(manifests, m)
	}
	var sets []dataset
	if slices.Contains(engines, sqlite) {
		for _, m := range manifests {
			sets = append(sets, dataset{engine: sqlite, m: m})
		}
	}
	if slices.Contains(engines, postgres) {
		if exec.Command(filepath.Join(c.root, "scripts", "pgcluster"), "found").Run() != nil {
			logf("no PostgreSQL rows: PostgreSQL is not installed")
			manifests = nil
		}
		for _, m := range manifests {
			data, err := pgSeed(ctx, c, m)
			if err != nil {
				return fmt.Errorf("seed %s on PostgreSQL: %w", m.Spec.Name, err)
			}
			sets = append(sets, dataset{engine: postgres, m: m, pgData: data})
		}
	}

	var all [][]result
	for rep := range c.repeat {
		var results []result
		for _, batch := range batches(sets, c.together) {
			var names []string
			for _, ds := range batch {
				names = append(names, ds.m.Spec.Name)
			}
			logf("run %d/%d, datasets %s on %s", rep+1, c.repeat, strings.Join(names, " and "), batch[0].engine)
			rs, err := runBatch(ctx, c, batch, unknown, badsum)
			if err != nil {
				return err
			}
			results = append(results, rs...)
		}
		all = append(all, results)
		fmt.Printf("\n## Run %d of %d (wrk -t%d -c%d, %s a row in %d turns)\n\n", rep+1, c.repeat, c.threads, c.conns, c.duration, c.rounds)
		printTable(os.Stdout, results)
		printScale(os.Stdout, results)
	}
	if c.repeat > 1 {
		printSpread(os.Stdout, all)
	}
	b, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(c.out, "results-"+time.Now().UTC().Format("20060102T150405Z")+".json")
	logf("raw results: %s", path)
	return os.WriteFile(path, b, 0o644)
}

// batches are the datasets measured at the same time: with together, every dataset of
// an engine; otherwise one by one.
func batches(sets []dataset, together bool) [][]dataset {
	var bs [][]dataset
	for _, ds := range sets {
		if n := len(bs); together && n > 0 && bs[n-1][0].engine == ds.engine {
			bs[n-1] = append(bs[n-1], ds)
		} else {
			bs = append(bs, []dataset{ds})
		}
	}
	return bs
}

// runBatch starts every dataset's servers, measures them, and stops them.
func runBatch(ctx context.Context, c *config, batch []dataset, unknown, badsum string) ([]result, error) {
	var beds []*bed
	defer func() {
		for _, b := range beds {
			b.stop()
		}
	}()
	for _, ds := range batch {
		b, err := startBed(ctx, c, ds, unknown, badsum)
		if err != nil {
			return nil, err
		}
		beds = append(beds, b)
	}
	return runBeds(ctx, c, beds)
}

// target is what wrk sends to one server.
type target struct {
	server  string // "keyport", "floor" or "bare"
	method  string
	path    string
	body    string
	keys    string   // file of keys sent in x-api-key, one a line; "" for none
	headers []string // extra headers, "Name: value"
	status  int      // every response must have it
}

// row is one line of the table: a scenario on one server, and the row it is compared to.
type row struct {
	scenario string
	t        target
	base     *ref
}

type ref struct{ scenario, server string }

// result is one row's measurement, merged over its rounds.
type result struct {
	Engine                    string // sqlite or postgres
	Dataset, Scenario, Server string
	Baseline                  *Ref `json:",omitempty"`
	Requests                  int
	RPS                       float64
	P50, P99                  time.Duration
	RSSKiB                    int64 // VmHWM of the server after the row's last round
	// CPUPerReq is the server's own CPU time (user + system) per request: unlike
	// requests/s it hardly moves with what else the machine is running. On PostgreSQL it
	// includes the cluster's (DBCPUPerReq), which serves one server at a time.
	CPUPerReq   time.Duration
	DBCPUPerReq time.Duration `json:",omitempty"`
	// WritesPerCommit is keyport's mean group commit batch during the row: writes per
	// transaction (0 when it committed none).
	WritesPerCommit float64 `json:",omitempty"`
	Note            string
}

// Ref names a row in the same dataset.
type Ref struct{ Scenario, Server string }

// The counting's cost: the valid-key POST with per-key usage counting on, as keyport
// ships, against a second keyport process with it off (-key-usage=false).
const (
	usageOn  = "POST /api/products, usage counted"
	usageOff = "POST /api/products, usage not counted"
	noUsage  = "keyport -key-usage=false"
)

// pgScenarios are the rows make bench runs on PostgreSQL too (all of them with -pg-all):
// the ones where the database does the work, and the no-work route they are read against.
var pgScenarios = []string{"no-work route", "403 unknown key", "POST /api/products", "GET first page"}

// groups lists the rows by the group they are measured in: the rows of a group take turns
// within one stretch of time, so each is compared with its baseline under the same load
// from everything else on the machine.
func groups(m seed.Manifest, rootKey, unknown, badsum, dashCookie string) [][]row {
	const body = `{"name":"Widget","price":9.99}`
	deep := m.MinSeq + 21
	kp := func(t target) target { t.server = "keyport"; return t }
	fl := func(t target) target { t.server = "floor"; return t }
	bare := func(t target) target { t.server = "bare"; return t }
	vsFloor := func(s string) *ref { return &ref{s, "floor"} }
	const post = "POST /api/products"
	const noWork = "no-work route"
	gs := [][]row{
		{
			{noWork, kp(target{method: "GET", path: "/api/none", keys: m.KeysFile, status: 404}), vsFloor(noWork)},
			{noWork, fl(target{method: "GET", path: "/nowork", keys: m.KeysFile, status: 200}), nil},
			{"403 unknown key", kp(target{method: "GET", path: "/api/products", keys: unknown, status: 403}), &ref{noWork, "keyport"}},
			{"403 bad checksum", kp(target{method: "GET", path: "/api/products", keys: badsum, status: 403}), &ref{noWork, "keyport"}},
			// The key service: every seeded key is also a root key. Verify: the key in
			// x-api-key asks about the next one; forward auth: one root key, the client's
			// key rotating.
			{"POST /api/v1/keys/verify", kp(target{method: "POST", path: "/api/v1/keys/verify",
				body: `{"key":"{{key}}","scopes":["products:read"]}`, keys: m.KeysFile, status: 200}), &ref{noWork, "keyport"}},
			{"GET /api/v1/forward-auth", kp(target{method: "GET", path: "/api/v1/forward-auth?scopes=products:read",
				keys: m.KeysFile, headers: []string{"X-Keyport-Root-Key: " + rootKey}, status: 204}), &ref{noWork, "keyport"}},
		},
		// The bare floor is the goal for keyport's insert; the floor beside it shows what
		// keyport's schema costs by itself.
		{
			{post, kp(target{method: "POST", path: "/api/products", body: body, keys: m.KeysFile, status: 201}), &ref{post, "bare"}},
			{post, fl(target{method: "POST", path: "/products", body: body, keys: m.KeysFile, status: 201}), &ref{post, "bare"}},
			{post, bare(target{method: "POST", path: "/items", body: body, status: 201}), nil},
		},
		{
			{usageOn, kp(target{method: "POST", path: "/api/products", body: body, keys: m.KeysFile, status: 201}), &ref{usageOff, noUsage}},
			{usageOff, target{server: noUsage, method: "POST", path: "/api/products", body: body, keys: m.KeysFile, status: 201}, nil},
		},
		{
			{"GET first page", kp(target{method: "GET", path: "/api/products", keys: m.KeysFile, status: 200}), vsFloor("GET first page")},
			{"GET first page", fl(target{method: "GET", path: "/products", keys: m.KeysFile, status: 200}), nil},
		},
		{
			{"GET deep page", kp(target{method: "GET", path: "/api/products?cursor=" + input.EncodeCursor(deep), keys: m.KeysFile, status: 200}), vsFloor("GET deep page")},
			{"GET deep page", fl(target{method: "GET", path: "/products?before=" + strconv.FormatInt(deep, 10), keys: m.KeysFile, status: 200}), nil},
		},
	}
	if dashCookie != "" {
		cookie := "Cookie: " + dashCookie
		const first = "dashboard keys first page"
		gs = append(gs, []row{
			{first, kp(target{method: "GET", path: "/dashboard/integrations/api", headers: []string{cookie}, status: 200}), nil},
			{"dashboard keys deep page", kp(target{method: "GET",
				path:    "/dashboard/integrations/api?cursor=" + input.EncodeCursor(m.DashMinSeq+51),
				headers: []string{cookie, "HX-Request: true"}, status: 200}), &ref{first, "keyport"}},
		})
	}
	return gs
}

// The engines a dataset runs on.
const (
	sqlite   = "sqlite"
	postgres = "postgres"
)

// dataset is a seeded dataset on one engine.
type dataset struct {
	engine string
	m      seed.Manifest
	pgData string // PostgreSQL: the cached data directory of a stopped cluster holding it
}

// bed is a dataset on one engine with its servers up, and the groups of rows to measure
// on it.
type bed struct {
	ds      dataset
	servers map[string]server
	groups  [][]row
	stops   []func() // in the order to call them
}

func (b *bed) stop() {
	for _, f := range b.stops {
		f()
	}
}

func startBed(ctx context.Context, c *config, ds dataset, unknown, badsum string) (_ *bed, err error) {
	b := &bed{ds: ds, servers: map[string]server{}}
	defer func() {
		if err != nil {
			b.stop()
		}
	}()
	m := ds.m
	work := filepath.Join(c.out, "work-"+m.Spec.Name)
	if ds.engine != sqlite {
		work += "-" + ds.engine
	}
	if err := os.RemoveAll(work); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, err
	}
	// Every server uses one database: a copy of the seeded file, or a cluster started on
	// a copy of the seeded data directory, so each run starts from the same data.
	db, bareDB := filepath.Join(work, "keyport.db"), filepath.Join(work, "bare.db")
	var cluster *pgCluster
	if ds.engine == postgres {
		var err error
		if cluster, err = startCluster(c, ds.pgData, c.pgDurable); err != nil {
			return nil, err
		}
		b.stops = append(b.stops, cluster.stop)
		db, bareDB = cluster.url(pgDatabase), cluster.url(pgDatabase)
	} else if err := copyFile(m.DB, db); err != nil {
		return nil, err
	}

	// Each server the rows name: its binary, flags, and the path that answers 200 once
	// it is up. A new baseline is one more entry here and its rows in groups.
	specs := []struct {
		name, bin, health string
		args, env         []string
	}{
		{"keyport", c.keyport, "/healthz", []string{"serve", "-db", db},
			[]string{"KEYPORT_KEY_RATE_LIMIT=" + c.rateLimit, "KEYPORT_BENCH_ROOT=" + c.root}},
		// The same binary and database with per-key usage counting off: the baseline of
		// the counting's cost.
		{noUsage, c.keyport, "/healthz", []string{"serve", "-db", db},
			[]string{"KEYPORT_KEY_RATE_LIMIT=" + c.rateLimit, "KEYPORT_BENCH_ROOT=" + c.root, "KEYPORT_KEY_USAGE=false"}},
		{"floor", c.floorBin, "/nowork", []string{"-db", db, "-org", m.OrgID, "-key", m.KeyID}, nil},
		{"bare", c.bareBin, "/nowork", []string{"-db", bareDB}, nil},
	}
	for _, sp := range specs {
		addr, pprof := freeAddr(), freeAddr()
		args, env := append(sp.args, "-addr", addr), sp.env
		if sp.bin == c.keyport {
			env = append(env, "KEYPORT_BENCH_PPROF="+pprof)
		} else if c.profile {
			args = append(args, "-pprof", pprof)
		}
		p, err := start(c, filepath.Join(work, slug(sp.name)+".log"), env, sp.bin, args...)
		if err != nil {
			return nil, err
		}
		// Servers stop before the cluster they use.
		b.stops = append([]func(){p.stop}, b.stops...)
		b.servers[sp.name] = server{p, "http://" + addr, pprof, sp.bin == c.keyport, cluster}
	}
	for _, sp := range specs {
		if err := waitUp(ctx, b.servers[sp.name].base+sp.health); err != nil {
			return nil, fmt.Errorf("%s: %w (log: %s)", sp.name, err, b.servers[sp.name].p.log)
		}
	}
	var cookie string
	if m.DashEmail != "" {
		if cookie, err = login(b.servers["keyport"].base, m.DashEmail, m.DashPass); err != nil {
			return nil, err
		}
	}
	keys, err := seed.ReadKeys(m.KeysFile)
	if err != nil {
		return nil, err
	}
	for _, g := range groups(m, keys[0], unknown, badsum, cookie) {
		if ds.engine == postgres && !c.pgAll {
			g = slices.DeleteFunc(g, func(r row) bool { return !slices.Contains(pgScenarios, r.scenario) })
		}
		if len(g) == 0 || !c.wants(g) {
			continue
		}
		b.groups = append(b.groups, g)
	}
	return b, nil
}

// wants reports whether -only asks for group g.
func (c *config) wants(g []row) bool {
	if c.only == "" {
		return true
	}
	return slices.ContainsFunc(strings.Split(c.only, "|"), func(part string) bool {
		return slices.ContainsFunc(g, func(r row) bool { return strings.Contains(r.scenario, part) })
	})
}

// slot is one row on one bed, and its turns so far.
type slot struct {
	b    *bed
	r    row
	runs []wrkRun
}

// runBeds measures the beds' groups. A group's rows on every bed take their turns
// together (1k's rows, then 1m's, then back), so that a row is compared with its
// baseline, and with itself on the other dataset, under the same load from the rest of
// the machine. It returns the results bed by bed.
func runBeds(ctx context.Context, c *config, beds []*bed) ([]result, error) {
	// Groups are matched across beds by their first row: a dataset may lack a group.
	var names []string
	for _, b := range beds {
		for _, g := range b.groups {
			if !slices.Contains(names, g[0].scenario) {
				names = append(names, g[0].scenario)
			}
		}
	}
	perBed := make([][]result, len(beds))
	for _, name := range names {
		var slots []*slot
		for _, b := range beds {
			for _, g := range b.groups {
				if g[0].scenario == name {
					for _, r := range g {
						slots = append(slots, &slot{b: b, r: r})
					}
				}
			}
		}
		for _, s := range slots {
			srv := s.b.servers[s.r.t.server]
			if err := probe(srv.base, s.r.t); err != nil {
				return nil, fmt.Errorf("%s on %s: %w", s.r.scenario, s.r.t.server, err)
			}
			if c.warmup > 0 {
				if _, err := wrk(ctx, c, c.warmup, srv.base, s.r.t); err != nil {
					return nil, err
				}
			}
		}
		for round := range c.rounds {
			for j := range slots {
				if err := measureTurn(ctx, c, slots[turnOrder(round, j, len(slots))], round); err != nil {
					return nil, err
				}
			}
		}
		for _, s := range slots {
			ds := s.b.ds
			res := merge(s.runs, s.r.t.status)
			res.Engine, res.Dataset, res.Scenario, res.Server = ds.engine, ds.m.Spec.Name, s.r.scenario, s.r.t.server
			if s.r.base != nil {
				res.Baseline = &Ref{s.r.base.scenario, s.r.base.server}
			}
			var err error
			if res.RSSKiB, err = s.b.servers[s.r.t.server].p.peakRSS(); err != nil {
				return nil, err
			}
			logf("  %-8s %-3s %-28s %-7s %8.0f req/s  p50 %-9s p99 %-9s cpu/req %-7s rss %3d MiB %s", ds.engine, ds.m.Spec.Name, res.Scenario, res.Server, res.RPS,
				res.P50.Round(time.Microsecond), res.P99.Round(time.Microsecond), res.CPUPerReq.Round(time.Microsecond), res.RSSKiB>>10, res.Note)
			i := slices.Index(beds, s.b)
			perBed[i] = append(perBed[i], res)
		}
	}
	return slices.Concat(perBed...), nil
}

// turnOrder is the slot that takes the j-th turn of a round. Rounds go forward or
// backward in the Thue–Morse order (forward, backward, backward, forward, ...: ABBA BAAB
// for two rows), so that a steady drift in the machine's load weighs on every row alike,
// and, for two rows over four rounds, a drift that bends once too.
func turnOrder(round, j, n int) int {
	if bits.OnesCount(uint(round))%2 == 1 {
		return n - 1 - j
	}
	return j
}

// measureTurn runs one turn of a slot's row and adds it to the slot.
func measureTurn(ctx context.Context, c *config, s *slot, round int) error {
	r, srv := s.r, s.b.servers[s.r.t.server]
	var prof string
	if c.profile {
		prof = filepath.Join(c.out, fmt.Sprintf("cpu-%s-%s-%s-%d.pprof", slug(data(result{Engine: s.b.ds.engine, Dataset: s.b.ds.m.Spec.Name})), slug(r.scenario), slug(r.t.server), round))
	}
	cpu0, db0, err := srv.cpuTime()
	if err != nil {
		return err
	}
	b0 := srv.batches()
	w, err := measure(ctx, c, c.duration/time.Duration(c.rounds), srv.base, r.t, prof, srv.pprof)
	if err != nil {
		return fmt.Errorf("%s on %s: %w", r.scenario, r.t.server, err)
	}
	cpu1, db1, err := srv.cpuTime()
	if err != nil {
		return err
	}
	w.cpu, w.dbCPU = cpu1-cpu0, db1-db0
	b1 := srv.batches()
	w.commits, w.writes = b1.commits-b0.commits, b1.writes-b0.writes
	s.runs = append(s.runs, w)
	if c.turns {
		t := merge([]wrkRun{w}, r.t.status)
		logf("    turn %d %-3s %-28s %-7s %8.0f req/s  p99 %-9s cpu/req %-7s writes/commit %.1f", round+1, s.b.ds.m.Spec.Name, r.scenario, r.t.server,
			t.RPS, t.P99.Round(time.Microsecond), t.CPUPerReq.Round(100*time.Nanosecond), t.WritesPerCommit)
	}
	return nil
}

// server is one running server under test.
type server struct {
	p           *proc
	base, pprof string // its URL, and its pprof listener's address
	keyport     bool
	cluster     *pgCluster // the PostgreSQL cluster it uses, or nil
}

// cpuTime is the CPU time the server has used so far, counting its cluster's: then
// the part that was the cluster's.
func (s server) cpuTime() (total, db time.Duration, err error) {
	if total, err = s.p.cpuTime(); err != nil || s.cluster == nil {
		return total, 0, err
	}
	db, err = s.cluster.cpuTime()
	return total + db, db, err
}

// batchCount is what a keyport's keyport_write_batch_size histogram says so far.
type batchCount struct{ commits, writes float64 }

var batchLine = regexp.MustCompile(`(?m)^keyport_write_batch_size_(sum|count) (\S+)$`)

// batches reads a keyport's group commit figures from its metrics; zero for others, and
// when they cannot be read (the row then shows no batch size).
func (s server) batches() batchCount {
	var b batchCount
	if !s.keyport {
		return b
	}
	resp, err := http.Get(s.base + "/metrics")
	if err != nil {
		return b
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(resp.Body)
	for _, m := range batchLine.FindAllStringSubmatch(string(text), -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		if m[1] == "sum" {
			b.writes = v
		} else {
			b.commits = v
		}
	}
	return b
}

// wrkRun is what wrk.lua prints for one run.
type wrkRun struct {
	Requests    int           `json:"requests"`
	DurationUS  int64         `json:"duration_us"`
	Non2xx      int           `json:"non2xx"`
	Connect     int           `json:"connect"`
	Read        int           `json:"read"`
	Write       int           `json:"write"`
	Timeout     int           `json:"timeout"`
	MinUS       float64       `json:"min_us"`
	MaxUS       float64       `json:"max_us"`
	QuantilesUS []float64     `json:"quantiles_us"`
	cpu         time.Duration // the server's CPU time during the run (with its cluster's)
	dbCPU       time.Duration // its cluster's part of it
	// keyport's group commit during the run: transactions, and writes in them
	commits, writes float64
}

func measure(ctx context.Context, c *config, d time.Duration, base string, t target, profile, pprofAddr string) (wrkRun, error) {
	var w wrkRun
	done := make(chan error, 1)
	if profile != "" {
		go func() { done <- saveProfile(pprofAddr, d, profile) }()
	}
	out, err := wrk(ctx, c, d, base, t)
	if err != nil {
		return w, err
	}
	if profile != "" {
		if err := <-done; err != nil {
			logf("profile: %v", err)
		}
	}
	if err := json.Unmarshal(out, &w); err != nil {
		return w, fmt.Errorf("wrk output: %w: %s", err, out)
	}
	if len(w.QuantilesUS) != len(quantileGrid) {
		return w, fmt.Errorf("wrk output: %d quantiles, want %d", len(w.QuantilesUS), len(quantileGrid))
	}
	return w, nil
}

// merge combines a row's rounds: requests/s over their total time, and percentiles of
// the pooled latency distribution.
func merge(runs []wrkRun, status int) result {
	var r result
	var us int64
	var bad, sock int
	var cpu, dbCPU time.Duration
	var commits, writes float64
	for _, w := range runs {
		cpu += w.cpu
		dbCPU += w.dbCPU
		commits += w.commits
		writes += w.writes
		r.Requests += w.Requests
		us += w.DurationUS
		// wrk counts statuses outside 2xx/3xx as errors: all of them when the scenario
		// expects an error status, none otherwise.
		if status >= 400 {
			bad += w.Requests - w.Non2xx
		} else {
			bad += w.Non2xx
		}
		sock += w.Connect + w.Read + w.Write + w.Timeout
	}
	r.RPS = float64(r.Requests) / (float64(us) / 1e6)
	if commits > 0 {
		r.WritesPerCommit = writes / commits
	}
	if r.Requests > 0 {
		r.CPUPerReq = cpu / time.Duration(r.Requests)
		r.DBCPUPerReq = dbCPU / time.Duration(r.Requests)
	}
	r.P50 = time.Duration(pooledQuantile(runs, 50) * float64(time.Microsecond))
	r.P99 = time.Duration(pooledQuantile(runs, 99) * float64(time.Microsecond))
	var notes []string
	if bad > 0 {
		notes = append(notes, fmt.Sprintf("%d of %d responses had an unexpected status", bad, r.Requests))
	}
	if sock > 0 {
		notes = append(notes, fmt.Sprintf("%d socket errors", sock))
	}
	r.Note = strings.Join(notes, "; ")
	return r
}

// quantileGrid is the percentiles wrk.lua prints, in order.
var quantileGrid = func() []float64 {
	var g []float64
	for p := 0.5; p <= 99.5; p += 0.5 {
		g = append(g, p)
	}
	return append(g, 99.6, 99.7, 99.8, 99.9)
}()

// cdf estimates the share of a run's requests that took at most x µs, interpolating
// between the printed percentiles.
func (w wrkRun) cdf(x float64) float64 {
	q := w.QuantilesUS
	switch {
	case x < w.MinUS:
		return 0
	case x >= w.MaxUS:
		return 1
	case x < q[0]:
		return quantileGrid[0] / 100 * (x - w.MinUS) / max(q[0]-w.MinUS, 1)
	}
	for i := len(q) - 1; i >= 0; i-- {
		if q[i] <= x {
			lo, hi, plo, phi := q[i], w.MaxUS, quantileGrid[i], 100.0
			if i+1 < len(q) {
				hi, phi = q[i+1], quantileGrid[i+1]
			}
			if hi <= lo {
				return plo / 100
			}
			return (plo + (phi-plo)*(x-lo)/(hi-lo)) / 100
		}
	}
	return 0
}

// pooledQuantile is the p-th percentile of all the runs' requests taken together.
func pooledQuantile(runs []wrkRun, p float64) float64 {
	lo, hi := runs[0].MinUS, runs[0].MaxUS
	var n float64
	for _, w := range runs {
		lo, hi = min(lo, w.MinUS), max(hi, w.MaxUS)
		n += float64(w.Requests)
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		var below float64
		for _, w := range runs {
			below += float64(w.Requests) * w.cdf(mid)
		}
		if below/n >= p/100 {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

func wrk(ctx context.Context, c *config, d time.Duration, base string, t target) ([]byte, error) {
	// wrk takes whole seconds: a turn of 2.5 s is a run of 4 s that is interrupted after
	// 2.5 s (wrk then stops its threads and reports what it measured, over the time it ran).
	secs := int(math.Ceil(d.Seconds()))
	whole := time.Duration(secs)*time.Second == d
	if !whole {
		secs++
	}
	args := []string{"-t", strconv.Itoa(c.threads), "-c", strconv.Itoa(c.conns), "-d", fmt.Sprintf("%ds", secs),
		"--timeout", "10s", "-s", filepath.Join(c.root, "bench", "wrk.lua")}
	for _, h := range t.headers {
		args = append(args, "-H", h)
	}
	body, keys := t.body, t.keys
	if body == "" {
		body = "-"
	}
	if keys == "" {
		keys = "-"
	}
	args = append(args, base+t.path, "--", t.method, t.path, body, keys)
	cmd := exec.CommandContext(ctx, "wrk", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	if !whole {
		stop := time.AfterFunc(d, func() { cmd.Process.Signal(os.Interrupt) })
		defer stop.Stop()
	}
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("wrk: %w: %s", err, stderr.Bytes())
	}
	out := stdout.Bytes()
	for line := range strings.Lines(string(out)) {
		if rest, ok := strings.CutPrefix(line, "BENCH "); ok {
			return []byte(rest), nil
		}
	}
	return nil, fmt.Errorf("wrk printed no result: %s", out)
}

// probe sends the scenario's request once and checks its status, so a table never shows
// the speed of the wrong answer.
func probe(base string, t target) error {
	var keys []string
	if t.keys != "" {
		var err error
		if keys, err = seed.ReadKeys(t.keys); err != nil {
			return err
		}
	}
	var body io.Reader
	if t.body != "" {
		b := t.body
		if len(keys) > 1 {
			b = strings.ReplaceAll(b, "{{key}}", keys[1]) // as wrk.lua fills it in
		}
		body = strings.NewReader(b)
	}
	req, err := http.NewRequest(t.method, base+t.path, body)
	if err != nil {
		return err
	}
	if t.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if len(keys) > 0 {
		req.Header.Set("x-api-key", keys[0])
	}
	for _, h := range t.headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(k, strings.TrimSpace(v))
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != t.status {
		return fmt.Errorf("%s %s: status %d, want %d: %.200s", t.method, t.path, resp.StatusCode, t.status, b)
	}
	return nil
}

var noRedirect = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func login(base, email, password string) (string, error) {
	resp, err := noRedirect.PostForm(base+"/login", url.Values{"email": {email}, "password": {password}})
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.Name == "keyport_session" {
			return ck.Name + "=" + ck.Value, nil
		}
	}
	return "", fmt.Errorf("login as %s: status %d and no session cookie", email, resp.StatusCode)
}

func saveProfile(addr string, d time.Duration, path string) error {
	client := &http.Client{Timeout: d + 10*time.Second}
	resp, err := client.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, max(1, int(d.Seconds()))))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("pprof: status %d", resp.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// attackKeys writes the keys for the 403 scenarios: well-formed keys that no database
// holds, enough that nearly every request sends one the server has not seen yet, and
// keys whose checksum is wrong.
func attackKeys(c *config) (unknown, badsum string, err error) {
	unknown = filepath.Join(c.out, fmt.Sprintf("unknown-%d.txt", c.unknownKeys))
	badsum = filepath.Join(c.out, "badsum.txt")
	if _, err := os.Stat(unknown); err != nil {
		if err := writeKeys(unknown, c.unknownKeys, func(k string) string { return k }); err != nil {
			return "", "", err
		}
	}
	if _, err := os.Stat(badsum); err != nil {
		flip := func(k string) string {
			last := byte('0')
			if k[len(k)-1] == '0' {
				last = '1'
			}
			return k[:len(k)-1] + string(last)
		}
		if err := writeKeys(badsum, 1000, flip); err != nil {
			return "", "", err
		}
	}
	return unknown, badsum, nil
}

func writeKeys(path string, n int, f func(string) string) error {
	var b bytes.Buffer
	for range n {
		k, err := apikey.Generate()
		if err != nil {
			return err
		}
		b.WriteString(f(k))
		b.WriteByte('\n')
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

type proc struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

func start(c *config, logPath string, env []string, bin string, args ...string) (*proc, error) {
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = c.root
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, err
	}
	p := &proc{cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		lf.Close()
		close(p.done)
	}()
	return p, nil
}

// peakRSS reads VmHWM, the most resident memory the process has had since it started.
func (p *proc) peakRSS() (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}

// cpuTime reads the user and system time the process has used so far.
func (p *proc) cpuTime() (time.Duration, error) {
	st, err := readStat(p.cmd.Process.Pid)
	return st.cpu, err
}

// procStat is what bench/run reads of /proc/PID/stat.
type procStat struct {
	ppid int
	// cpu is user + system time; children is what the children it has waited for used.
	cpu, children time.Duration
}

func readStat(pid int) (procStat, error) {
	var st procStat
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return st, err
	}
	// Fields after the command name, which is in parentheses and may hold spaces:
	// state is the first, ppid the 2nd, utime the 12th, stime the 13th, cutime and
	// cstime the 14th and 15th.
	_, rest, ok := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 15 {
		return st, fmt.Errorf("unexpected /proc stat: %.100s", b)
	}
	var n [15]int64
	for _, i := range []int{1, 11, 12, 13, 14} {
		if n[i], err = strconv.ParseInt(f[i], 10, 64); err != nil {
			return st, err
		}
	}
	// USER_HZ is 100 on Linux for every architecture Go supports.
	tick := func(t int64) time.Duration { return time.Duration(t) * 10 * time.Millisecond }
	st.ppid, st.cpu, st.children = int(n[1]), tick(n[11]+n[12]), tick(n[13]+n[14])
	return st, nil
}

func (p *proc) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

func waitUp(ctx context.Context, u string) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not up after 60 s: %v", u, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func goBuild(ctx context.Context, root, out, pkg string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	// Written back now, not by the kernel during the first rows (half a gigabyte at 1m).
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

func slug(s string) string {
	return strings.Trim(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return '-'
	}, s), "-")
}

func abs(n int) int { return max(n, -n) }

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
}
