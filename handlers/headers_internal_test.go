package handlers

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestHeaderNamesCanonical(t *testing.T) {
	for _, name := range []string{
		hdrAllow, hdrCacheControl, hdrContentType, hdrCSP, hdrHSTS, hdrLocation, hdrRateLimit,
		hdrRateRemaining, hdrRateReset, hdrReferrerPolicy, hdrRetryAfter, hdrWWWAuthenticate,
		hdrContentTypeOpts, hdrFrameOptions, hdrKeyID, hdrKeyName, hdrKeyOrgID, hdrKeyScopes,
		hdrRequestID, headerError,
	} {
		if c := http.CanonicalHeaderKey(name); c != name {
			t.Errorf("header name %q is stored by Header.Set as %q", name, c)
		}
	}
}

// TestSharedHeaderValues checks that the values every answer shares cannot be changed
// through one answer's headers: each is full, so Add appends to a copy.
func TestSharedHeaderValues(t *testing.T) {
	for _, v := range [][]string{
		cspValue, nosniffValue, sameOriginValue, denyValue, jsonTypeValue, noStoreValue,
		bearerValue, allowPostValue, hstsValue,
	} {
		if len(v) != 1 || cap(v) != 1 {
			t.Errorf("%q: len %d cap %d, want a full one-value slice", v, len(v), cap(v))
			continue
		}
		was := v[0]
		h := http.Header{"X-Shared": v}
		h.Add("X-Shared", "added")
		h["X-Shared"] = append(h["X-Shared"], "appended")
		if got := h.Values("X-Shared"); !slices.Equal(got, []string{was, "added", "appended"}) {
			t.Errorf("after Add: %q", got)
		}
		if len(v) != 1 || v[0] != was {
			t.Errorf("shared value %q changed to %q by an Add", was, v)
		}
	}
}

// TestAPIErrorJSON checks that an error answer's body is what c.JSON sent.
func TestAPIErrorJSON(t *testing.T) {
	errs := []*APIError{
		errAPIKeyRequired, errInvalidAPIKey, errAPIKeyRevoked, errAPIKeyExpired, errAPIBodyUnreadable,
		errAPIBodyTooLarge, errAPINotFound, errAPIKeyNotRollable, errRootKeyRequired, errInvalidRootKey,
		errRootKeyNoVerify, errInsufficientScope("products:write"), errCannotGrantScope("keys:write"),
	}
	for _, s := range oddStrings {
		errs = append(errs, &APIError{Status: 400, Message: s, Code: strings.ToUpper(s)})
	}
	for _, e := range errs {
		want := encoderJSON(t, e)
		if got := string(e.appendJSON(nil)) + "\n"; got != want {
			t.Errorf("%+v: %s, want %s", e, got, want)
		}
	}
}
