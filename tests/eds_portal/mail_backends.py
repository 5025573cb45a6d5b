"""Mail backends for tests: a server that refuses every address, one that is down for a while."""

from __future__ import annotations

import smtplib

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend

REFUSED = "550 5.1.1 <{address}>: Recipient address rejected: User unknown"


class RefusingBackend(BaseEmailBackend):
    """The server answers 550 to every recipient (a mistyped address)."""

    def send_messages(self, email_messages):
        for message in email_messages:
            raise smtplib.SMTPRecipientsRefused(
                {
                    address: (550, REFUSED.format(address=address).encode())
                    for address in message.recipients()
                }
            )
        return 0


class DownBackend(BaseEmailBackend):
    """The server cannot be reached (connection refused or timed out)."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError(111, "Connection refused")


class FlakyBackend(LocmemBackend):
    """Down for the first ``failures`` attempts (counted across instances), then delivers to
    ``django.core.mail.outbox``."""

    failures = 1
    attempts = 0

    def send_messages(self, email_messages):
        FlakyBackend.attempts += 1
        if FlakyBackend.attempts <= FlakyBackend.failures:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(email_messages)
