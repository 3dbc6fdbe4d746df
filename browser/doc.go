// Package browser holds keyport's end-to-end tests in a real Chromium: they sign up,
// create, copy and revoke keys through the dashboard the way a person does, with and
// without JavaScript and from the keyboard, and check each dialog with axe-core.
//
// Without Chromium the tests skip; with KEYPORT_REQUIRE_BROWSER=1 (set by .ci/run) a
// missing browser fails them. KEYPORT_CHROMIUM names a browser binary explicitly.
// KEYPORT_SCREENSHOTS=1 regenerates the screenshots in docs/.
package browser
