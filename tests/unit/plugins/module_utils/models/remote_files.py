"""Remote file descriptions as the Hub lists them, for the model staging tests."""
import hashlib

from ansible_collections.accelci.runners.plugins.module_utils.models.layout import RemoteFile


def git_blob_sha1(data):
    """The git blob id the Hub reports for a file stored in git (not LFS)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_remote(path, data):
    """An LFS file: verified by its sha256."""
    return RemoteFile(path, len(data), "0" * 40, hashlib.sha256(data).hexdigest())


def git_remote(path, data):
    """A git file: verified by its blob id."""
    return RemoteFile(path, len(data), git_blob_sha1(data))
