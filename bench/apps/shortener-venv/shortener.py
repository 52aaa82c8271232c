"""URL shortener: Bottle on waitress, links kept in a JSON file, structured logs."""

import hashlib
import os
import threading

import simplejson as json
import structlog
from bottle import Bottle, HTTPResponse, redirect, request

DATA_FILE = os.environ.get("SHORTENER_DATA", "/tmp/links.json")
log = structlog.get_logger()
app = Bottle()
_lock = threading.Lock()


def _load():
    try:
        with open(DATA_FILE) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


def _save(links):
    tmp = DATA_FILE + ".tmp"
    with open(tmp, "w") as f:
        json.dump(links, f, indent=1, sort_keys=True)
    os.replace(tmp, DATA_FILE)


@app.get("/health")
def health():
    return {"status": "ok", "links": len(_load())}


@app.post("/links")
def create():
    url = (request.json or {}).get("url", "")
    if not url.startswith(("http://", "https://")):
        return HTTPResponse({"error": "url must be http(s)"}, status=400)
    code = hashlib.blake2s(url.encode(), digest_size=4).hexdigest()
    with _lock:
        links = _load()
        links[code] = url
        _save(links)
    log.info("link created", code=code, url=url)
    return HTTPResponse({"code": code, "url": url}, status=201)


@app.get("/<code>")
def follow(code):
    url = _load().get(code)
    if url is None:
        return HTTPResponse({"error": "unknown code"}, status=404)
    redirect(url, 302)


if __name__ == "__main__":
    from waitress import serve

    serve(app, host=os.environ.get("HOST", "0.0.0.0"), port=int(os.environ.get("PORT", "8080")))
