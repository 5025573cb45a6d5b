"""Client addresses under a rotating key: traceable within a period, anonymous afterwards (LOG-04).

Patients use the public pages (the objection form, the status page) without an account. Their
connection's address is personal data that the trail does not need: it needs to see that many
requests came from one place (a flood), not who sent them. So public and anonymous requests
record ``address_hash(address)`` instead of the address:

- HMAC-SHA256 keyed with the SECRET_KEY *and* a random salt drawn for each period of
  ``EDS_ADDRESS_KEY_DAYS`` days (table ``AddressKey``): the same address gives the same hash
  within a period, another one in the next period;
- the salt is deleted ``EDS_ADDRESS_KEY_RETENTION_DAYS`` days after its period starts (nightly
  task ``purge_address_keys_task``): from then on nobody, not even with the SECRET_KEY and all
  2^32 IPv4 addresses to try, can tell which address a hash was.

Staff actions keep the address itself (``eds_portal.audit.record_event`` decides).
"""

from __future__ import annotations

import ipaddress
import secrets
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from eds_portal.models import AddressKey

# Periods are counted from this Monday: with 7-day periods a key runs from Monday to Sunday.
EPOCH = date(2024, 1, 1)


def period_start(day: date) -> date:
    days = settings.EDS_ADDRESS_KEY_DAYS
    return EPOCH + timedelta(days=((day - EPOCH).days // days) * days)


def _today() -> date:
    return timezone.localdate()


def _normalised(address: str) -> str:
    # One address, one hash, however it is spelled (IPv6 zeros, IPv4-mapped IPv6).
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip()
    mapped = getattr(parsed, "ipv4_mapped", None)
    return (mapped or parsed).compressed


def _digest(salt: str, address: str) -> str:
    return salted_hmac(
        f"eds_portal.address|{salt}", _normalised(address), algorithm="sha256"
    ).hexdigest()


def _current_salt(starts_on: date) -> str:
    # Usually drawn beforehand by the nightly task; else on first use. Two processes drawing at
    # once keep the first one's salt (unique column, get_or_create retries the read).
    return AddressKey.objects.get_or_create(
        starts_on=starts_on, defaults={"salt": secrets.token_hex(32)}
    )[0].salt


def address_hash(address: str) -> str:
    """The address under the current period's key (the key is drawn on first use)."""
    return _digest(_current_salt(period_start(_today())), address)


def address_hashes(address: str) -> list[str]:
    """This period's hash, then the previous period's while its key is kept.

    Flood windows (an hour) straddle a period's start: counting both hashes keeps the count.
    """
    start = period_start(_today())
    previous = start - timedelta(days=settings.EDS_ADDRESS_KEY_DAYS)
    salts = dict(
        AddressKey.objects.filter(starts_on__in=[start, previous]).values_list("starts_on", "salt")
    )
    current = salts.get(start) or _current_salt(start)
    hashes = [_digest(current, address)]
    if previous in salts:
        hashes.append(_digest(salts[previous], address))
    return hashes


def address_hash_at(address: str, at: datetime) -> str | None:
    """The hash an address had at ``at``, or None once that period's key is deleted.

    For tracing a flood within the retention period; it never draws a key for a past period.
    """
    start = period_start(timezone.localdate(at))
    if start == period_start(_today()):
        return address_hash(address)
    salt = AddressKey.objects.filter(starts_on=start).values_list("salt", flat=True).first()
    return _digest(salt, address) if salt is not None else None


def expired_before(today: date | None = None) -> date:
    """Keys of periods starting before this day are past their retention."""
    return (today or _today()) - timedelta(days=settings.EDS_ADDRESS_KEY_RETENTION_DAYS)


def purge_address_keys(*, today: date | None = None) -> list[date]:
    """Deletes the keys past their retention and draws the current period's; audited.

    Returns the start days of the periods whose key was deleted.
    """
    from eds_portal.audit import record_event

    today = today or _today()
    with transaction.atomic():
        expired = AddressKey.objects.filter(starts_on__lt=expired_before(today))
        periods = sorted(expired.values_list("starts_on", flat=True))
        if periods:
            expired.delete()
            record_event(
                action="audit.address_keys_deleted",
                target_type="eds_portal.addresskey",
                after={"periods": [day.isoformat() for day in periods]},
            )
    _current_salt(period_start(today))
    return periods
