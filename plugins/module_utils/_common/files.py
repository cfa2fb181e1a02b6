# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Files written so that a reader never sees half of them (private to this collection)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile


def _make_dirs(directory, mode=None):
    """Create ``directory`` and its missing parents; with ``mode``, each directory created gets exactly that mode
    (not the umask's), while directories that already exist are left as they are."""
    if mode is None:
        os.makedirs(directory, exist_ok=True)
        return
    missing = []
    current = os.path.abspath(directory)
    while not os.path.isdir(current) and os.path.dirname(current) != current:
        missing.append(current)
        current = os.path.dirname(current)
    for path in reversed(missing):
        try:
            os.mkdir(path, mode)
        except FileExistsError:
            if not os.path.isdir(path):
                raise
            continue  # created meanwhile by someone else: theirs, left as it is
        os.chmod(path, mode)


def write_atomic(path, content, mode=0o644, fsync=False, dir_mode=None):
    """Write ``content`` (text or bytes) to ``path`` through a temporary file in the same directory and a rename.

    The file has ``mode`` from the start (the temporary file is private until renamed). The directory is created
    when missing, with ``dir_mode`` when given (0o700 for files only their owner may list). ``fsync=True`` flushes
    the data to disk before the rename (for files that must survive a crash, such as staged model files).
    """
    directory = os.path.dirname(path) or "."
    _make_dirs(directory, dir_mode)
    data = content.encode("utf-8") if not isinstance(content, bytes) else content
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if fsync:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_bytes(path):
    """The file's bytes, or None when it does not exist."""
    if not os.path.exists(path):
        return None
    with open(path, "rb") as handle:
        return handle.read()


def read_text(path):
    """The file's text, or None when it does not exist."""
    data = read_bytes(path)
    return None if data is None else data.decode("utf-8")
