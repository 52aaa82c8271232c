"""Build script for the C extension (metadata lives in pyproject.toml).

Finds libpq's headers the way psycopg2 does: through `pg_config`, which comes
with libpq-dev (Debian) / postgresql-dev (Alpine).  Without it the build
fails with the same kind of message users know from psycopg2.
"""
import os
import shutil
import subprocess

from setuptools import Extension, setup


def libpq_include_dir() -> str:
    pg_config = shutil.which("pg_config")
    if pg_config:
        return subprocess.check_output([pg_config, "--includedir"], text=True).strip()
    for candidate in ("/usr/include/postgresql", "/usr/include"):
        if os.path.exists(os.path.join(candidate, "libpq-fe.h")):
            return candidate
    raise SystemExit(
        "Error: pg_config executable not found and libpq-fe.h is missing.\n"
        "pgwire-native needs libpq's headers to build: install libpq-dev "
        "(Debian/Ubuntu) or postgresql-dev (Alpine), plus a C compiler."
    )


setup(
    ext_modules=[
        Extension(
            "pgwire_native._libpq",
            sources=["src/pgwire_native/_libpq.c"],
            include_dirs=[libpq_include_dir()],
            libraries=["pq"],
        )
    ]
)
