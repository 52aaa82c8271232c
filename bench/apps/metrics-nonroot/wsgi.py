"""Event counter service: a plain WSGI app exposing Prometheus metrics, run by gunicorn."""

import json
import os

from dotenv import load_dotenv
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from svckit import HealthRegistry, Settings

load_dotenv(".env.defaults")  # checked-in defaults; real env vars win
settings = Settings.from_env(prefix="EVENTS_", service_name="events", allowed_kinds=["click", "view"])
registry = CollectorRegistry()
EVENTS = Counter("events_total", "Events received", ["kind"], registry=registry)
health = HealthRegistry()
health.register("writable_tmp", lambda: os.access("/tmp", os.W_OK))


def _send(start_response, status, body, ctype="application/json"):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    start_response(status, [("Content-Type", ctype), ("Content-Length", str(len(data)))])
    return [data]


def application(environ, start_response):
    path, method = environ.get("PATH_INFO", "/"), environ.get("REQUEST_METHOD", "GET")
    if path == "/health":
        report = health.report()
        report["service"] = settings.service_name
        report["uid"] = os.getuid()
        return _send(start_response, "200 OK", report)
    if path == "/metrics":
        return _send(start_response, "200 OK", generate_latest(registry), CONTENT_TYPE_LATEST)
    if path.startswith("/events/") and method == "POST":
        kind = path.rsplit("/", 1)[1]
        if kind not in settings.allowed_kinds:
            return _send(start_response, "400 Bad Request", {"error": f"unknown kind {kind}"})
        EVENTS.labels(kind=kind).inc()
        return _send(start_response, "202 Accepted", {"accepted": kind})
    return _send(start_response, "404 Not Found", {"error": "not found"})
