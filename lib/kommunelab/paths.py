"""Where the project lives on disk.

The project root is the folder that holds reports.toml. It is found from $KOMMUNELAB_ROOT, else by walking up
from the current directory, else from the installed package's location (lib/kommunelab -> ..).
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import KommunelabError

MANIFEST_NAME = "reports.toml"


def project_root() -> Path:
    env = os.environ.get("KOMMUNELAB_ROOT")
    if env:
        root = Path(env).resolve()
        if not (root / MANIFEST_NAME).is_file():
            raise KommunelabError(f"KOMMUNELAB_ROOT={env} has no {MANIFEST_NAME}; point it at the project folder")
        return root
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / MANIFEST_NAME).is_file():
            return folder
    package_root = Path(__file__).resolve().parents[2]
    if (package_root / MANIFEST_NAME).is_file():
        return package_root
    raise KommunelabError(
        f"cannot find {MANIFEST_NAME} above {here}; run from inside the kommunelab project or set KOMMUNELAB_ROOT"
    )


def library_dir() -> Path:
    return Path(__file__).resolve().parent


def reports_dir() -> Path:
    return project_root() / "reports"


def data_dir() -> Path:
    return project_root() / "data"
