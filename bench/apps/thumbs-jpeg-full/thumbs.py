"""Thumbnail placeholder service: Flask app served by waitress, JPEGs encoded by libjpeg."""

import hashlib
import os

import imgcodec_native
from flask import Flask, Response, abort, jsonify

app = Flask(__name__)
MAX_SIDE = int(os.environ.get("THUMBS_MAX_SIDE", "512"))


@app.get("/health")
def health():
    probe = imgcodec_native.thumbnail_placeholder(8, 8)
    return jsonify(status="ok", libjpeg=imgcodec_native.JPEG_LIB_VERSION, probe_bytes=len(probe))


@app.get("/thumb/<int:width>x<int:height>.jpg")
def thumb(width, height):
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        abort(400, f"sides must be 1..{MAX_SIDE}")
    data = imgcodec_native.thumbnail_placeholder(width, height, quality=80)
    etag = hashlib.sha1(data).hexdigest()
    return Response(data, mimetype="image/jpeg", headers={"ETag": etag, "Cache-Control": "max-age=86400"})


@app.post("/inspect")
def inspect():
    from flask import request

    try:
        width, height, components = imgcodec_native.jpeg_size(request.get_data())
    except ValueError as exc:
        abort(400, str(exc))
    return jsonify(width=width, height=height, components=components)
