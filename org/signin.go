package org

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"keyport/queries"
)

// The sign-in throttle. A client (an IP address, IPv6 by /64) gets MaxClientFailures
// failed sign-ins per ClientWindow, then waits for the window to end. An account is
// counted apart: its first FreeAccountFailures failures in a row are plain failures,
// then each further attempt waits a delay that doubles from 1 s up to MaxAccountDelay,
// so a stranger can slow the owner down but never lock them out. Both counts are
// taken (reserved) before the password is checked: parallel attempts queue on the
// subject's row instead of all reading the same old count (queries/throttle.sql).
// Signups count as the client's attempts too; a taken email counts as a failure.
const (
	ClientWindow        = 15 * time.Minute
	MaxClientFailures   = 10
	FreeAccountFailures = 10
	MaxAccountDelay     = 60 * time.Second
	accountQuiet        = 15 * time.Minute // an account's count restarts after this long without attempts
)

// WaitError refuses an attempt: the next may come after Wait.
type WaitError struct{ Wait time.Duration }

func (e *WaitError) Error() string { return fmt.Sprintf("sign-in throttled for %s", e.Wait) }

// Attempt is a reservation taken by ReserveSignIn, handed back to RecordLogin,
// RecordLoginFailure or Signup.
type Attempt struct {
	client   string
	account  string
	failures int64 // the account's failures counting this attempt
}

// ReserveSignIn takes one attempt for the client and, unless account is "", one for the
// account: both or neither. Subjects name what is counted ("ip:…", "email:…"). A
// refusal is a *WaitError.
func (w *Writer) ReserveSignIn(ctx context.Context, client, account string) (Attempt, error) {
	now := w.Now()
	ms := now.UnixMilli()
	at := Attempt{client: client, account: account}
	err := w.inTx(ctx, func(ctx context.Context, q *queries.Queries) error {
		if err := q.EnsureThrottle(ctx, queries.EnsureThrottleParams{Subject: client, Now: ms}); err != nil {
			return err
		}
		_, err := q.ReserveClientAttempt(ctx, queries.ReserveClientAttemptParams{
			Subject: client, Now: ms, WindowFloor: now.Add(-ClientWindow).UnixMilli(), MaxFailures: MaxClientFailures,
		})
		if errors.Is(err, sql.ErrNoRows) {
			row, err := q.GetThrottle(ctx, client)
			if err != nil {
				return err
			}
			return &WaitError{time.UnixMilli(row.WindowStart).Add(ClientWindow).Sub(now)}
		}
		if err != nil || account == "" {
			return err
		}
		if err := q.EnsureThrottle(ctx, queries.EnsureThrottleParams{Subject: account, Now: ms}); err != nil {
			return err
		}
		at.failures, err = q.ReserveAccountAttempt(ctx, queries.ReserveAccountAttemptParams{
			Subject: account, Now: ms, WindowFloor: now.Add(-accountQuiet).UnixMilli(),
			FreeFailures: FreeAccountFailures, HoldUntil: now.Add(MaxAccountDelay).UnixMilli(),
		})
		if errors.Is(err, sql.ErrNoRows) {
			row, err := q.GetThrottle(ctx, account)
			if err != nil {
				return err
			}
			// The rollback gives the client's reservation back too: nothing was tried.
			return &WaitError{time.UnixMilli(row.NextAllowedAt).Sub(now)}
		}
		return err
	})
	return at, err
}

// failed keeps at as a failure and, past the free failures, makes the account's next
// attempt wait.
func (at Attempt) failed(ctx context.Context, q *queries.Queries, now time.Time) error {
	if at.account == "" || at.failures < FreeAccountFailures {
		return nil
	}
	return q.SetAccountDelay(ctx, queries.SetAccountDelayParams{
		Subject: at.account, NextAllowedAt: now.Add(AccountDelay(at.failures)).UnixMilli(),
	})
}

// succeeded gives the client its reservation back and clears the account's count.
func (at Attempt) succeeded(ctx context.Context, q *queries.Queries) error {
	if at.client != "" {
		if err := q.ReleaseClientAttempt(ctx, at.client); err != nil {
			return err
		}
	}
	if at.account == "" {
		return nil
	}
	return q.ClearThrottle(ctx, at.account)
}

// AccountDelay is the wait after an account's n-th failure in a row: 1 s after the
// FreeAccountFailures-th, doubling up to MaxAccountDelay.
func AccountDelay(n int64) time.Duration {
	k := n - FreeAccountFailures
	if k >= 6 {
		return MaxAccountDelay
	}
	return min(MaxAccountDelay, time.Second<<max(k, 0))
}

// PruneSignIns forgets throttle counters that hold nobody back any more and session rows
// older than lifetime (scs's absolute limit), so both tables stay small.
func (w *Writer) PruneSignIns(ctx context.Context, lifetime time.Duration) error {
	now := w.Now()
	if err := w.Queries.DeleteStaleThrottles(ctx, queries.DeleteStaleThrottlesParams{
		WindowFloor: now.Add(-max(ClientWindow, accountQuiet)).UnixMilli(), Now: now.UnixMilli(),
	}); err != nil {
		return err
	}
	return w.Queries.DeleteUserSessionsBefore(ctx, now.Add(-lifetime).UnixMilli())
}
