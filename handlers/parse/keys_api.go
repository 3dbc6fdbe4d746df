package parse

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"keyport/input"
)

// APIKeyInput is a validated POST /api/v1/keys body.
type APIKeyInput struct {
	Name      string
	Scopes    string // space-separated, as Scopes returns them
	ExpiresIn time.Duration
}

// APIKey parses a key management create body: {"name": string, "scopes": [string],
// "expiresInDays": 0|7|30|90|365} (expiresInDays optional, 0 = never), with the
// dashboard's rules for each field; known are keyport's own scopes.
func APIKey(body []byte, known []string) (APIKeyInput, error) {
	var raw map[string]json.RawMessage
	if err := decodeObject(body, &raw); err != nil {
		return APIKeyInput{}, err
	}
	var (
		in     APIKeyInput
		name   string
		scopes []string
		days   int
	)
	for field, val := range raw {
		var err error
		switch field {
		case "name":
			err = json.Unmarshal(val, &name)
		case "scopes":
			err = json.Unmarshal(val, &scopes)
		case "expiresInDays":
			err = json.Unmarshal(val, &days)
			if err == nil && !slices.Contains(input.ExpiryDays, days) {
				return APIKeyInput{}, fmt.Errorf("%w: expiresInDays must be 0 (never), 7, 30, 90 or 365", ErrInvalidRequest)
			}
		default:
			return APIKeyInput{}, fmt.Errorf("%w: unknown field %q", ErrInvalidRequest, field)
		}
		if err != nil || string(val) == "null" {
			return APIKeyInput{}, fmt.Errorf("%w: %s has the wrong type", ErrInvalidJSON, field)
		}
	}
	var err error
	if in.Name, err = input.KeyName(name); err != nil {
		return APIKeyInput{}, fmt.Errorf("%w: %v", ErrInvalidRequest, err)
	}
	if in.Scopes, err = input.Scopes(scopes, known); err != nil {
		return APIKeyInput{}, fmt.Errorf("%w: %v", ErrInvalidRequest, err)
	}
	in.ExpiresIn = time.Duration(days) * 24 * time.Hour
	return in, nil
}

// RollBody parses a key management roll body, {"grace": "0"|"1h"|"24h"|"168h"}; an empty
// body or no grace means input.DefaultGrace. It returns the grace as sent and as a duration.
func RollBody(body []byte) (string, time.Duration, error) {
	choice := input.DefaultGrace
	if len(body) > 0 {
		var raw map[string]json.RawMessage
		if err := decodeObject(body, &raw); err != nil {
			return "", 0, err
		}
		for field, val := range raw {
			if field != "grace" {
				return "", 0, fmt.Errorf("%w: unknown field %q", ErrInvalidRequest, field)
			}
			if json.Unmarshal(val, &choice) != nil || string(val) == "null" {
				return "", 0, fmt.Errorf("%w: grace must be a string", ErrInvalidJSON)
			}
		}
	}
	d, err := input.Grace(choice)
	if err != nil {
		return "", 0, fmt.Errorf("%w: grace must be \"0\", \"1h\", \"24h\" or \"168h\"", ErrInvalidRequest)
	}
	return choice, d, nil
}

// KeyStatuses are the key list's ?status= filters: working keys (active, expiring or
// rolled), revoked ones, expired ones.
var KeyStatuses = []string{"active", "revoked", "expired"}

// KeyStatus parses ?status=; empty means every key.
func KeyStatus(s string) (string, error) {
	if s != "" && !slices.Contains(KeyStatuses, s) {
		return "", fmt.Errorf("%w: status must be active, revoked or expired", ErrInvalidRequest)
	}
	return s, nil
}
