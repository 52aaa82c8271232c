"""Build script for the C extension (metadata lives in pyproject.toml)."""
import os

from setuptools import Extension, setup

# Fail early with a useful message instead of a wall of compiler errors.
if not any(os.path.exists(os.path.join(d, "jpeglib.h"))
           for d in ("/usr/include", "/usr/local/include", "/usr/include/x86_64-linux-gnu")):
    raise SystemExit(
        "Error: jpeglib.h not found. imgcodec-native needs libjpeg's headers to build: "
        "install libjpeg-dev (Debian/Ubuntu) or jpeg-dev (Alpine), plus a C compiler."
    )

setup(
    ext_modules=[
        Extension(
            "imgcodec_native._jpeg",
            sources=["src/imgcodec_native/_jpeg.c"],
            libraries=["jpeg"],
        )
    ]
)
