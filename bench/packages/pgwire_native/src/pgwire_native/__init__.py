"""pgwire_native: a small libpq binding (see README.md)."""

from ._libpq import (  # noqa: F401  (re-exported)
    PING_NO_ATTEMPT,
    PING_NO_RESPONSE,
    PING_OK,
    PING_REJECT,
    is_threadsafe,
    lib_version,
    parse_dsn,
    ping,
)

__version__ = "0.3.1"


def libpq_version() -> str:
    """libpq's version as text: '15.5' for 150005, '9.6.24' for 90624."""
    v = lib_version()
    if v >= 100000:
        return f"{v // 10000}.{v % 10000}"
    return f"{v // 10000}.{v // 100 % 100}.{v % 100}"


def redact(dsn: str) -> str:
    """The DSN as keyword=value pairs with the password masked (for logs)."""
    opts = parse_dsn(dsn)
    if "password" in opts:
        opts["password"] = "***"
    return " ".join(f"{k}={v}" for k, v in sorted(opts.items()))
