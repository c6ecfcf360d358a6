"""A real SMTP server for the tests: aiosmtpd on a free loopback port, keeping what it receives.

The `smtp_server` fixture (tests import it) points the app's Flask-Mail at it and turns off the
test configuration's MAIL_SUPPRESS_SEND, so the outbox sender really talks SMTP.
"""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
import time
from dataclasses import dataclass

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: email.message.EmailMessage

    @property
    def subject(self) -> str:
        return self.message["Subject"]

    @property
    def to(self) -> str:
        return self.message["To"]

    @property
    def text(self) -> str:
        return self.message.get_body(("plain",)).get_content()

    @property
    def html(self) -> str:
        return self.message.get_body(("html",)).get_content()

    def links(self) -> list[str]:
        return re.findall(r"https?://[^\s\"'<>]+", self.text)

    def link_to(self, path_part: str) -> str:
        (link,) = {link for link in self.links() if path_part in link}
        return link


class _Handler:
    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_DATA(self, server, session, envelope):
        if self.mailbox.delay:
            time.sleep(self.mailbox.delay)  # a slow server, so concurrent senders overlap
        parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        with self.mailbox.lock:
            self.mailbox.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


class Mailbox:
    """The server and what it has received. `stop()` and `start()` take it down and bring it back
    on the same port, to test a mail server outage."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.delay = 0.0
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[Received]:
        return [mail for mail in self.received if address in mail.rcpt_tos]

    def only(self, address: str) -> Received:
        (mail,) = self.to(address)
        return mail


@pytest.fixture
def smtp_server(app, monkeypatch):
    mailbox = Mailbox(free_port())
    mailbox.start()
    state = app.extensions["mail"]
    monkeypatch.setattr(state, "server", "127.0.0.1")
    monkeypatch.setattr(state, "port", mailbox.port)
    monkeypatch.setattr(state, "suppress", False)
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
    yield mailbox
    mailbox.stop()
