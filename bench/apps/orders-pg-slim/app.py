"""Orders API: Flask + gunicorn, talking to PostgreSQL through libpq (pgwire_native)."""

import os

import pgwire_native
from flask import Flask, jsonify, request
from svckit import HealthRegistry, Settings

settings = Settings.from_env(
    database_url="postgresql://orders@127.0.0.1:5432/orders?connect_timeout=1",
    max_items=50,
)
app = Flask(__name__)
health = HealthRegistry()
health.register("libpq", lambda: pgwire_native.lib_version() > 0)
ORDERS = []


@app.get("/health")
def health_view():
    report = health.report()
    report["libpq"] = pgwire_native.libpq_version()
    report["database"] = pgwire_native.redact(settings.database_url)
    return jsonify(report)


@app.get("/ready")
def ready():
    up = pgwire_native.ping(settings.database_url) == pgwire_native.PING_OK
    return jsonify(database="up" if up else "down"), (200 if up else 503)


@app.post("/orders")
def create_order():
    body = request.get_json(silent=True) or {}
    items = body.get("items") or []
    if not items or len(items) > settings.max_items:
        return jsonify(error=f"1..{settings.max_items} items required"), 400
    order = {"id": len(ORDERS) + 1, "items": items}
    ORDERS.append(order)
    return jsonify(order), 201


if __name__ == "__main__":
    app.run(host=os.environ.get("HOST", "0.0.0.0"), port=int(os.environ.get("PORT", "8000")))
