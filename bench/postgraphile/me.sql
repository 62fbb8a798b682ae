-- "Me" for PostGraphile: the member, their branch's upcoming meetings and the notices they may
-- read, as PilotGraph's Home operation answers them for a member (tenants/handbook/service.py:
-- list_meetings with When.UPCOMING, list_notices). Invoker's rights (the default): they run as
-- the app role, so row-level security applies exactly as to the tables themselves. The member is
-- the verified token's, set per transaction by the server's pgSettings (app.member_id). The
-- sets are ordered as the gateway orders them; the client's `first` limits them (PostgreSQL
-- inlines these functions, so the limit reaches the sort).

CREATE OR REPLACE FUNCTION me() RETURNS members
LANGUAGE sql STABLE SECURITY INVOKER
AS $$
  SELECT m.* FROM members m
  WHERE m.id = NULLIF(current_setting('app.member_id', true), '')::uuid
$$;

CREATE OR REPLACE FUNCTION my_upcoming_meetings() RETURNS SETOF meetings
LANGUAGE sql STABLE SECURITY INVOKER
AS $$
  SELECT g.* FROM meetings g
  JOIN members m ON m.tenant_id = g.tenant_id AND m.branch_id = g.branch_id
  WHERE m.id = NULLIF(current_setting('app.member_id', true), '')::uuid AND g.ends_at >= now()
  ORDER BY g.starts_at, g.id
$$;

CREATE OR REPLACE FUNCTION my_notices() RETURNS SETOF notices
LANGUAGE sql STABLE SECURITY INVOKER
AS $$
  SELECT x.* FROM notices x
  WHERE x.branch_id IS NULL OR x.branch_id = (
    SELECT m.branch_id FROM members m
    WHERE m.id = NULLIF(current_setting('app.member_id', true), '')::uuid
  )
  ORDER BY x.published_at DESC, x.id
$$;
