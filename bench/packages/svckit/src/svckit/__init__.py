"""svckit: typed settings from the environment and a health-check registry."""

from .health import HealthRegistry
from .settings import Settings

__all__ = ["HealthRegistry", "Settings"]
__version__ = "1.2.0"
