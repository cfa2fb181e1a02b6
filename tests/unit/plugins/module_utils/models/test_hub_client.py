"""models.hub_client: digests checked while bytes stream, repo ids, Hub errors and retried metadata calls."""

import hashlib

import pytest

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import AccelciError, ApiError, InputError
from ansible_collections.accelci.runners.plugins.module_utils.models.errors import DigestMismatch, HubError
from ansible_collections.accelci.runners.plugins.module_utils.models.hub_client import (
    FileDigest,
    HubSource,
    content_range_matches,
    is_commit,
    validate_repo_id,
)
from tests.unit.plugins.module_utils.models.remote_files import git_remote, lfs_remote


# -- digests ---------------------------------------------------------------------------------------------------
def test_lfs_file_verified_by_sha256():
    data = b"weights" * 1000
    digest = FileDigest(lfs_remote("m.safetensors", data))
    digest.update(data[:10])
    digest.update(data[10:])
    assert digest.verify() == hashlib.sha256(data).hexdigest()
    assert digest.crc32c_b64


def test_lfs_file_same_length_other_bytes_is_rejected():
    data = b"a" * 100
    digest = FileDigest(lfs_remote("m.safetensors", data))
    digest.update(b"b" * 100)
    with pytest.raises(DigestMismatch, match="m.safetensors: sha256 .* does not match"):
        digest.verify()


def test_truncated_file_is_rejected_by_size():
    data = b"a" * 100
    digest = FileDigest(lfs_remote("m.safetensors", data))
    digest.update(data[:60])
    with pytest.raises(DigestMismatch, match="received 60 bytes, the Hub lists 100"):
        digest.verify()


def test_git_file_verified_by_blob_sha1():
    data = b'{"hidden": 8}\n'
    good = FileDigest(git_remote("config.json", data))
    good.update(data)
    assert good.verify() == hashlib.sha256(data).hexdigest()
    bad = FileDigest(git_remote("config.json", data))
    bad.update(data.replace(b"8", b"9"))
    with pytest.raises(DigestMismatch, match="git blob sha1"):
        bad.verify()


# -- names and options -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("repo_id", ["Wan-AI/Wan2.1-T2V-1.3B-Diffusers", "google/gemma-2-2b-it", "gpt2"])
def test_repo_ids_accepted(repo_id):
    validate_repo_id(repo_id)


@pytest.mark.parametrize("repo_id", ["", "a/b/c", "../etc", "org/", "/name", "org/na me"])
def test_repo_ids_rejected(repo_id):
    with pytest.raises(InputError, match="not a Hugging Face repo id") as failure:
        validate_repo_id(repo_id)
    assert failure.value.field == "repo_id"


def test_is_commit():
    assert is_commit("a" * 40)
    assert not is_commit("main") and not is_commit("A" * 40) and not is_commit("a" * 39)


class _Response:
    def __init__(self, status, code=None, message=""):
        self.status_code = status
        self.headers = {"X-Error-Code": code, "X-Error-Message": message} if code else {}
        self.reason = "reason"


@pytest.mark.parametrize("status, code, kind", [
    (401, "GatedRepo", "gated"), (401, "RepoNotFound", "repo_not_found"),
    (404, "EntryNotFound", "entry_not_found"), (404, "RevisionNotFound", "revision_not_found"),
    (503, None, "network"), (429, None, "network"), (400, None, "http"),
])
def test_file_get_errors_by_hub_error_code(status, code, kind):
    source = HubSource("org/name", endpoint="http://127.0.0.1:1")
    error = source._status_error(_Response(status, code), "model.safetensors")
    assert error.kind == kind and error.path == "model.safetensors"


class _FlakyApi:
    """HfApi stand-in: the first calls fail like a dropped connection, then the answer comes."""

    def __init__(self, failures):
        self.failures = failures
        self.calls = 0

    def repo_info(self, repo_id, revision=None, repo_type=None, timeout=None):
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError("connection reset by peer")

        class Info:
            sha = "c" * 40

        return Info()


def test_metadata_calls_are_retried_after_transient_errors():
    source = HubSource("org/name", endpoint="http://127.0.0.1:1", retries=2, retry_base=0)
    source._api = _FlakyApi(failures=2)
    assert source.resolve() == "c" * 40
    assert source.requests == 3


def test_metadata_calls_give_up_after_the_retries():
    source = HubSource("org/name", endpoint="http://127.0.0.1:1", retries=1, retry_base=0)
    source._api = _FlakyApi(failures=5)
    with pytest.raises(HubError) as err:
        source.resolve()
    assert err.value.kind == "network" and "cannot reach" in str(err.value)
    assert source.requests == 2


def test_hub_errors_are_api_errors_with_kind_and_files():
    error = HubError("gated", "org/name is gated", "model.safetensors")
    assert isinstance(error, ApiError)
    assert error.fail_json_kwargs() == {"msg": "org/name is gated", "kind": "gated", "files": ["model.safetensors"]}
    mismatch = DigestMismatch("m: sha256 x does not match")
    assert isinstance(mismatch, AccelciError) and mismatch.details == {"kind": "corrupt"}


# -- what the Hub may not do to us -----------------------------------------------------------------------------------
PLANTED_TOKEN = "hf_hubClientPlantedSecret98765"


class _ShaApi:
    def __init__(self, sha):
        self.sha = sha

    def repo_info(self, repo_id, revision=None, repo_type=None, timeout=None):
        sha = self.sha

        class Info:
            pass

        Info.sha = sha
        return Info()


@pytest.mark.parametrize("sha", ["../../../../tmp/x", "C" * 40, "c" * 39, "c" * 40 + "/x"])
def test_a_commit_that_is_not_40_hex_is_refused(sha):
    source = HubSource("org/name", endpoint="http://127.0.0.1:1", retries=0, retry_base=0)
    source._api = _ShaApi(sha)
    with pytest.raises(HubError, match="expected 40 lowercase hex digits") as err:
        source.resolve()
    assert err.value.kind == "http"


def test_errors_never_carry_the_token():
    source = HubSource("org/name", endpoint="http://127.0.0.1:1", token=PLANTED_TOKEN)
    echoed = _Response(400, "Something", "bad token %s for you" % PLANTED_TOKEN)
    error = source._status_error(echoed, "model.safetensors")
    assert PLANTED_TOKEN not in str(error) and "********" in str(error)

    class _EchoingApi:
        def repo_info(self, *args, **kwargs):
            raise ConnectionError("refused with Authorization: Bearer %s" % PLANTED_TOKEN)

    source._api = _EchoingApi()
    source.retries = 0
    with pytest.raises(HubError) as err:
        source.resolve()
    assert PLANTED_TOKEN not in str(err.value)


@pytest.mark.parametrize("header, start, size, ok", [
    ("bytes 100-999/1000", 100, 1000, True),
    ("bytes 100-999/*", 100, 1000, True),
    ("bytes 0-999/1000", 100, 1000, False),  # the whole file as a 206: not the rest
    ("bytes 100-499/1000", 100, 1000, False),  # only part of the rest
    ("bytes 100-999/2000", 100, 1000, False),  # another file's size
    ("bytes */1000", 100, 1000, False),
    (None, 100, 1000, False),
    ("items 100-999/1000", 100, 1000, False),
])
def test_a_partial_answer_counts_only_for_exactly_the_rest(header, start, size, ok):
    assert content_range_matches(header, start, size) is ok
