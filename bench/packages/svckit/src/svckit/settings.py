"""Settings read from environment variables, coerced to the defaults' types."""

import os
from typing import Any, Dict, Mapping, Optional

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _coerce(raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        low = raw.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ValueError(f"not a boolean: {raw!r}")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, (list, tuple)):
        return [part.strip() for part in raw.split(",") if part.strip()]
    return raw


class Settings:
    """Attribute access to settings; env var NAME (upper-cased, optional prefix) overrides."""

    def __init__(self, values: Dict[str, Any]):
        self._values = dict(values)

    @classmethod
    def from_env(cls, prefix: str = "", env: Optional[Mapping[str, str]] = None, **defaults: Any) -> "Settings":
        env = os.environ if env is None else env
        values = {}
        for key, default in defaults.items():
            raw = env.get(f"{prefix}{key}".upper())
            values[key] = default if raw is None else _coerce(raw, default)
        return cls(values)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def as_dict(self) -> Dict[str, Any]:
        return dict(self._values)
