"""atomic_write: a file is replaced whole or not at all, on a local disk or any file system Beam knows.

Every file newsbeam rewrites in place (the manifest, alerts.jsonl, a story checkpoint, a spool batch's
markers, the report page) is written next to its final name and then renamed over it, so a reader sees
the old file or the new one, never half of one.
"""

from __future__ import annotations

import os
from pathlib import Path


def atomic_write(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file beside it and one rename (os.replace on a local path);
    missing parent folders are made."""
    target = str(path)
    tmp = f"{target}.tmp"
    if "://" not in target:
        os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)  # as FileSystems.create does
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
        return
    from apache_beam.io.filesystems import FileSystems  # only for remote paths: local callers need not import Beam

    with FileSystems.create(tmp) as f:
        f.write(data)
    FileSystems.rename([tmp], [target])
