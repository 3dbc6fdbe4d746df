package browser

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"keyport/queries"
	"keyport/testapp"
)

// The team flow of SPEC-teams.md in a real browser: the owner invites a colleague, who
// signs up from the link and creates a key; the owner lowers them to viewer, and the
// colleague's page, still open on the create dialog, can no longer create.
func TestTeamInviteAndLowerRole(t *testing.T) {
	a := testapp.New(t, realTime)
	owner := newTab(t, a)
	owner.signup("owner@example.com", "Acme")

	owner.do("invite a colleague",
		chromedp.Navigate(a.URL+"/dashboard/members"),
		chromedp.Click(chromedp.CSS("#invite-button")),
		chromedp.WaitVisible(chromedp.CSS("#modal #invite-email")),
		chromedp.SendKeys(chromedp.CSS("#modal #invite-email"), "Colleague@Example.com"),
		chromedp.Click(chromedp.CSS("#modal button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#modal #invite-link")),
	)
	link := owner.text("#modal #invite-link")
	if !strings.HasPrefix(link, a.URL+"/invite/kpi_") {
		t.Fatalf("the dialog shows %q, not an invitation link", link)
	}
	if got := owner.text("#members-section .invitation-row"); !strings.Contains(got, "colleague@example.com") {
		t.Errorf("the pending invitation is not listed behind the dialog: %q", got)
	}

	colleague := newTab(t, a)
	colleague.do("open the link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#password")))
	if got := get(colleague, "read the email", chromedp.Value(chromedp.CSS("#email"))); got != "colleague@example.com" {
		t.Errorf("the sign-up form's email = %q, want the invited one", got)
	}
	if ro := get(colleague, "read readonly", chromedp.AttributeValue(chromedp.CSS("#email"), "readonly")); !ro.Exists {
		t.Error("the invited email can be edited")
	}
	colleague.do("sign up from the link",
		chromedp.SendKeys(chromedp.CSS("#password"), testapp.Password),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#keys-section")),
	)
	if got := colleague.text(".org-current"); got != "Acme" {
		t.Errorf("the colleague's header shows %q, want Acme", got)
	}
	colleague.openCreateDialog()
	colleague.createKeyInDialog("Colleague key")
	colleague.do("close the dialog and open a new one",
		chromedp.Click(chromedp.CSS("#modal [data-done]")),
		chromedp.WaitNotVisible(chromedp.CSS("#modal")),
	)
	colleague.openCreateDialog()
	colleague.do("fill the form", chromedp.SendKeys(chromedp.CSS("#modal #key-name"), "After demotion"))

	id := orgMemberID(t, a, "colleague@example.com")
	owner.do("lower the colleague to viewer",
		chromedp.Navigate(a.URL+"/dashboard/members"),
		chromedp.WaitVisible(chromedp.CSS("#role-"+id)),
		chromedp.SetValue(chromedp.CSS("#role-"+id), "viewer"),
		chromedp.Click(chromedp.CSS("#member-"+id+" .role-form button")),
		chromedp.WaitVisible(chromedp.CSS(`#member-`+id+`[data-role="viewer"]`)),
	)

	colleague.do("submit the open dialog",
		chromedp.Click(chromedp.CSS("#modal button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".toast-error")),
	)
	if got := colleague.text(".toast-error"); !strings.Contains(got, "As a viewer you cannot create API keys") {
		t.Errorf("error toast = %q", got)
	}
	keys, err := a.Server.Read.ListAPIKeys(context.Background(), queries.ListAPIKeysParams{
		OrgID: orgOf(t, a, "owner@example.com"), Before: 1 << 62, IncludeRevoked: 1, Limit: 10,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0].ApiKey.Name != "Colleague key" {
		t.Errorf("the organization's keys after the refusal: %d, want only the colleague's first", len(keys))
	}
	// A reload shows the viewer's page: no create button, the key still listed with its creator.
	colleague.do("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#keys-section")))
	if n := eval[int](colleague, `document.querySelectorAll('#create-key-button').length`); n != 0 {
		t.Error("a viewer's page still offers Create new key")
	}
	if got := colleague.text("#keys-tbody .creator"); got != "by colleague@example.com" {
		t.Errorf("Created by = %q", got)
	}
}

