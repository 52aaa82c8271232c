"""A registry of named health checks with a JSON-friendly report."""

import time
from typing import Callable, Dict


class HealthRegistry:
    def __init__(self) -> None:
        self._checks: Dict[str, Callable[[], bool]] = {}
        self.started = time.time()

    def register(self, name: str, check: Callable[[], bool]) -> None:
        self._checks[name] = check

    def report(self) -> dict:
        results = {}
        for name, check in sorted(self._checks.items()):
            try:
                results[name] = "ok" if check() else "failing"
            except Exception as exc:  # a broken check is a failing check
                results[name] = f"error: {exc}"
        healthy = all(v == "ok" for v in results.values())
        return {
            "status": "ok" if healthy else "degraded",
            "checks": results,
            "uptime_s": round(time.time() - self.started, 3),
        }
