package input

import (
	"errors"
	"strings"
	"testing"
)

// Finding 5: 12345678 was an accepted password.
func TestNewPasswordRefusesCommon(t *testing.T) {
	if n := len(commonSet()); n < 10000 {
		t.Fatalf("%d common passwords, want at least 10,000", n)
	}
	for _, p := range []string{"12345678", "password", "PASSWORD", "Password1", "iloveyou", "qwertyuiop", "trustno1!", "1qaz2wsx"} {
		_, err := NewPassword(p)
		if strings.HasSuffix(p, "!") { // not on the list: only what is listed is refused
			if err != nil {
				t.Errorf("NewPassword(%q) = %v, want accepted", p, err)
			}
			continue
		}
		if !errors.Is(err, ErrPasswordCommon) {
			t.Errorf("NewPassword(%q) = %v, want ErrPasswordCommon", p, err)
		}
	}
	for _, p := range []string{"correct horse battery", "s3cret-pass", "kp-4f9a-Zt2q"} {
		if _, err := NewPassword(p); err != nil {
			t.Errorf("NewPassword(%q) = %v, want accepted", p, err)
		}
	}
	if _, err := NewPassword("1234567"); !errors.Is(err, ErrPasswordLength) {
		t.Errorf("a short password: %v, want the length error first", err)
	}
	// Signing in with an old common password still works: only setting one is refused.
	if _, err := Password("12345678"); err != nil {
		t.Errorf("Password(12345678) = %v, want nil", err)
	}
}
