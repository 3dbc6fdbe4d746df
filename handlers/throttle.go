package handlers

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"keyport/org"
)

// throttled answers a refused attempt: Retry-After, and the words for the form.
func throttled(c echo.Context, e *org.WaitError) string {
	secs := max(1, int((e.Wait+time.Second-1)/time.Second))
	c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
	if secs < 120 {
		return fmt.Sprintf("Too many attempts. Try again in %d seconds.", secs)
	}
	return fmt.Sprintf("Too many attempts. Try again in %d minutes.", (secs+59)/60)
}

// clientSubject is the throttle subject for an IP address: the address, or its /64 for
// IPv6, where one client commonly holds a whole /64.
func clientSubject(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return "ip:" + ip
	}
	addr = addr.Unmap().WithZone("")
	if addr.Is6() {
		return "ip:" + netip.PrefixFrom(addr, 64).Masked().String()
	}
	return "ip:" + addr.String()
}

func accountSubject(email string) string { return "email:" + email }

// TrustedProxyExtractor returns the client address echo should use: the peer, or from a
// peer in trusted, the rightmost X-Forwarded-For entry that is not itself in trusted.
// X-Real-IP and Forwarded are never read: a client could set them.
func TrustedProxyExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	// Echo trusts loopback, link-local and private ranges unless told not to; only the
	// operator's list counts here.
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}
