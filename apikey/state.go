package apikey

import "time"

// State is where a stored key is in its life. It is decided once, by [Life.State], and
// every rule about what a key may still do reads it: the API's verification, the
// dashboard's badges and buttons, the command line's listing and the writes that roll or
// revoke a key.
type State uint8

// The states of a key, in the order a key can pass through them.
const (
	// Active keys work.
	Active State = iota
	// Expiring keys work but are near their expiry: under [ExpiringWithin] left, and
	// under half of their lifetime, so a new short-lived key is not flagged at once.
	Expiring
	// Rolled keys were replaced by a new key and work until their grace period ends.
	Rolled
	// Expired keys reached their expiry and are refused.
	Expired
	// Revoked keys were stopped by hand and are refused.
	Revoked
)

// ExpiringWithin is the most warning an expiring key gets.
const ExpiringWithin = 7 * 24 * time.Hour

var stateNames = [...]string{Active: "active", Expiring: "expiring", Rolled: "rolled", Expired: "expired", Revoked: "revoked"}

// String is the state's name, as the command line prints it and the dashboard marks rows.
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown"
}

// Working reports whether the API accepts a key in this state.
func (s State) Working() bool { return s < Expired }

// CanRoll reports whether the key may be replaced by a new one: a working key that was
// not rolled already.
func (s State) CanRoll() bool { return s == Active || s == Expiring }

// CanRevoke reports whether the key may be revoked. An expired key may: revoking it
// takes it off the list of active keys and records who retired it.
func (s State) CanRevoke() bool { return s != Revoked }

// Life is what a key's state depends on, as stored: times in Unix milliseconds, 0 when
// unset.
type Life struct {
	CreatedAt int64
	ExpiresAt int64 // 0: never expires
	RevokedAt int64 // 0: not revoked
	Rolled    bool  // replaced by a new key
}

// State is the key's state at now.
func (l Life) State(now time.Time) State {
	t := now.UnixMilli()
	switch {
	case l.RevokedAt != 0:
		return Revoked
	case l.ExpiresAt != 0 && t >= l.ExpiresAt:
		return Expired
	case l.Rolled:
		return Rolled
	case l.ExpiresAt != 0 && l.ExpiresAt-t < ExpiringWithin.Milliseconds() && 2*(l.ExpiresAt-t) < l.ExpiresAt-l.CreatedAt:
		return Expiring
	}
	return Active
}
