package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"keyport/input"
	"keyport/org"
	"keyport/team"
)

const orgsPath = "/dashboard/orgs"

// OrgsPage lists the signed-in user's organizations and offers to create one.
type OrgsPage struct {
	Layout
	Orgs  []OrgChoice
	Name  string
	Error string
}

// OrgChoice is one of the user's organizations.
type OrgChoice struct {
	ID, Name string
	Role     team.Role
	Current  bool
}

func (s *Server) orgsPage(c echo.Context) error {
	return s.renderOrgs(c, http.StatusOK, OrgsPage{})
}

func (s *Server) renderOrgs(c echo.Context, status int, p OrgsPage) error {
	orgs, err := s.userOrgs(c)
	if err != nil {
		return err
	}
	p.Layout, p.Orgs = s.layout(c, "Organizations", "orgs"), orgs
	return s.render(c, status, "orgs", "org-form", p)
}

// userOrgs lists the signed-in user's organizations, the current one marked.
func (s *Server) userOrgs(c echo.Context) ([]OrgChoice, error) {
	m := memberFrom(c)
	rows, err := s.Read.ListUserOrganizations(c.Request().Context(), m.UserID)
	if err != nil {
		return nil, err
	}
	out := make([]OrgChoice, len(rows))
	for i, r := range rows {
		out[i] = OrgChoice{ID: r.ID, Name: r.Name, Role: team.Role(r.Role), Current: r.ID == m.OrgID}
	}
	return out, nil
}

func (s *Server) createOrg(c echo.Context) error {
	m := memberFrom(c)
	p := OrgsPage{Name: c.FormValue("name")}
	name, err := input.OrgName(p.Name, m.Email)
	if strings.TrimSpace(p.Name) == "" {
		err = errors.New("Enter a name for the organization.")
	}
	if err != nil {
		p.Error = err.Error()
		return s.renderOrgs(c, http.StatusUnprocessableEntity, p)
	}
	id, err := s.Org.CreateOrganization(c.Request().Context(), org.Actor{UserID: m.UserID, Email: m.Email, IP: c.RealIP()}, name)
	if err != nil {
		return err
	}
	s.Sessions.Put(c.Request().Context(), sessionOrgID, id)
	s.flash(c, "Created "+name+". You are its owner.")
	return redirect(c, dashboardPath)
}

// switchOrg makes another of the user's organizations the current one; one they are not
// in is not found.
func (s *Server) switchOrg(c echo.Context) error {
	orgs, err := s.userOrgs(c)
	if err != nil {
		return err
	}
	for _, o := range orgs {
		if o.ID == c.Param("id") {
			s.Sessions.Put(c.Request().Context(), sessionOrgID, o.ID)
			s.flash(c, "Switched to "+o.Name+".")
			return redirect(c, dashboardPath)
		}
	}
	return ErrNotFound
}
