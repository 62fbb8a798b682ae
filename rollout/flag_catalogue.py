"""The closed, typed catalogue of flags the product itself checks (keys, parents, defaults)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from rollout.models import FlagKind

ON, OFF = "on", "off"
# The version of a flag nobody has configured yet: what OFREP and GraphQL report for it, and
# the ``expectedVersion`` its first edit names; the row ``flags.ensure`` creates starts there.
FIRST_VERSION = 1
BOOLEAN_VARIANTS: MappingProxyType[str, object] = MappingProxyType({ON: True, OFF: False})


class FlagKey(StrEnum):
    HANDBOOK = "handbook"
    MEETINGS = "handbook.meetings"
    NOTICES = "handbook.notices"
    RESOLUTION_COMMENTS = "handbook.resolution-comments"


@dataclass(frozen=True, slots=True)
class FlagDefinition:
    key: FlagKey
    description: str
    parent: FlagKey | None  # the product checks the parent too: off parent, off child
    kind: FlagKind = FlagKind.BOOLEAN
    # Served while the flag has no configuration: on, so an install without a rollout plan
    # works. A rollout plan creates the flag with the default "off" and stages it from there.
    unconfigured_variant: str = ON


CATALOGUE: MappingProxyType[FlagKey, FlagDefinition] = MappingProxyType(
    {
        FlagKey.HANDBOOK: FlagDefinition(
            FlagKey.HANDBOOK, "The electronic party-member handbook as a whole.", None
        ),
        FlagKey.MEETINGS: FlagDefinition(
            FlagKey.MEETINGS, "Branch meetings, agendas and attendance.", FlagKey.HANDBOOK
        ),
        FlagKey.NOTICES: FlagDefinition(
            FlagKey.NOTICES, "Notices of party and government tasks.", FlagKey.HANDBOOK
        ),
        FlagKey.RESOLUTION_COMMENTS: FlagDefinition(
            FlagKey.RESOLUTION_COMMENTS,
            "Members' comments on draft branch resolutions.",
            FlagKey.HANDBOOK,
        ),
    }
)


def definition(key: str) -> FlagDefinition | None:
    """The catalogue entry for ``key``, or None when the product does not know the flag."""
    try:
        return CATALOGUE[FlagKey(key)]
    except ValueError:
        return None


def lineage(key: FlagKey) -> tuple[FlagKey, ...]:
    """The flag and its ancestors, outermost first: every one must be on."""
    chain = [key]
    parent = CATALOGUE[key].parent
    while parent is not None:
        chain.append(parent)
        parent = CATALOGUE[parent].parent
    return tuple(reversed(chain))
