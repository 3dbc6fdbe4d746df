package handlers

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"keyport/apikey"
	"keyport/handlers/parse"
	"keyport/input"
	"keyport/keyauth"
	"keyport/org"
	"keyport/queries"
	"keyport/team"
)

// Layout is what every full page needs.
type Layout struct {
	Title  string
	Member *Member
	Nav    string // which nav link is current
	Flash  string
	Now    time.Time // the server's clock when the page was made; the page's relative times count from it
}

// Member is the signed-in user, their current organization and their role there (both
// empty when they are in none).
type Member struct {
	UserID  string
	Email   string
	OrgID   string
	OrgName string
	Role    team.Role
	Orgs    []OrgChoice // all of the user's organizations, on full pages only
}

// Can reports whether the member's role allows a; templates use it to hide what the role
// cannot use (the request is refused anyway).
func (m *Member) Can(a team.Action) bool { return m != nil && m.Role.Can(a) }

// Moment is a time shown relative ("3 minutes ago") with the exact time in a title.
type Moment struct {
	Set      bool
	Time     time.Time
	Relative string
}

func moment(ms int64, valid bool, now time.Time) Moment {
	if !valid {
		return Moment{}
	}
	t := time.UnixMilli(ms)
	return Moment{Set: true, Time: t, Relative: Relative(t, now)}
}

// KeyRow is one row of the API keys table. Its state and the actions it allows are
// decided by apikey.State, not in the template.
type KeyRow struct {
	ID           string
	Name         string
	Hint         string
	Scopes       []string
	Created      Moment
	LastUsed     Moment
	Expires      Moment
	ExpiresLabel string // "in 3 days", "expired"
	Revoked      Moment // shown instead of the expiry once the key is revoked
	Status       string // apikey.State's name: active, expiring, rolled, expired, revoked
	StatusLabel  string
	Working      bool // the API accepts it
	CanRoll      bool
	CanRevoke    bool
	RolledTo     string
	Usage        *Spark // the last 24 hours; nil when not loaded
	CreatedBy    string // the creator's email; "" for a key made without a user (API, root key)
	CreatorLeft  bool   // the creator is no longer a member
}

func keyRow(k queries.ApiKey, now time.Time) KeyRow {
	st := org.KeyState(k, now)
	r := KeyRow{
		ID:        k.ID,
		Name:      k.Name,
		Hint:      k.Hint,
		Scopes:    strings.Fields(k.Scopes),
		Created:   moment(k.CreatedAt, true, now),
		LastUsed:  moment(k.LastUsedAt.Int64, k.LastUsedAt.Valid, now),
		Expires:   moment(k.ExpiresAt.Int64, k.ExpiresAt.Valid, now),
		Revoked:   moment(k.RevokedAt.Int64, k.RevokedAt.Valid, now),
		Status:    st.String(),
		Working:   st.Working(),
		CanRoll:   st.CanRoll(),
		CanRevoke: st.CanRevoke(),
		RolledTo:  k.RolledTo.String,
	}
	if r.Expires.Set {
		r.ExpiresLabel = r.Expires.Relative
		if !r.Expires.Time.After(now) {
			r.ExpiresLabel = "expired"
		}
	}
	r.StatusLabel = stateLabels[st]
	if st == apikey.Rolled {
		r.StatusLabel += r.ExpiresLabel
	}
	return r
}

// stateLabels are the status badges' words.
var stateLabels = map[apikey.State]string{
	apikey.Active:   "Active",
	apikey.Expiring: "Expiring soon",
	apikey.Rolled:   "Rolled — expires ",
	apikey.Expired:  "Expired",
	apikey.Revoked:  "Revoked",
}

// KeysPage is the API keys dashboard.
type KeysPage struct {
	Layout
	Keys        []KeyRow
	Empty       bool // the organization has no keys in any state: show the empty state
	ShowRevoked bool
	CanCreate   bool
	More        MoreLink
	OOB         bool // rendered as an htmx out-of-band swap
}

// URL is the list with its filter, where a dialog's Done or Cancel leads.
func (p KeysPage) URL() string { return keysURL(!p.ShowRevoked) }

func keysURL(hideRevoked bool) string {
	if hideRevoked {
		return dashboardPath + "?status=active"
	}
	return dashboardPath
}

// KeyForm is the create-key dialog (or page, without JavaScript).
type KeyForm struct {
	Layout
	Name          string
	Error         string
	ExpiryOptions []Option
	ProductScopes []Option
	RootScopes    []Option
	CustomScopes  string // space-separated, as typed
	FormToken     string // one-time: a re-sent form creates nothing
	HideRevoked   bool   // the list the form was opened from hides revoked keys
	ListURL       string // that list, where Cancel leads
}

// CustomScopesMax bounds the custom scopes field: 20 scopes of 64 characters and spaces.
func (KeyForm) CustomScopesMax() int { return customScopesMax }

const customScopesMax = input.MaxCustomScopes * 65

