package e2e

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"keyport/testapp"
)

// TestCLIExitCodes runs the built binary the way a bootstrap script would: exit codes,
// what goes to stdout and what to stderr, the database named by KEYPORT_DB.
func TestCLIExitCodes(t *testing.T) {
	db := testapp.DB(t)
	keyport := func(stdin string, args ...string) (int, string, string) {
		t.Helper()
		cmd := exec.Command(binary(t), args...)
		cmd.Env = append(os.Environ(), "KEYPORT_DB="+db)
		cmd.Stdin = strings.NewReader(stdin)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("keyport %s: %v", strings.Join(args, " "), err)
		}
		return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
	}

	steps := []struct {
		stdin  string
		args   []string
		code   int
		stdout string // regexp
		stderr string // regexp
	}{
		{"", []string{"--help"}, 0, `(?s)key create.*key list.*key revoke.*serve.*user create.*version`, `^$`},
		{"", []string{"version"}, 0, `^keyport \S+ revision \S+`, `^$`},
		{"", []string{"no-such-command"}, 2, `^$`, `unknown command "no-such-command"`},
		{"", []string{"key", "list"}, 1, `^$`, `keyport key list: database .*keyport.db does not exist`},
		{"a less common passphrase\n", []string{"user", "create", "--email", "boot@example.com"}, 0, `^usr_\w+ org_\w+\n$`, `^$`},
		{"a less common passphrase\n", []string{"user", "create", "--email", "boot@example.com"}, 1, `^$`, `already exists`},
		{"", []string{"key", "create", "--email", "boot@example.com"}, 2, `^$`, `--name: Name is required`},
		{"", []string{"key", "create", "--email", "boot@example.com", "--name", "ci", "--expires-in", "7d"}, 0, `^kp_[0-9A-Za-z]{49}\n$`, `^$`},
		{"", []string{"key", "revoke", "key_missing"}, 1, `^$`, `no API key with id "key_missing"`},
	}
	for _, s := range steps {
		if testapp.Postgres() && strings.Contains(s.stderr, "does not exist") {
			continue // a URL names a database that exists; a file may not exist yet
		}
		code, stdout, stderr := keyport(s.stdin, s.args...)
		if code != s.code || !regexp.MustCompile(s.stdout).MatchString(stdout) || !regexp.MustCompile(s.stderr).MatchString(stderr) {
			t.Errorf("keyport %s: exit %d, stdout %q, stderr %q; want exit %d, stdout ~ %s, stderr ~ %s",
				strings.Join(s.args, " "), code, stdout, stderr, s.code, s.stdout, s.stderr)
		}
	}

	_, list, _ := keyport("", "key", "list", "--json")
	id := regexp.MustCompile(`"id": "(key_\w+)"`).FindStringSubmatch(list)
	if id == nil {
		t.Fatalf("key list --json shows no key:\n%s", list)
	}
	if code, stdout, stderr := keyport("", "key", "revoke", id[1]); code != 0 || stdout != "revoked "+id[1]+"\n" {
		t.Errorf("key revoke %s: exit %d, stdout %q, stderr %q", id[1], code, stdout, stderr)
	}
}
