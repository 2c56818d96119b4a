"""Reading database URLs safely, for the core and for dialect plugins.

A database URL may hold a password, so no message here repeats the URL or any part of it:
``urllib`` errors (which quote the "port", often the tail of a password) are replaced by
messages of our own.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from urllib.parse import SplitResult, parse_qsl, quote, urlsplit, urlunsplit

from covet_core.errors import ConfigError

ENCODE_HINT = "percent-encode @ : / ? # % in the user name and password (%40 %3A %2F %3F %23 %25)"


def split_url(url: str, example: str = "scheme://user@host:port/database") -> SplitResult:
    """``urlsplit`` that raises ``ConfigError`` for a URL no database could mean.

    Besides what ``urlsplit`` rejects (an unclosed ``[``), a non-numeric or out-of-range port
    and a ``#`` fragment are errors: both usually come from an unencoded character in a
    password, and a fragment would silently cut a SQLite path short.
    """
    if any(ord(c) < 32 or c == "\x7f" for c in url):
        raise ConfigError(
            f"the database URL contains a control character; write it as {example}, "
            f"percent-encoding special characters"
        )
    try:
        parts = urlsplit(url)
    except ValueError:
        raise ConfigError(
            f"the database URL has an unclosed [ in its host (an IPv6 address is written "
            f"[::1]); write it as {example}, and {ENCODE_HINT}"
        ) from None
    try:
        parts.port  # noqa: B018 - parsing it is the check
    except ValueError:
        raise ConfigError(
            f"the port in the database URL is not a number from 0 to 65535; if the password "
            f"contains one of these characters, {ENCODE_HINT}"
        ) from None
    if parts.fragment or "#" in url:
        raise ConfigError(f"the database URL contains #; {ENCODE_HINT}")
    if parts.netloc and ("@" in parts.path or "@" in parts.query):
        raise ConfigError(f"the database URL has an @ after the host; {ENCODE_HINT}")
    return parts


def url_seconds(value: str | None, option: str, default: float) -> float:
    """A URL option that is a number of seconds: finite and >= 0 (``-1`` or ``inf`` would
    mean "fail at once" or "wait forever", neither of which anyone writes on purpose)."""
    if value is None:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds < math.inf:
        raise ConfigError(
            f"URL option {option} must be a finite number of seconds >= 0, not {value!r}"
        )
    return seconds


def url_options(query: str, known: Iterable[str], label: str) -> dict[str, str]:
    """A URL's ``?name=value`` options, checked against the ones the dialect knows: an unknown
    option is an error (a typo would otherwise be ignored, e.g. a lock timeout never set)."""
    options = dict(parse_qsl(query, keep_blank_values=True))
    allowed = sorted(known)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ConfigError(
            f"unknown {label} URL option(s): {', '.join(unknown)}; known: {', '.join(allowed)}"
        )
    return options


def with_database(url: str, name: str) -> str:
    """``url`` with its path replaced by the database ``name`` (percent-encoded), keeping the
    scheme, credentials, host and options: the URL of a sibling database on the same server."""
    parts = split_url(url)
    return urlunsplit(parts._replace(path="/" + quote(name, safe="")))
