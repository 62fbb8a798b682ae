"""Database infrastructure every domain shares: the lowest layer, importing no domain.

``base`` (declarative base, UTC timestamps), ``engine`` (the pooled engine), ``connections``
(timeouts, keepalive, direct connections), ``sessions`` (tenant-scoped sessions for row-level
security), ``dialect`` (``is_postgres``), ``clock`` (``utc_now``), ``broadcast`` (change
notifications between replicas), ``errors`` (``DomainError``, the base of every domain's
expected errors).
"""

# Imported for its side effect: every session transaction sets the tenant row-level security
# reads, whichever module made the session; without the hook a session would see no rows.
from db import sessions as sessions
