package parse

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"keyport/input"
)

// Verify body errors.
var (
	ErrVerifyKey    = fmt.Errorf("%w: key is required and must be a string", ErrInvalidRequest)
	ErrVerifyScopes = fmt.Errorf("%w: scopes must be an array of strings", ErrInvalidRequest)
)

// VerifyInput is a verify request: the key to check and the scopes it must all hold.
type VerifyInput struct {
	Key    string
	Scopes []string
}

// Verify parses a POST /api/v1/keys/verify body: {"key": string, "scopes": [string]}
// with scopes optional. Unknown fields are refused: a misspelt "scope" must not pass a
// key that lacks the scope.
func Verify(body []byte) (VerifyInput, error) {
	if in, ok := scanVerify(body); ok {
		return in, nil
	}
	return decodeVerify(body)
}

// decodeVerify is Verify through encoding/json, for every body scanVerify is not sure of.
func decodeVerify(body []byte) (VerifyInput, error) {
	var raw map[string]json.RawMessage
	if err := decodeObject(body, &raw); err != nil {
		return VerifyInput{}, err
	}
	var in VerifyInput
	hasKey := false
	for field, val := range raw {
		var v any
		if err := json.Unmarshal(val, &v); err != nil {
			return VerifyInput{}, fmt.Errorf("%w: %v", ErrInvalidJSON, err)
		}
		switch field {
		case "key":
			in.Key, hasKey = v.(string)
		case "scopes":
			list, ok := v.([]any)
			for _, item := range list {
				scope, isString := item.(string)
				ok = ok && isString
				in.Scopes = append(in.Scopes, scope)
			}
			if !ok {
				return VerifyInput{}, ErrVerifyScopes
			}
		default:
			return VerifyInput{}, fmt.Errorf("%w: unknown field %q", ErrInvalidRequest, field)
		}
	}
	if !hasKey {
		return VerifyInput{}, ErrVerifyKey
	}
	in.Key = strings.TrimSpace(in.Key)
	return in, nil
}

// decodeObject decodes body, which must be exactly one JSON object in valid UTF-8 with no
// duplicate fields, into v.
func decodeObject(body []byte, v *map[string]json.RawMessage) error {
	if !utf8.Valid(body) {
		return fmt.Errorf("%w: body is not valid UTF-8", ErrInvalidJSON)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return ErrInvalidJSON
	}
	*v = map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidJSON, err)
		}
		field := tok.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidJSON, err)
		}
		if _, dup := (*v)[field]; dup {
			return fmt.Errorf("%w: duplicate field %q", ErrInvalidJSON, field)
		}
		(*v)[field] = val
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidJSON, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: unexpected data after the object", ErrInvalidJSON)
	}
	return nil
}

// ScopeQuery parses forward auth's ?scopes=a,b: the scopes a key must all hold. Each must
// be well-formed, so that a typo in a proxy's configuration is an error, not a route that
// refuses every key.
func ScopeQuery(s string) ([]string, error) {
	var out []string
	for scope := range strings.SplitSeq(s, ",") {
		if scope = strings.TrimSpace(scope); scope == "" {
			continue
		}
		if err := input.CheckScope(scope); err != nil {
			return nil, fmt.Errorf("%w: scopes: %v", ErrInvalidRequest, err)
		}
		out = append(out, scope)
	}
	return out, nil
}
