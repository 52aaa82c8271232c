"""Plain WSGI app served by waitress: /health, /products, /products/<sku>."""

import json

from svckit import HealthRegistry, Settings

from .models import load_products

settings = Settings.from_env(prefix="CATALOG_", host="0.0.0.0", port=8080, threads=4)
PRODUCTS = {p.sku: p for p in load_products()}
health = HealthRegistry()
health.register("products_loaded", lambda: len(PRODUCTS) > 0)


def _json(start_response, status, payload):
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def application(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/health":
        return _json(start_response, "200 OK", health.report())
    if path == "/products":
        return _json(start_response, "200 OK",
                     [dict(p.dict(), display_price=p.display_price()) for p in PRODUCTS.values()])
    if path.startswith("/products/"):
        product = PRODUCTS.get(path.rsplit("/", 1)[1])
        if product:
            return _json(start_response, "200 OK", dict(product.dict(), display_price=product.display_price()))
    return _json(start_response, "404 Not Found", {"error": "not found"})


def main():
    from waitress import serve

    serve(application, host=settings.host, port=settings.port, threads=settings.threads)


if __name__ == "__main__":
    main()
