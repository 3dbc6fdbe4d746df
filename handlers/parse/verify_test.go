package parse_test

import (
	"errors"
	"slices"
	"testing"

	"keyport/handlers/parse"
)

func TestVerify(t *testing.T) {
	tests := []struct {
		body    string
		key     string
		scopes  []string
		wantErr error
	}{
		{`{"key":"kp_x"}`, "kp_x", nil, nil},
		{`{"key":" kp_x "}`, "kp_x", nil, nil},
		{`{"key":""}`, "", nil, nil}, // well-formed: verified as not found
		{`{"scopes":["a","b"],"key":"kp_x"}`, "kp_x", []string{"a", "b"}, nil},
		{`{"key":"kp_x","scopes":[]}`, "kp_x", nil, nil},
		{` {"key":"kp_x"} `, "kp_x", nil, nil},
		{`{}`, "", nil, parse.ErrVerifyKey},
		{`{"key":null}`, "", nil, parse.ErrVerifyKey},
		{`{"key":42}`, "", nil, parse.ErrVerifyKey},
		{`{"key":["kp_x"]}`, "", nil, parse.ErrVerifyKey},
		{`{"key":"kp_x","scopes":"products:read"}`, "", nil, parse.ErrVerifyScopes},
		{`{"key":"kp_x","scopes":null}`, "", nil, parse.ErrVerifyScopes},
		{`{"key":"kp_x","scopes":["a",null]}`, "", nil, parse.ErrVerifyScopes},
		{`{"key":"kp_x","scopes":[1]}`, "", nil, parse.ErrVerifyScopes},
		{`{"key":"kp_x","scope":["products:write"]}`, "", nil, parse.ErrInvalidRequest},
		{`{"key":"kp_x","key":"kp_y"}`, "", nil, parse.ErrInvalidJSON},
		{`{"key":"kp_x"`, "", nil, parse.ErrInvalidJSON},
		{`{"key":"kp_x"}{}`, "", nil, parse.ErrInvalidJSON},
		{`["kp_x"]`, "", nil, parse.ErrInvalidJSON},
		{``, "", nil, parse.ErrInvalidJSON},
		{"{\"key\":\"kp_\xff\"}", "", nil, parse.ErrInvalidJSON},
	}
	for _, tt := range tests {
		got, err := parse.Verify([]byte(tt.body))
		if !errors.Is(err, tt.wantErr) || got.Key != tt.key || !slices.Equal(got.Scopes, tt.scopes) {
			t.Errorf("Verify(%s) = %+v, %v; want key %q scopes %q, %v", tt.body, got, err, tt.key, tt.scopes, tt.wantErr)
		}
	}
}

func TestScopeQuery(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"", nil, false},
		{"products:read", []string{"products:read"}, false},
		{"products:read, billing:read,,", []string{"products:read", "billing:read"}, false},
		{"Billing", nil, true},
		{"a b", nil, true},
	}
	for _, tt := range tests {
		got, err := parse.ScopeQuery(tt.in)
		if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
			t.Errorf("ScopeQuery(%q) = %q, %v; want %q (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err != nil && !errors.Is(err, parse.ErrInvalidRequest) {
			t.Errorf("ScopeQuery(%q): error %v is not an invalid_request", tt.in, err)
		}
	}
}
