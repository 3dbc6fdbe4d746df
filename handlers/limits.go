package handlers

import (
	"errors"
	"mime"
	"net/http"

	"github.com/labstack/echo/v4"
)

// MaxPageBody is the most a page route (sign-in, signup, every dashboard form) reads of
// a request body, however it is sent: no form of keyport's comes near it.
const MaxPageBody = 64 << 10

// pageGuard bounds and parses the body of a page request before anything reads it, so
// no handler can be made to hold a large body in memory (Go's form parsing would keep
// up to 32 MB of a multipart field), and marks the answer not to be stored: pages
// show keys' metadata and audit rows that must not linger in a shared cache.
func pageGuard(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header()[hdrCacheControl] = noStoreValue
		req := c.Request()
		if req.ContentLength > MaxPageBody {
			return errBodyTooLarge
		}
		req.Body = http.MaxBytesReader(c.Response(), req.Body, MaxPageBody)
		var err error
		if ct, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type")); ct == "multipart/form-data" {
			// Within the 64 KiB limit everything stays in memory; nothing spills to disk.
			err = req.ParseMultipartForm(MaxPageBody)
		} else {
			err = req.ParseForm()
		}
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return errBodyTooLarge
		}
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.").SetInternal(err)
		}
		return next(c)
	}
}

var errBodyTooLarge = echo.NewHTTPError(http.StatusRequestEntityTooLarge, "The form is too large (at most 64 KiB).")
