"""imgcodec_native: grayscale JPEG through libjpeg (see README.md)."""

from ._jpeg import JPEG_LIB_VERSION, encode_gray, jpeg_size  # noqa: F401

__version__ = "1.0.2"


def gradient(width: int, height: int) -> bytes:
    """A horizontal gray gradient, handy for thumbnails and tests."""
    row = bytes((x * 255) // max(width - 1, 1) for x in range(width))
    return row * height


def thumbnail_placeholder(width: int = 64, height: int = 48, quality: int = 80) -> bytes:
    return encode_gray(width, height, gradient(width, height), quality)
