"""Steps and data the browser tests share."""

import re
import struct
import zlib

from tests import factories

CASE_REF = re.compile(r"CB-[0-9]+")


def sign_in(page, email: str, password: str = factories.PASSWORD, *, lands_on: str = "**/cases") -> None:
    """Sign in through the real form and wait for the page it leads to (customers: the case list)."""
    page.goto("/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lands_on)


def sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")


def png_bytes(width: int = 4, height: int = 4) -> bytes:
    """A small, valid, grey PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
