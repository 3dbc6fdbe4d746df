package parse_test

import (
	"errors"
	"testing"
	"time"

	"keyport/handlers/parse"
	"keyport/keyauth"
)

func TestAPIKey(t *testing.T) {
	tests := []struct {
		body    string
		want    parse.APIKeyInput
		wantErr error
	}{
		{`{"name":" Billing ","scopes":["billing:read","products:read"]}`, parse.APIKeyInput{Name: "Billing", Scopes: "products:read billing:read"}, nil},
		{`{"name":"b","scopes":["keys:verify"],"expiresInDays":90}`, parse.APIKeyInput{Name: "b", Scopes: "keys:verify", ExpiresIn: 90 * 24 * time.Hour}, nil},
		{`{"name":"b","scopes":["products:read"],"expiresInDays":0}`, parse.APIKeyInput{Name: "b", Scopes: "products:read"}, nil},
		{`{"scopes":["products:read"]}`, parse.APIKeyInput{}, parse.ErrInvalidRequest},
		{`{"name":"b"}`, parse.APIKeyInput{}, parse.ErrInvalidRequest},
		{`{"name":"b","scopes":[]}`, parse.APIKeyInput{}, parse.ErrInvalidRequest},
		{`{"name":"b","scopes":["products:admin"]}`, parse.APIKeyInput{}, parse.ErrInvalidRequest},
		{`{"name":"b","scopes":["products:read"],"expiresInDays":3}`, parse.APIKeyInput{}, parse.ErrInvalidRequest},
		{`{"name":"b","scopes":["products:read"],"expires":3}`, parse.APIKeyInput{}, parse.ErrInvalidRequest},
		{`{"name":"b","scopes":["products:read"],"expiresInDays":"7"}`, parse.APIKeyInput{}, parse.ErrInvalidJSON},
		{`{"name":null,"scopes":["products:read"]}`, parse.APIKeyInput{}, parse.ErrInvalidJSON},
		{`{"name":"b","scopes":"products:read"}`, parse.APIKeyInput{}, parse.ErrInvalidJSON},
		{`{"name":"b","name":"c","scopes":["products:read"]}`, parse.APIKeyInput{}, parse.ErrInvalidJSON},
		{`[]`, parse.APIKeyInput{}, parse.ErrInvalidJSON},
	}
	for _, tt := range tests {
		got, err := parse.APIKey([]byte(tt.body), keyauth.AllScopes)
		if !errors.Is(err, tt.wantErr) || got != tt.want {
			t.Errorf("APIKey(%s) = %+v, %v; want %+v, %v", tt.body, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestRollBody(t *testing.T) {
	tests := []struct {
		body    string
		choice  string
		grace   time.Duration
		wantErr error
	}{
		{``, "24h", 24 * time.Hour, nil},
		{`{}`, "24h", 24 * time.Hour, nil},
		{`{"grace":"0"}`, "0", 0, nil},
		{`{"grace":"168h"}`, "168h", 168 * time.Hour, nil},
		{`{"grace":"2h"}`, "", 0, parse.ErrInvalidRequest},
		{`{"grace":0}`, "", 0, parse.ErrInvalidJSON},
		{`{"grace":null}`, "", 0, parse.ErrInvalidJSON},
		{`{"wait":"1h"}`, "", 0, parse.ErrInvalidRequest},
		{`{"grace":`, "", 0, parse.ErrInvalidJSON},
	}
	for _, tt := range tests {
		choice, grace, err := parse.RollBody([]byte(tt.body))
		if !errors.Is(err, tt.wantErr) || choice != tt.choice || grace != tt.grace {
			t.Errorf("RollBody(%s) = %q, %v, %v; want %q, %v, %v", tt.body, choice, grace, err, tt.choice, tt.grace, tt.wantErr)
		}
	}
}

func TestKeyStatus(t *testing.T) {
	for in, ok := range map[string]bool{"": true, "active": true, "revoked": true, "expired": true, "expiring": false, "Active": false} {
		if _, err := parse.KeyStatus(in); (err == nil) != ok || err != nil && !errors.Is(err, parse.ErrInvalidRequest) {
			t.Errorf("KeyStatus(%q) error %v, want ok %v", in, err, ok)
		}
	}
}
