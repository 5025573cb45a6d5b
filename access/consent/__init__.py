"""The consent register (CON-01 to CON-07).

Recorded by the DPO, read by the DPO and the data steward; ``consenting_persons`` is what
provisioning reads for a consent-based project.
"""

from access.consent.selectors import consenting_persons, is_consenting

__all__ = ["consenting_persons", "is_consenting"]
