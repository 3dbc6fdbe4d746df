package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"keyport/testapp"
)

// TestAccessLogFlushedAtShutdown: request lines wait in memory (here up to an hour, so
// only the shutdown can write them), and a SIGTERM writes every one of them to the log
// file before the process exits. (The "shutting down" record, written at once, takes the
// waiting lines with it; Buffer.Close at the end of serve writes the ones that came after.)
func TestAccessLogFlushedAtShutdown(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "keyport.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(binary(t), "serve", "-addr", "127.0.0.1:0", "-log-flush-interval", "1h",
		"-db", testapp.MigratedDB(t, testapp.Assets(t).Migrations))
	cmd.Env = append(os.Environ(), "KEYPORT_LOG_FORMAT=text")
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	readLog := func() string {
		b, err := os.ReadFile(logPath)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	// The startup line is not a request line: it is written at once.
	var addr string
	for deadline := time.Now().Add(60 * time.Second); addr == ""; time.Sleep(20 * time.Millisecond) {
		if m := listenRE.FindStringSubmatch(readLog()); m != nil {
			addr = m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("keyport did not listen within 60 s\n%s", readLog())
		}
	}

	hc := newHTTPClient(8)
	var mu sync.Mutex
	var ids []string
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 20 {
				path := "/api/none"
				if (w+i)%3 == 0 {
					path = "/healthz"
				}
				resp, err := hc.Get("http://" + addr + path)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				mu.Lock()
				ids = append(ids, resp.Header.Get("X-Request-Id"))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	hc.CloseIdleConnections()
	if n := strings.Count(readLog(), "msg=request "); n != 0 {
		t.Errorf("%d request lines in the file before shutdown, with an hour to wait and 160 lines buffered", n)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			t.Fatalf("keyport exited with %v after SIGTERM\n%s", err, readLog())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("keyport still running 30 s after SIGTERM")
	}
	log := readLog()
	for _, id := range ids {
		if n := strings.Count(log, "request_id="+id+"\n"); id == "" || n != 1 {
			t.Errorf("request %q logged %d times after shutdown, want once", id, n)
		}
	}
	if n := strings.Count(log, "msg=request "); n != len(ids) {
		t.Errorf("%d request lines, want %d", n, len(ids))
	}
	if !strings.HasSuffix(log, "msg=stopped\n") {
		t.Errorf("the log does not end with the stop line:\n%s", log[max(0, len(log)-500):])
	}
}
