#!/usr/bin/env python3
"""Write a source distribution (NAME-VERSION.tar.gz) of one bench/packages/<pkg>/.

Usage: make-sdist.py PACKAGE_DIR OUT_DIR

Why not `python -m build --sdist`: the host has no `build`/setuptools install
we can rely on offline.  An sdist is just a tarball of the source tree under
a NAME-VERSION/ prefix plus a PKG-INFO file; pip builds it with the backend
named in pyproject.toml (setuptools here).  The tarball is reproducible:
sorted entries, fixed mtime/owner, gzip without a timestamp.
"""

import gzip
import io
import os
import re
import sys
import tarfile
import tomllib

SKIP_DIRS = {"__pycache__", "build", "dist", ".git"}
MTIME = 1704067200  # 2024-01-01T00:00:00Z


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, out = (os.path.abspath(a) for a in sys.argv[1:])
    with open(os.path.join(src, "pyproject.toml"), "rb") as f:
        project = tomllib.load(f)["project"]
    name, version = project["name"], project["version"]
    base = f"{re.sub(r'[-_.]+', '_', name).lower()}-{version}"

    pkg_info = [
        "Metadata-Version: 2.1",
        f"Name: {name}",
        f"Version: {version}",
        f"Summary: {project.get('description', '')}",
    ]
    if "requires-python" in project:
        pkg_info.append(f"Requires-Python: {project['requires-python']}")
    pkg_info += [f"Requires-Dist: {d}" for d in project.get("dependencies", [])]
    pkg_info_bytes = ("\n".join(pkg_info) + "\n").encode()

    files = []
    for d, dirs, names in os.walk(src):
        dirs[:] = sorted(x for x in dirs if x not in SKIP_DIRS and not x.endswith(".egg-info"))
        for n in names:
            if n.endswith((".pyc", ".so", ".o")):
                continue
            files.append(os.path.relpath(os.path.join(d, n), src))
    files.sort()

    def info(arcname: str, size: int, mode: int) -> tarfile.TarInfo:
        ti = tarfile.TarInfo(f"{base}/{arcname}")
        ti.size, ti.mode, ti.mtime = size, mode, MTIME
        ti.uid = ti.gid = 0
        ti.uname = ti.gname = "root"
        return ti

    os.makedirs(out, exist_ok=True)
    target = os.path.join(out, base + ".tar.gz")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        tf.addfile(info("PKG-INFO", len(pkg_info_bytes), 0o644), io.BytesIO(pkg_info_bytes))
        for rel in files:
            path = os.path.join(src, rel)
            with open(path, "rb") as f:
                data = f.read()
            mode = 0o755 if os.access(path, os.X_OK) else 0o644
            tf.addfile(info(rel, len(data), mode), io.BytesIO(data))
    with open(target, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
            gz.write(buf.getvalue())
    print(os.path.basename(target))


if __name__ == "__main__":
    main()
