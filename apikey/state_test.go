package apikey

import (
	"testing"
	"time"
)

func TestState(t *testing.T) {
	now := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	ms := func(d time.Duration) int64 { return now.Add(d).UnixMilli() }
	day := 24 * time.Hour
	tests := []struct {
		name string
		life Life
		want State
	}{
		{"never expires", Life{CreatedAt: ms(-400 * day)}, Active},
		{"new 7-day key", Life{CreatedAt: ms(0), ExpiresAt: ms(7 * day)}, Active},
		{"7-day key past half its life", Life{CreatedAt: ms(-4 * day), ExpiresAt: ms(3 * day)}, Expiring},
		{"7-day key at exactly half", Life{CreatedAt: ms(-84 * time.Hour), ExpiresAt: ms(84 * time.Hour)}, Active},
		{"new 1-hour key", Life{CreatedAt: ms(0), ExpiresAt: ms(time.Hour)}, Active},
		{"1-hour key with 20 minutes left", Life{CreatedAt: ms(-40 * time.Minute), ExpiresAt: ms(20 * time.Minute)}, Expiring},
		{"year key with 8 days left", Life{CreatedAt: ms(-357 * day), ExpiresAt: ms(8 * day)}, Active},
		{"year key with 6 days left", Life{CreatedAt: ms(-359 * day), ExpiresAt: ms(6 * day)}, Expiring},
		{"expires this millisecond", Life{CreatedAt: ms(-day), ExpiresAt: ms(0)}, Expired},
		{"one millisecond left", Life{CreatedAt: ms(-day), ExpiresAt: ms(time.Millisecond)}, Expiring},
		{"rolled, in its grace period", Life{CreatedAt: ms(-30 * day), ExpiresAt: ms(time.Hour), Rolled: true}, Rolled},
		{"rolled, grace over", Life{CreatedAt: ms(-30 * day), ExpiresAt: ms(-time.Second), Rolled: true}, Expired},
		{"revoked", Life{CreatedAt: ms(-day), RevokedAt: ms(-time.Hour)}, Revoked},
		{"revoked after it expired", Life{CreatedAt: ms(-day), ExpiresAt: ms(-2 * time.Hour), RevokedAt: ms(-time.Hour)}, Revoked},
		{"revoked while rolled", Life{CreatedAt: ms(-day), ExpiresAt: ms(time.Hour), RevokedAt: ms(-time.Hour), Rolled: true}, Revoked},
	}
	for _, tt := range tests {
		if got := tt.life.State(now); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// What each state allows; the dashboard's buttons, the writes and the API read these.
func TestStateAllows(t *testing.T) {
	tests := []struct {
		state                       State
		name                        string
		working, canRoll, canRevoke bool
	}{
		{Active, "active", true, true, true},
		{Expiring, "expiring", true, true, true},
		{Rolled, "rolled", true, false, true},
		{Expired, "expired", false, false, true},
		{Revoked, "revoked", false, false, false},
	}
	for _, tt := range tests {
		if got := tt.state.String(); got != tt.name {
			t.Errorf("String() = %q, want %q", got, tt.name)
		}
		if got := tt.state.Working(); got != tt.working {
			t.Errorf("%s: Working() = %v, want %v", tt.name, got, tt.working)
		}
		if got := tt.state.CanRoll(); got != tt.canRoll {
			t.Errorf("%s: CanRoll() = %v, want %v", tt.name, got, tt.canRoll)
		}
		if got := tt.state.CanRevoke(); got != tt.canRevoke {
			t.Errorf("%s: CanRevoke() = %v, want %v", tt.name, got, tt.canRevoke)
		}
	}
}