// keepFilter makes the form lead back to the list filtered by status.
func (f *KeyForm) keepFilter(status string) {
	f.HideRevoked = hideRevoked(status)
	f.ListURL = keysURL(f.HideRevoked)
}

// Option is one choice of a select, radio or checkbox group.
type Option struct {
	Value, Label string
	Selected     bool
}

// keyForm builds the form with expiresIn and the fixed scopes preselected, and custom
// (the text field) as typed.
func keyForm(name, expiresIn string, scopes []string, custom string) KeyForm {
	// Echoed back no longer than the field allows.
	if r := []rune(custom); len(r) > customScopesMax {
		custom = string(r[:customScopesMax])
	}
	f := KeyForm{Name: echoField(name, input.MaxKeyNameChars), CustomScopes: custom}
	for _, d := range input.ExpiryDays {
		o := Option{Value: strconv.Itoa(d), Label: "Never"}
		if d > 0 {
			o.Label = fmt.Sprintf("In %d days", d)
		}
		o.Selected = o.Value == expiresIn
		f.ExpiryOptions = append(f.ExpiryOptions, o)
	}
	f.ProductScopes = scopeOptions(keyauth.ProductScopes, scopes)
	f.RootScopes = scopeOptions(keyauth.RootScopes, scopes)
	return f
}

func scopeOptions(group, selected []string) []Option {
	opts := make([]Option, 0, len(group))
	for _, s := range group {
		opts = append(opts, Option{Value: s, Label: s, Selected: slices.Contains(selected, s)})
	}
	return opts
}

// KeyCreated shows a new key once.
type KeyCreated struct {
	Layout
	Key      string
	Row      KeyRow
	Replaces *KeyRow // the rolled key this one replaces, if any
	List     KeysPage
	// KeyPage is set when the key was rolled on the old key's page, which has no list to
	// refresh behind the dialog: Done leads to the new key's page instead.
	KeyPage string
}

// KeyConfirm is the revoke (or roll) confirmation.
type KeyConfirm struct {
	Layout
	Row          KeyRow
	Error        string
	GraceChoices []Option
}

// graceChoices are the roll dialog's options with selected checked.
func graceChoices(selected string) []Option {
	opts := make([]Option, 0, len(input.GraceChoices))
	for _, v := range input.GraceChoices {
		opts = append(opts, Option{Value: v, Label: graceLabel(v), Selected: v == selected})
	}
	return opts
}

// graceLabel names a grace choice (a input.GraceChoices value).
func graceLabel(v string) string {
	switch v {
	case "0":
		return "None: it stops working now"
	case "1h":
		return "1 hour"
	case "24h":
		return "24 hours"
	case "168h":
		return "7 days"
	}
	return v
}

// AuthPage is the login or signup form.
type AuthPage struct {
	Layout
	Email      string
	Org        string
	Error      string
	EmailTaken bool   // the error offers to sign in instead
	Invite     string // the invitation token a sign-in accepts once it succeeds
}

// AccountPage is /dashboard/account.
type AccountPage struct {
	Layout
	Sessions int64 // signed-in sessions of the user
	Error    string
}

// ErrorPage is shown for errors on dashboard pages.
type ErrorPage struct {
	Layout
	Status  int
	Message string
}

// MoreLink is a table's "Load more" row: the next page's URL (empty on the last page).
type MoreLink struct {
	URL  string
	Cols int // columns the row spans
}

// AuditPage is the organization's audit log, one page of it.
type AuditPage struct {
	Layout
	Events []AuditRow
	More   MoreLink
}

// AuditRow is one audit event.
type AuditRow struct {
	Time        Moment
	Actor       string // the member's email, or what was typed at a failed sign-in
	Action      string // e.g. key_rolled
	ActionLabel string // e.g. "Rolled key"
	KeyName     string
	Member      string // whom a member event is about
	Detail      string
	IP          string
}

func auditRow(e queries.AuditEvent, now time.Time) AuditRow {
	return AuditRow{
		Time:        moment(e.CreatedAt, true, now),
		Actor:       e.ActorEmail,
		Action:      e.Action,
		ActionLabel: org.Action(e.Action).Label(),
		KeyName:     e.KeyName,
		Member:      e.TargetEmail,
		Detail:      e.Detail,
		IP:          e.IP,
	}
}

// ProductsPage is the organization's products, one page of them.
type ProductsPage struct {
	Layout
	Products []ProductRow
	More     MoreLink
}

// ProductRow is one product with the key that created it.
type ProductRow struct {
	ID      string
	Name    string
	Price   string // exact decimal, as the API returns it
	Created Moment
	KeyName string // empty when the product has no creating key on record
	KeyHint string
}

func productRow(p queries.ListProductsWithKeysRow, now time.Time) ProductRow {
	return ProductRow{
		ID:      p.ID,
		Name:    p.Name,
		Price:   parse.FormatCents(p.PriceCents),
		Created: moment(p.CreatedAt, true, now),
		KeyName: p.KeyName,
		KeyHint: p.KeyHint,
	}
}
