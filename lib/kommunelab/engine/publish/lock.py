"""One build at a time on a reports/ folder. The lock is an flock on reports/.build.lock, so the operating system
releases it when the build ends in any way (a SIGKILL too): a lock file left by a killed build is simply taken over.
The file names the holder (PID, start time, command) for the message a second build prints."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from ...errors import FileSystemError, KommunelabError
from ...paths import NEXT, REPORTS, complete_set
from ...records import LOCK_FILE, TMP


class BuildLocked(KommunelabError):
    """Another build holds the lock on this reports/ folder."""


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        return f"PID {info['pid']}, started {info['started']} ({info['command']})"
    except (OSError, ValueError, KeyError):
        return "a build whose details could not be read"


@contextmanager
def build_lock(root: Path, wait: bool = False, started: str = "", poll: float = 0.5):
    """Hold the build lock for ``root``/reports: wait for it, or refuse at once naming the running build."""
    folder = root / REPORTS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_FILE
    try:  # never through a link: a planted reports/.build.lock -> elsewhere would be truncated and written
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as exc:
        if path.is_symlink():
            raise KommunelabError(f"{path} is a symbolic link (to {os.readlink(path)}); a build never writes through "
                                  "links. Remove it and build again") from None
        raise FileSystemError(f"cannot open the build lock {path}: {exc.strerror or exc}; the reports folder must be "
                              "writable (even a build with nothing to do takes the lock)") from None
    fh = os.fdopen(fd, "a+", encoding="utf-8")
    try:
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not wait:
                    raise BuildLocked(f"another build is running on {folder}: {_holder(path)}; run again when it "
                                      "has finished, or with --wait to wait for it") from None
                time.sleep(poll)
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps({"pid": os.getpid(), "started": started, "command": " ".join(sys.argv[:4])}))
        fh.flush()
        completed = complete_set(folder)  # a record switch a killed build began: finish it before anything else
        if completed:
            print(f"kommunelab: completed the record of an interrupted build ({', '.join(completed)})",
                  file=sys.stderr)
        remove_leftovers(root)  # no other build can be running now: whatever is in reports/.tmp was abandoned
        yield
    finally:
        fh.close()  # closing releases the flock


def remove_leftovers(root: Path) -> None:
    """What killed builds left: reports/.tmp (whatever is there: a folder, or a file or link in its place, which is
    removed itself, never followed) and stray .part files."""
    tmp = root / REPORTS / TMP
    if tmp.is_symlink() or tmp.is_file():
        tmp.unlink()
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    for pattern in (".*.part", NEXT.format(name="*")):
        for stray in (root / REPORTS).rglob(pattern):
            stray.unlink(missing_ok=True)
