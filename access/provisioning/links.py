"""Expiring download links (MIN-13): a signed token naming the run, the file and the user.

The token is bound to the user it was made for: a forwarded link does not work for anyone else,
and it is refused after ``EDS_DOWNLOAD_LINK_MINUTES``. Nothing is stored: the signature and its
timestamp are the proof.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "access.provisioning.download"


@dataclass(frozen=True)
class DownloadGrant:
    run_id: int
    file_name: str
    user_id: int


class LinkExpired(Exception):
    """The link was valid but is too old."""


class LinkInvalid(Exception):
    """The link was not made by the portal, or was altered."""


def download_url(run: Any, file_name: str, user: Any) -> str:
    token = signing.dumps({"r": run.pk, "f": file_name, "u": user.pk}, salt=SALT)
    return reverse("provisioning_download", args=[token])


def read_token(token: str) -> DownloadGrant:
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.EDS_DOWNLOAD_LINK_MINUTES * 60)
    except signing.SignatureExpired as exc:
        raise LinkExpired from exc
    except signing.BadSignature as exc:
        raise LinkInvalid from exc
    try:
        return DownloadGrant(int(data["r"]), str(data["f"]), int(data["u"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise LinkInvalid from exc
