-- name: CreateMembership :exec
INSERT INTO memberships (org_id, user_id, role, created_at)
VALUES (sqlc.arg(org_id), sqlc.arg(user_id), sqlc.arg(role), sqlc.arg(created_at));

-- name: GetSessionMember :one
-- The signed-in user in the organization their session prefers (org_id), or, if they are
-- no longer a member there, in the organization they joined first. Read on every
-- dashboard request, so a removal or role change applies to the next one.
SELECT users.id AS user_id, users.email, memberships.org_id, organizations.name AS org_name, memberships.role,
       CASE WHEN memberships.org_id = sqlc.arg(org_id) THEN 0 ELSE 1 END AS other
FROM memberships
JOIN users ON users.id = memberships.user_id
JOIN organizations ON organizations.id = memberships.org_id
WHERE memberships.user_id = sqlc.arg(user_id)
ORDER BY other, memberships.created_at, memberships.org_id
LIMIT 1;

-- name: ListUserOrganizations :many
SELECT organizations.id, organizations.name, memberships.role, memberships.created_at
FROM memberships JOIN organizations ON organizations.id = memberships.org_id
WHERE memberships.user_id = sqlc.arg(user_id)
ORDER BY organizations.name, organizations.id;

-- name: ListMembers :many
SELECT users.id AS user_id, users.email, users.last_sign_in_at, memberships.role, memberships.created_at
FROM memberships JOIN users ON users.id = memberships.user_id
WHERE memberships.org_id = sqlc.arg(org_id)
ORDER BY memberships.created_at, users.email;

-- name: GetMembership :one
SELECT users.id AS user_id, users.email, memberships.role
FROM memberships JOIN users ON users.id = memberships.user_id
WHERE memberships.org_id = sqlc.arg(org_id) AND memberships.user_id = sqlc.arg(user_id);

-- name: CountOwners :one
SELECT count(*) FROM memberships WHERE org_id = sqlc.arg(org_id) AND role = 'owner';

-- name: SetMemberRole :execrows
UPDATE memberships SET role = sqlc.arg(role)
WHERE org_id = sqlc.arg(org_id) AND user_id = sqlc.arg(user_id);

-- name: DeleteMembership :execrows
DELETE FROM memberships WHERE org_id = sqlc.arg(org_id) AND user_id = sqlc.arg(user_id);

-- name: GetOrganization :one
SELECT * FROM organizations WHERE id = sqlc.arg(id);

-- name: FindOrganizations :many
-- For the command line, which names an organization by id or by exact name.
SELECT * FROM organizations WHERE id = sqlc.arg(ref) OR name = sqlc.arg(ref) ORDER BY created_at, id;

-- name: CreateInvitation :exec
INSERT INTO invitations (id, org_id, token_hash, email, role, invited_by, created_at, expires_at)
VALUES (sqlc.arg(id), sqlc.arg(org_id), sqlc.arg(token_hash), sqlc.arg(email), sqlc.arg(role),
        sqlc.arg(invited_by), sqlc.arg(created_at), sqlc.arg(expires_at));

-- name: GetInvitationByHash :one
SELECT invitations.*, organizations.name AS org_name, users.email AS inviter_email
FROM invitations
JOIN organizations ON organizations.id = invitations.org_id
JOIN users ON users.id = invitations.invited_by
WHERE invitations.token_hash = sqlc.arg(token_hash);

-- name: GetInvitation :one
SELECT * FROM invitations WHERE org_id = sqlc.arg(org_id) AND id = sqlc.arg(id);

-- name: ListPendingInvitations :many
SELECT invitations.id, invitations.email, invitations.role, invitations.created_at,
       invitations.expires_at, users.email AS inviter_email
FROM invitations JOIN users ON users.id = invitations.invited_by
WHERE invitations.org_id = sqlc.arg(org_id)
  AND invitations.accepted_at IS NULL AND invitations.revoked_at IS NULL
  AND invitations.expires_at > sqlc.arg(now)
ORDER BY invitations.seq DESC;

-- name: RevokeInvitation :execrows
UPDATE invitations SET revoked_at = sqlc.arg(now)
WHERE org_id = sqlc.arg(org_id) AND id = sqlc.arg(id)
  AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > sqlc.arg(now);

-- name: AcceptInvitation :execrows
-- Single use: only a pending invitation is marked, so of two racing accepts one wins.
UPDATE invitations SET accepted_at = sqlc.arg(now), accepted_by = sqlc.arg(user_id)
WHERE id = sqlc.arg(id) AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > sqlc.arg(now);

-- name: RenameOrganization :exec
UPDATE organizations SET name = sqlc.arg(name) WHERE id = sqlc.arg(id);
