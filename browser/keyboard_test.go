package browser

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"keyport/testapp"
)

// TestKeyboard opens each dialog from the keyboard: Enter or Space on its button opens
// it with focus inside, Escape closes it and gives focus back to the button.
func TestKeyboard(t *testing.T) {
	a := testapp.New(t, realTime)
	tb := newTab(t, a)
	tb.signup("alan@example.com", "Bletchley")
	tb.openCreateDialog()
	tb.createKeyInDialog("Staging")
	// The key was not copied: the first Escape asks, the second closes.
	tb.do("close the key dialog",
		chromedp.KeyEvent(kb.Escape),
		chromedp.WaitVisible(chromedp.CSS("#close-confirm")),
		chromedp.KeyEvent(kb.Escape),
		chromedp.WaitNotVisible(chromedp.CSS("#modal")),
	)

	const createButton = "#create-key-button"
	const revokeButton = `#keys-tbody button[aria-label="Revoke Staging"]`
	tests := []struct {
		name, button, key, focus string // focus: where focus lands in the dialog
	}{
		{"create on Enter", createButton, kb.Enter, "#key-name"},
		{"create on Space", createButton, " ", "#key-name"},
		{"revoke on Enter", revokeButton, kb.Enter, "#modal .modal-footer a"},
		{"revoke on Space", revokeButton, " ", "#modal .modal-footer a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := tb.in(t)
			tb.do("focus the button and press the key",
				chromedp.Focus(chromedp.CSS(tt.button)),
				chromedp.KeyEvent(tt.key),
				chromedp.WaitVisible(chromedp.CSS("#modal .modal-footer")),
			)
			if !eval[bool](tb, `document.activeElement === document.querySelector(`+jsString(tt.focus)+`)`) {
				t.Errorf("focus is on %s, want %s", tb.activeElement(), tt.focus)
			}
			tb.do("press Escape", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotVisible(chromedp.CSS("#modal")))
			if !eval[bool](tb, `document.activeElement === document.querySelector(`+jsString(tt.button)+`)`) {
				t.Errorf("after Escape focus is on %s, want the button %s", tb.activeElement(), tt.button)
			}
		})
	}
}

// activeElement describes the focused element for a failure message.
func (tb *tab) activeElement() string {
	tb.t.Helper()
	return eval[string](tb, `(() => {
		const e = document.activeElement;
		return e ? e.outerHTML.slice(0, 120) : 'nothing';
	})()`)
}
