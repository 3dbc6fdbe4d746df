package handlers

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"keyport/input"
	"keyport/org"
	"keyport/team"
)

const orgsPath = "/dashboard/orgs"

// OrgsPage lists the signed-in user's organizations and offers to create one and, to
// an owner, to rename the current one.
type OrgsPage struct {
	Layout
	Orgs        []OrgChoice
	Name        string
	Error       string
	CanRename   bool
	Rename      string // the rename form's value
	RenameError string
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
	m := memberFrom(c)
	// loadMember has already read the list for a full GET page's header (and a POST,
	// which may have changed it, leaves it nil).
	orgs := m.Orgs
	if orgs == nil {
		var err error
		if orgs, err = s.userOrgs(c); err != nil {
			return err
		}
	}
	p.Layout, p.Orgs = s.layout(c, "Organizations", "orgs"), orgs
	p.CanRename = m.OrgID != "" && m.Can(team.ManageOwners)
	if p.Rename == "" {
		p.Rename = m.OrgName
	}
	block := "org-form"
	if p.RenameError != "" {
		block = "org-rename"
	}
	return s.render(c, status, "orgs", block, p)
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
	name, err := orgNameField(p.Name)
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

// renameOrg renames one of the user's organizations; owners only. One they are not in is
// not found.
func (s *Server) renameOrg(c echo.Context) error {
	orgs, err := s.userOrgs(c)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(orgs, func(o OrgChoice) bool { return o.ID == c.Param("id") })
	if i < 0 {
		return ErrNotFound
	}
	p := OrgsPage{Rename: c.FormValue("name")}
	name, err := orgNameField(p.Rename)
	if err != nil {
		p.RenameError = err.Error()
		return s.renderOrgs(c, http.StatusUnprocessableEntity, p)
	}
	by := org.Member{OrgID: orgs[i].ID, Actor: actor(c)}
	if err := s.Org.RenameOrganization(c.Request().Context(), by, name); err != nil {
		return err
	}
	s.flash(c, "Renamed "+orgs[i].Name+" to "+name+".")
	return redirect(c, orgsPath)
}

// errOrgNameMissing: unlike signup's, these forms have no name to fall back on.
var errOrgNameMissing = errors.New("Enter a name for the organization.")

// orgNameField reads the name field of the create and rename forms.
func orgNameField(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", errOrgNameMissing
	}
	return input.OrgName(s, "")
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
