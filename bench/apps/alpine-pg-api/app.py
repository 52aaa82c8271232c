"""Avatar/receipt API: Flask + gunicorn with two C extensions (libpq, libjpeg)."""

import os

import imgcodec_native
import pgwire_native
from flask import Flask, Response, jsonify

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://api@127.0.0.1:5432/api?connect_timeout=1")
app = Flask(__name__)


@app.get("/health")
def health():
    return jsonify(
        status="ok",
        libpq=pgwire_native.libpq_version(),
        libjpeg=imgcodec_native.JPEG_LIB_VERSION,
        database=pgwire_native.redact(DATABASE_URL),
    )


@app.get("/avatar/<int:size>.jpg")
def avatar(size):
    size = max(8, min(size, 256))
    data = imgcodec_native.thumbnail_placeholder(size, size, quality=75)
    return Response(data, mimetype="image/jpeg")


if __name__ == "__main__":
    app.run(host=os.environ.get("HOST", "0.0.0.0"), port=int(os.environ.get("PORT", "8000")))
