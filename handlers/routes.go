package handlers

import (
	"io/fs"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"keyport/keyauth"
)

// Routes registers every route on e, grouped by the middleware that guards them.
func (s *Server) Routes(e *echo.Echo, static fs.FS) {
	e.HTTPErrorHandler = s.handleError
	// The peer address, or X-Forwarded-For only as far as trusted proxies wrote it: the
	// sign-in throttle counts per IP and a client must not choose its own.
	e.IPExtractor = TrustedProxyExtractor(s.TrustedProxies)
	e.Use(s.requestLog)

	if s.PublicURL != nil {
		e.Use(publicHost(s.PublicURL))
	}

	e.GET("/healthz", s.healthz)
	e.HEAD("/healthz", s.healthz)
	// On the main listener for simplicity; the README says to keep it private at the proxy.
	e.GET("/metrics", echo.WrapHandler(s.Metrics.Handler()))
	e.StaticFS("/static", static)

	// Products API: key auth per route (not on a group), so an unknown /api path is a
	// plain 404 whether or not a key was sent. The API's route middleware is wrapped
	// around its handler here, once: given to Echo, it would be wrapped again on every
	// request.
	read := s.requireKey(keyauth.ScopeProductsRead)
	write := s.requireKey(keyauth.ScopeProductsWrite)
	e.POST("/api/products", write(s.createProduct))
	e.POST("/api/products/create", write(s.createProduct))
	e.GET("/api/products", read(s.listProducts))
	e.GET("/api/products/:id", productPath(read(s.getProduct)))
	e.GET("/api/openapi.json", serveOpenAPI)

	// Key service: the organization's other services ask about their clients' keys, with
	// a root key.
	e.POST("/api/v1/keys/verify", s.requireKey(keyauth.ScopeKeysVerify)(s.verifyKey))
	e.GET("/api/v1/forward-auth", s.forwardAuth)
	keysRead, keysWrite := s.requireKey(keyauth.ScopeKeysRead), s.requireKey(keyauth.ScopeKeysWrite)
	e.GET("/api/v1/keys", keysRead(s.listAPIKeys))
	e.POST("/api/v1/keys", keysWrite(s.createAPIKey))
	e.GET("/api/v1/keys/:id", keyPath(keysRead(s.getAPIKey)))
	e.POST("/api/v1/keys/:id/revoke", keysWrite(s.revokeAPIKey))
	e.POST("/api/v1/keys/:id/roll", keysWrite(s.rollAPIKey))
	e.GET("/api/v1/keys/:id/usage", keysRead(s.keyUsage))

	// Pages: sessions, the cross-origin check and the signed-in member. Listed per route
	// because an Echo group with middleware at prefix "" would also catch /api's 404s.
	web := []echo.MiddlewareFunc{pageGuard, echo.WrapMiddleware(s.loadAndSave), sameOrigin(), s.loadMember}
	e.GET("/", s.home, web...)
	e.GET("/signup", s.signupForm, web...)
	e.POST("/signup", s.signup, web...)
	e.GET("/login", s.loginForm, web...)
	e.POST("/login", s.login, web...)
	e.POST("/logout", s.logout, web...)

	e.GET("/invite/:token", s.invitePage, web...)
	e.POST("/invite/:token", s.acceptInvite, web...)
	e.POST("/invite/:token/signup", s.signupInvited, web...)

	// Signed in, also when in no organization (after leaving the last one).
	signedIn := slices.Concat(web, []echo.MiddlewareFunc{requireMember})
	e.GET(orgsPath, s.orgsPage, signedIn...)
	e.POST(orgsPath, s.createOrg, signedIn...)
	e.POST(orgsPath+"/:id/switch", s.switchOrg, signedIn...)
	e.POST(orgsPath+"/:id/rename", s.renameOrg, signedIn...)
	e.GET("/dashboard/account", s.accountPage, signedIn...)
	e.POST("/dashboard/account/password", s.changePassword, signedIn...)
	e.POST("/dashboard/account/sign-out-everywhere", s.signOutEverywhere, signedIn...)

	dash := e.Group("/dashboard", slices.Concat(signedIn, []echo.MiddlewareFunc{requireOrg})...)
	dash.GET("", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, dashboardPath) })
	dash.GET("/integrations/api", s.keysPage)
	dash.GET("/integrations/api/keys/new", s.newKeyForm)
	dash.POST("/integrations/api/keys", s.createKey)
	dash.GET("/integrations/api/keys/:id", s.keyPage)
	dash.GET("/integrations/api/keys/:id/roll", s.rollConfirm)
	dash.POST("/integrations/api/keys/:id/roll", s.rollKey)
	dash.GET("/integrations/api/keys/:id/revoke", s.revokeConfirm)
	dash.POST("/integrations/api/keys/:id/revoke", s.revokeKey)
	dash.DELETE("/integrations/api/keys/:id", s.revokeKey)
	dash.GET("/products", s.productsPage)
	dash.GET("/audit", s.auditPage)
	dash.GET("/members", s.membersPage)
	dash.GET("/members/invitations/new", s.inviteForm)
	dash.POST("/members/invitations", s.invite)
	dash.POST("/members/invitations/:id/revoke", s.revokeInvitation)
	dash.POST("/members/:user_id/role", s.changeRole)
	dash.GET("/members/:user_id/remove", s.removeConfirm)
	dash.POST("/members/:user_id/remove", s.removeMember)
	dash.GET("/members/leave", s.leaveConfirm)
	dash.POST("/members/leave", s.leave)
}

func (s *Server) healthz(c echo.Context) error {
	if _, err := s.Read.Ping(c.Request().Context()); err != nil {
		return c.String(http.StatusServiceUnavailable, "database unavailable")
	}
	return c.String(http.StatusOK, "ok")
}