// orgOf is the organization email joined first.
func orgOf(t *testing.T, a *testapp.App, email string) string {
	t.Helper()
	u, err := a.Server.Read.GetUserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	m, err := a.Server.Read.GetSessionMember(context.Background(), queries.GetSessionMemberParams{UserID: u.ID})
	if err != nil {
		t.Fatal(err)
	}
	return m.OrgID
}

// TestMembersScreenshot regenerates docs/members.png, the README's members page:
//
//	KEYPORT_SCREENSHOTS=1 go test ./browser -run MembersScreenshot
func TestMembersScreenshot(t *testing.T) {
	if os.Getenv("KEYPORT_SCREENSHOTS") != "1" {
		t.Skip("set KEYPORT_SCREENSHOTS=1 to regenerate docs/*.png")
	}
	a := testapp.New(t)
	tb := newTab(t, a)
	tb.do("use a 2× viewport", chromedp.EmulateViewport(1280, 760, chromedp.EmulateScale(2)))
	tb.signup("ada@example.com", "Analytical Engines")
	owner := tb.client()
	a.Clock.Advance(3 * 24 * time.Hour)
	a.Join(t, owner, "charles@example.com", "admin")
	a.Clock.Advance(26 * time.Hour)
	mary := a.Join(t, owner, "mary@example.com", "member")
	mary.CreateKey("Reporting job")
	a.Clock.Advance(5 * time.Hour)
	a.Join(t, owner, "auditor@example.com", "viewer")
	a.Clock.Advance(2 * time.Hour)
	owner.Invite("grace@example.com", "member")
	a.Clock.Advance(40 * time.Minute)
	tb.do("open the members page",
		chromedp.Navigate(a.URL+"/dashboard/members"),
		chromedp.WaitVisible(chromedp.CSS(".invitation-row")),
		chromedp.MouseEvent(chromedp.MouseMoved, 0, 0),
		chromedp.Blur(chromedp.CSS("body")),
	)
	tb.screenshot("members.png")
}

// The members page with scripts off: inviting shows the link on a page, a role change
// and a removal are plain forms that come back to the members page.
func TestMembersWithoutJavaScript(t *testing.T) {
	a := testapp.New(t, realTime)
	tb := newTab(t, a)
	tb.disableJavaScript()
	tb.signup("owner@example.com", "Acme")
	a.Join(t, tb.client(), "bob@example.com", "member")
	bob := orgMemberID(t, a, "bob@example.com")

	tb.do("invite on a page",
		chromedp.Navigate(a.URL+"/dashboard/members"),
		chromedp.Click(chromedp.CSS("#invite-button")),
		chromedp.WaitVisible(chromedp.CSS("main #invite-email")),
		chromedp.SendKeys(chromedp.CSS("main #invite-email"), "cat@example.com"),
		chromedp.Click(chromedp.CSS("main button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("main #invite-link")),
	)
	if link := tb.text("main #invite-link"); !strings.HasPrefix(link, a.URL+"/invite/kpi_") {
		t.Errorf("the page shows %q, not a link", link)
	}
	tb.do("back to the members page, change bob's role",
		chromedp.Click(chromedp.CSS("main .modal-footer a")),
		chromedp.WaitVisible(chromedp.CSS("#role-"+bob)),
		chromedp.SetValue(chromedp.CSS("#role-"+bob), "viewer"),
		chromedp.Click(chromedp.CSS("#member-"+bob+" .role-form button")),
		chromedp.WaitVisible(chromedp.CSS(`#member-`+bob+`[data-role="viewer"]`)),
	)
	if got := tb.text(".toast"); !strings.Contains(got, "bob@example.com is now a viewer") {
		t.Errorf("flash = %q", got)
	}
	tb.do("remove bob through the confirm page",
		chromedp.Click(chromedp.CSS("#member-"+bob+" .actions button")),
		// The members page has red buttons of its own: wait for the confirm page's.
		chromedp.WaitVisible(chromedp.CSS("main .modal-footer .btn-danger")),
		chromedp.Click(chromedp.CSS("main .modal-footer .btn-danger")),
		chromedp.WaitVisible(chromedp.CSS("#members-section")),
	)
	if n := eval[int](tb, `document.querySelectorAll('#member-`+bob+`').length`); n != 0 || tb.path() != "/dashboard/members" {
		t.Errorf("after removing bob: %d rows for him, at %s", n, tb.path())
	}
}

// orgMemberID is the id of the user with email.
func orgMemberID(t *testing.T, a *testapp.App, email string) string {
	t.Helper()
	u, err := a.Server.Read.GetUserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}
