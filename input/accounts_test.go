package input_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"keyport/input"
)

func TestEmail(t *testing.T) {
	tests := []struct {
		in, want string // want "" means ErrEmailInvalid
	}{
		{"ada@example.com", "ada@example.com"},
		{"  Ada@Example.COM \t", "ada@example.com"},
		{"first.last+tag@sub.example.org", "first.last+tag@sub.example.org"},
		{"", ""},
		{"   ", ""},
		{"ada", ""},
		{"ada@", ""},
		{"@example.com", ""},
		{"ada@localhost", ""},
		{"Ada <ada@example.com>", ""},
		{"ada@example.com, bob@example.com", ""},
		{"ada@exa mple.com", ""},
		{"ada\x00@example.com", ""},
		{"ada@example.com\r\nBcc: x@example.com", ""},
		{"ada\xff@example.com", ""},
		{strings.Repeat("a", 64) + "@" + strings.Repeat("b", 186) + ".com", ""}, // 255 bytes
	}
	for _, tt := range tests {
		got, err := input.Email(tt.in)
		if tt.want == "" {
			if !errors.Is(err, input.ErrEmailInvalid) {
				t.Errorf("Email(%q) = %q, %v; want ErrEmailInvalid", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Email(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestPassword(t *testing.T) {
	tests := []struct {
		in      string
		wantErr error
	}{
		{"12345678", nil},
		{strings.Repeat("x", 72), nil},
		{strings.Repeat("é", 36), nil}, // 72 bytes
		{"  spaces kept  ", nil},
		{"", input.ErrPasswordLength},
		{"1234567", input.ErrPasswordLength},
		{strings.Repeat("x", 73), input.ErrPasswordLength},
		{strings.Repeat("é", 37), input.ErrPasswordLength}, // 37 characters but 74 bytes
		{"abcdefg\x00h", input.ErrPasswordInvalid},
		{"abcdefgh\xff", input.ErrPasswordInvalid},
	}
	for _, tt := range tests {
		got, err := input.Password(tt.in)
		if !errors.Is(err, tt.wantErr) || (err == nil && got != tt.in) {
			t.Errorf("Password(%q) = %q, %v; want %v", tt.in, got, err, tt.wantErr)
		}
	}
}

func TestKeyName(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  error
	}{
		{"Production", "Production", nil},
		{"  Production backend  ", "Production backend", nil},
		{"<script>alert(1)</script>", "<script>alert(1)</script>", nil},
		{strings.Repeat("n", 100), strings.Repeat("n", 100), nil},
		{strings.Repeat("ü", 100), strings.Repeat("ü", 100), nil},
		{"", "", input.ErrKeyNameRequired},
		{" \t ", "", input.ErrKeyNameRequired},
		{strings.Repeat("n", 101), "", input.ErrKeyNameTooLong},
		{strings.Repeat("ü", 101), "", input.ErrKeyNameTooLong},
		{"a\x00b", "", input.ErrKeyNameInvalid},
		{"a\nb", "", input.ErrKeyNameInvalid},
		{"a\x7fb", "", input.ErrKeyNameInvalid},
		{"a\xffb", "", input.ErrKeyNameInvalid},
	}
	for _, tt := range tests {
		got, err := input.KeyName(tt.in)
		if !errors.Is(err, tt.wantErr) || got != tt.want {
			t.Errorf("KeyName(%.30q) = %.30q, %v; want %.30q, %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestExpiresIn(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, true},
		{"0", 0, true},
		{"7", 7 * day, true},
		{"30", 30 * day, true},
		{"90", 90 * day, true},
		{"365", 365 * day, true},
		{"1", 0, false},
		{"-7", 0, false},
		{"7.0", 0, false},
		{"7d", 0, false},
		{" 7", 0, false},
		{"never", 0, false},
		{"36500", 0, false},
	}
	for _, tt := range tests {
		got, err := input.ExpiresIn(tt.in)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("ExpiresIn(%q) = %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, input.ErrExpiryInvalid) {
			t.Errorf("ExpiresIn(%q) error %v, want ErrExpiryInvalid", tt.in, err)
		}
	}
}

func TestGrace(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{"1h", time.Hour, true},
		{"24h", 24 * time.Hour, true},
		{"168h", 7 * 24 * time.Hour, true},
		{"", 0, false},
		{"2h", 0, false},
		{"1h0m", 0, false},
		{"-1h", 0, false},
		{"7d", 0, false},
	}
	for _, tt := range tests {
		got, err := input.Grace(tt.in)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("Grace(%q) = %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, input.ErrGraceInvalid) {
			t.Errorf("Grace(%q) error %v, want ErrGraceInvalid", tt.in, err)
		}
	}
}

func TestOrgName(t *testing.T) {
	tests := []struct {
		in, email, want string
		ok              bool
	}{
		{"Acme", "ada@example.com", "Acme", true},
		{"  Acme Inc.  ", "ada@example.com", "Acme Inc.", true},
		{"", "ada@example.com", "ada's organization", true},
		{"   ", "ada@example.com", "ada's organization", true},
		{strings.Repeat("o", 100), "ada@example.com", strings.Repeat("o", 100), true},
		{strings.Repeat("o", 101), "ada@example.com", "", false},
		{"Ac\x00me", "ada@example.com", "", false},
		{"Ac\nme", "ada@example.com", "", false},
		{"Ac\xffme", "ada@example.com", "", false},
	}
	for _, tt := range tests {
		got, err := input.OrgName(tt.in, tt.email)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("OrgName(%.20q, %q) = %q, %v; want %q, ok=%v", tt.in, tt.email, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, input.ErrOrgNameInvalid) {
			t.Errorf("OrgName(%.20q) error %v, want ErrOrgNameInvalid", tt.in, err)
		}
	}
}

func TestStorable(t *testing.T) {
	for in, want := range map[string]string{
		"a@example.com":     "a@example.com",
		"a@example.com\x00": "a@example.com\uFFFD",
		"\xff@x":            "\uFFFD@x",
		"ünïcode":           "ünïcode",
	} {
		if got := input.Storable(in); got != want {
			t.Errorf("Storable(%q) = %q, want %q", in, got, want)
		}
	}
}
