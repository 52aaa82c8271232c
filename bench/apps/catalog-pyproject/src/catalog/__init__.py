"""Product catalog service."""

__version__ = "2.3.0"
