package input_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"keyport/input"
	"keyport/keyauth"
)

func TestScopes(t *testing.T) {
	read, write := keyauth.ScopeProductsRead, keyauth.ScopeProductsWrite
	verify, keysRead := keyauth.ScopeKeysVerify, keyauth.ScopeKeysRead
	var twenty, twentyOne []string
	for i := range 21 {
		if i < 20 {
			twenty = append(twenty, fmt.Sprintf("svc%d:read", i))
		}
		twentyOne = append(twentyOne, fmt.Sprintf("svc%d:read", i))
	}
	tests := []struct {
		in      []string
		want    string
		wantErr error
	}{
		{[]string{read, write}, read + " " + write, nil},
		{[]string{write, read}, read + " " + write, nil},
		{[]string{write, write}, write, nil},
		{[]string{read}, read, nil},
		{[]string{keysRead, verify, read}, read + " " + verify + " " + keysRead, nil},
		{[]string{"billing:read", read}, read + " billing:read", nil},
		{[]string{"b", "a", "b"}, "b a", nil},
		{[]string{"0", "a_b.c:d-e"}, "0 a_b.c:d-e", nil},
		{[]string{strings.Repeat("a", 64)}, strings.Repeat("a", 64), nil},
		{[]string{"products", "keys"}, "products keys", nil}, // no colon: not keyport's namespace
		{twenty, strings.Join(twenty, " "), nil},
		{slices.Concat([]string{read, write, verify}, twenty), read + " " + write + " " + verify + " " + strings.Join(twenty, " "), nil},
		{nil, "", input.ErrScopesRequired},
		{[]string{}, "", input.ErrScopesRequired},
		{twentyOne, "", input.ErrTooManyScopes},
		{[]string{"products:delete"}, "", input.ErrScopeReserved},
		{[]string{read, "keys:admin"}, "", input.ErrScopeReserved},
		{[]string{""}, "", input.ErrScopeInvalid},
		{[]string{"Billing:read"}, "", input.ErrScopeInvalid},
		{[]string{"_billing"}, "", input.ErrScopeInvalid},
		{[]string{":read"}, "", input.ErrScopeInvalid},
		{[]string{"billing read"}, "", input.ErrScopeInvalid},
		{[]string{"billing/read"}, "", input.ErrScopeInvalid},
		{[]string{"café"}, "", input.ErrScopeInvalid},
		{[]string{strings.Repeat("a", 65)}, "", input.ErrScopeInvalid},
		{[]string{"products:read products:write"}, "", input.ErrScopeInvalid},
	}
	for _, tt := range tests {
		got, err := input.Scopes(tt.in, keyauth.AllScopes)
		if !errors.Is(err, tt.wantErr) || got != tt.want {
			t.Errorf("Scopes(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestScopeErrorEchoesSafely: the message names the scope, clipped and without control
// characters, since it is shown back on the form and in the API's error.
func TestScopeErrorEchoesSafely(t *testing.T) {
	_, err := input.Scopes([]string{"Bad\x00" + strings.Repeat("x", 200)}, keyauth.AllScopes)
	msg := err.Error()
	if !strings.HasPrefix(msg, "“Bad�") || strings.Contains(msg, "\x00") || strings.Count(msg, "x") > 64 {
		t.Errorf("error = %q", msg)
	}
}
