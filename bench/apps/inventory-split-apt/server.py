"""Inventory service: Bottle app served by waitress, with a plain-text stock report."""

import os

from bottle import Bottle, abort, request, response
from tabulate import tabulate

app = Bottle()
STOCK = {
    "SKU-1001": {"name": "espresso beans 1kg", "qty": 42, "min_qty": 10},
    "SKU-1002": {"name": "oat milk 1l", "qty": 7, "min_qty": 12},
    "SKU-1003": {"name": "paper cups (50)", "qty": 120, "min_qty": 40},
}


@app.get("/health")
def health():
    return {"status": "ok", "skus": len(STOCK)}


@app.get("/items/<sku>")
def item(sku):
    if sku not in STOCK:
        abort(404, "unknown sku")
    return dict(STOCK[sku], sku=sku)


@app.post("/items/<sku>/adjust")
def adjust(sku):
    if sku not in STOCK:
        abort(404, "unknown sku")
    delta = int((request.json or {}).get("delta", 0))
    STOCK[sku]["qty"] = max(0, STOCK[sku]["qty"] + delta)
    return dict(STOCK[sku], sku=sku)


@app.get("/report")
def report():
    rows = [
        (sku, s["name"], s["qty"], "REORDER" if s["qty"] < s["min_qty"] else "")
        for sku, s in sorted(STOCK.items())
    ]
    response.content_type = "text/plain; charset=utf-8"
    return tabulate(rows, headers=["sku", "name", "qty", "flag"]) + "\n"


if __name__ == "__main__":
    from waitress import serve

    serve(app, host=os.environ.get("HOST", "0.0.0.0"), port=int(os.environ.get("PORT", "8080")))
