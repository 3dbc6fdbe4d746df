package handlers

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
)

// ParsePublicURL checks a -public-url value: http or https, a host, nothing else.
func ParsePublicURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" || u.User != nil ||
		u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("want https://HOST[:PORT] (or http:// for a local test), with no path")
	}
	return u, nil
}

// canonicalHost is host:port, lower-cased, with the scheme's default port filled in.
func canonicalHost(host, scheme string) string {
	host = strings.ToLower(host)
	if _, _, err := net.SplitHostPort(host); err != nil {
		port := "443"
		if scheme == "http" {
			port = "80"
		}
		host = net.JoinHostPort(strings.Trim(host, "[]"), port)
	}
	h, p, _ := net.SplitHostPort(host)
	return net.JoinHostPort(strings.TrimSuffix(h, "."), p)
}

// publicHost answers 421 to a request for any host but the public URL's (but /healthz,
// which a load balancer calls by address): a page a browser loaded from another name
// (DNS rebinding of an attacker's name to a local keyport) cannot read or drive it.
// Over https it also sends HSTS.
func publicHost(public *url.URL) echo.MiddlewareFunc {
	want := canonicalHost(public.Host, public.Scheme)
	hsts := public.Scheme == "https"
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if canonicalHost(req.Host, public.Scheme) != want && req.URL.Path != "/healthz" {
				return echo.NewHTTPError(http.StatusMisdirectedRequest,
					fmt.Sprintf("This keyport answers only at %s.", public.Host))
			}
			if hsts {
				c.Response().Header()[hdrHSTS] = hstsValue
			}
			return next(c)
		}
	}
}
