package handlers_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"keyport/testapp"
)

// Finding 5: the HX-Trigger toast header carried raw UTF-8. Every header value must be
// ASCII; the toast's JSON escapes the name and still decodes to it. (How it shows in a
// browser: browser.TestToastWithNonASCIIName.)
func TestResponseHeadersASCII(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	c := a.Signup(t, "ascii@example.com")
	const name = "Café “Ünïcode” 🔑"
	_, id := c.CreateKey(name)
	resp, _ := c.Do(http.MethodDelete, dashboard+"/keys/"+id, nil, "HX-Request: true")
	for k, vs := range resp.Header {
		for _, v := range vs {
			for i := 0; i < len(v); i++ {
				if v[i] >= 0x80 {
					t.Errorf("header %s carries non-ASCII bytes: %q", k, v)
					break
				}
			}
		}
	}
	var trig struct {
		ShowToast struct{ Message string } `json:"showToast"`
	}
	if err := json.Unmarshal([]byte(resp.Header.Get("HX-Trigger")), &trig); err != nil {
		t.Fatalf("HX-Trigger %q: %v", resp.Header.Get("HX-Trigger"), err)
	}
	if got, want := trig.ShowToast.Message, "API key “"+name+"” revoked"; got != want {
		t.Errorf("toast message %q, want %q", got, want)
	}
}
