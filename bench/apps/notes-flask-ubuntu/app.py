"""Notes service: a small in-memory JSON API on Flask."""

import itertools
import os
import threading

from flask import Flask, abort, jsonify, request

app = Flask(__name__)
_lock = threading.Lock()
_ids = itertools.count(1)
NOTES = {}


def _add(text, tags=()):
    with _lock:
        note_id = next(_ids)
        NOTES[note_id] = {"id": note_id, "text": text, "tags": sorted(set(tags))}
        return NOTES[note_id]


_add("welcome to notes", ["meta"])


@app.get("/health")
def health():
    return jsonify(status="ok", notes=len(NOTES))


@app.get("/notes")
def list_notes():
    tag = request.args.get("tag")
    notes = [n for n in NOTES.values() if tag is None or tag in n["tags"]]
    return jsonify(notes)


@app.post("/notes")
def create_note():
    body = request.get_json(silent=True) or {}
    text = str(body.get("text", "")).strip()
    if not text:
        abort(400, "text is required")
    return jsonify(_add(text, body.get("tags", []))), 201


@app.get("/notes/<int:note_id>")
def get_note(note_id):
    note = NOTES.get(note_id)
    if note is None:
        abort(404)
    return jsonify(note)


if __name__ == "__main__":
    app.run(host=os.environ.get("HOST", "0.0.0.0"), port=int(os.environ.get("PORT", "5000")))
