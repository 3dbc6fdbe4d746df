package handlers

import (
	"net/http"
)

// Response headers are assigned straight into the header map, under these names in the
// canonical form Header.Set would store them in: Set canonicalizes its name and allocates
// a slice for its value on every call, about 0.2 µs a header on answers that carry ten.
// TestHeaderNamesCanonical checks the names; testapp's contract check refuses an /api
// answer with a name in any other form.
const (
	hdrAllow           = "Allow"
	hdrCacheControl    = "Cache-Control"
	hdrContentType     = "Content-Type"
	hdrCSP             = "Content-Security-Policy"
	hdrHSTS            = "Strict-Transport-Security"
	hdrLocation        = "Location"
	hdrRateLimit       = "Ratelimit-Limit"
	hdrRateRemaining   = "Ratelimit-Remaining"
	hdrRateReset       = "Ratelimit-Reset"
	hdrReferrerPolicy  = "Referrer-Policy"
	hdrRetryAfter      = "Retry-After"
	hdrWWWAuthenticate = "Www-Authenticate"
	hdrContentTypeOpts = "X-Content-Type-Options"
	hdrFrameOptions    = "X-Frame-Options"
	hdrKeyID           = "X-Keyport-Key-Id"
	hdrKeyName         = "X-Keyport-Key-Name"
	hdrKeyOrgID        = "X-Keyport-Org-Id"
	hdrKeyScopes       = "X-Keyport-Scopes"
	hdrRequestID       = "X-Request-Id"
)

const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Values that never change are one slice shared by every answer that carries them. Each
// is full (len == cap), so an Add to its header anywhere appends to a new array instead
// of writing into the shared one; nothing writes into a header's values in place
// (TestSharedHeaderValues).
var (
	cspValue        = []string{csp}
	nosniffValue    = []string{"nosniff"}
	sameOriginValue = []string{"same-origin"}
	denyValue       = []string{"DENY"}
	jsonTypeValue   = []string{"application/json"}
	noStoreValue    = []string{"no-store"}
	bearerValue     = []string{`Bearer realm="keyport"`}
	allowPostValue  = []string{http.MethodPost}
	hstsValue       = []string{"max-age=31536000"}
)

// setSecurityHeaders sets the headers every response carries.
func setSecurityHeaders(h http.Header) {
	h[hdrCSP] = cspValue
	h[hdrContentTypeOpts] = nosniffValue
	h[hdrReferrerPolicy] = sameOriginValue
	h[hdrFrameOptions] = denyValue
}
