"""Every change of state of a CIA (convention intercommunale d'attribution, CCH L.441-1-6).

One transaction each, one audit entry each; the bilan is invalidated after the commit when
what drives it changes (a version becomes signed, then in force). The status machine and
the rule of the version in force are described in conventions/models/cia.py.

By flow: `versions` (the convention, the text of a draft, avenants, the status machine),
`objectives` (the bailleurs' and réservataires' objectives, the explanations of gaps),
`signature` (signatories, designation of the signers, the signature); `common` holds what
they share. Callers import the services from here.
"""

from conventions.services_cia.objectives import (
    bailleur_objectives_save,
    gap_explanation_save,
    reservataire_objectives_save,
)
from conventions.services_cia.signature import (
    SIGN_COOLOFF,
    SIGN_FAILURE_LIMIT,
    SIGN_REFUSED_KEY,
    recent_sign_failures,
    signatories_set,
    signer_candidates,
    signer_candidates_of,
    signer_designate,
    version_sign,
)
from conventions.services_cia.versions import (
    FIRST_YEAR,
    LAST_YEAR,
    VERSION_FIELDS,
    avenant_create,
    convention_create,
    version_enter_into_force,
    version_submit,
    version_update,
)

__all__ = [
    "FIRST_YEAR",
    "LAST_YEAR",
    "SIGN_COOLOFF",
    "SIGN_FAILURE_LIMIT",
    "SIGN_REFUSED_KEY",
    "VERSION_FIELDS",
    "avenant_create",
    "bailleur_objectives_save",
    "convention_create",
    "gap_explanation_save",
    "recent_sign_failures",
    "reservataire_objectives_save",
    "signatories_set",
    "signer_candidates",
    "signer_candidates_of",
    "signer_designate",
    "version_enter_into_force",
    "version_sign",
    "version_submit",
    "version_update",
]
