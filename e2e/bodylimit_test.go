package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// peakRSS reads the process's high-water resident set size (VmHWM) in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc to measure memory: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

// repeat is n bytes of b, generated as read: the test holds no 40 MB buffer.
type repeat struct {
	b byte
	n int64
}

func (r *repeat) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	n := int64(len(p))
	if n > r.n {
		n = r.n
	}
	for i := range p[:n] {
		p[i] = r.b
	}
	r.n -= n
	return int(n), nil
}

// Finding 3: a 40 MB multipart field sent to /login took the process from 22 MB to
// 277 MB (three at once: ~500 MB) and came back in the page. Now page bodies stop at
// 64 KiB: three such requests at once, sent with a length and chunked, must leave the
// server's peak memory within 32 MB of where it was.
func TestPageBodyMemory(t *testing.T) {
	s := start(t, filepath.Join(t.TempDir(), "keyport.db"))
	defer s.stop()
	if resp, err := http.Get(s.URL + "/login"); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	pid := s.cmd.Process.Pid
	before := peakRSS(t, pid)

	const size = 40 << 20
	const boundary = "keyportboundary"
	head := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nHUGEFIELD"
	tail := "\r\n--" + boundary + "--\r\n"
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			body := io.MultiReader(strings.NewReader(head), &repeat{'x', size}, strings.NewReader(tail))
			req, err := http.NewRequest(http.MethodPost, s.URL+"/login", body)
			if err != nil {
				t.Error(err)
				return
			}
			req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
			if i == 0 { // the others go chunked: no length to refuse early
				req.ContentLength = int64(len(head)) + size + int64(len(tail))
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return // the server may close the connection while the body is still coming
			}
			defer resp.Body.Close()
			page, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Errorf("request %d: status %d, want 413", i, resp.StatusCode)
			}
			if strings.Contains(string(page), "HUGEFIELD") {
				t.Errorf("request %d: the page echoes the field", i)
			}
		})
	}
	wg.Wait()
	after := peakRSS(t, pid)
	t.Logf("server peak RSS %d MB before, %d MB after three 40 MB bodies", before>>20, after>>20)
	if grew := after - before; grew > 32<<20 {
		t.Errorf("the server's peak memory grew by %d MB, want at most 32 MB", grew>>20)
	}
	if resp, err := http.Get(s.URL + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the server after the large bodies: %v", err)
	}
}
