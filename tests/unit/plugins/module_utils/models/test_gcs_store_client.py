"""models.gcs_store_client: object names stay under the prefix, and recorded upload sessions are used only when
they point at the bucket's own upload endpoint (no server needed)."""

import pytest

from ansible_collections.accelci.runners.plugins.module_utils.models.errors import StageError
from ansible_collections.accelci.runners.plugins.module_utils.models.gcs_store_client import GcsModelStore


class _Connection:
    API_BASE_URL = "https://storage.googleapis.com"


class _Client:
    _connection = _Connection()

    def bucket(self, name):
        return name


STORE = GcsModelStore(_Client(), "gs://models-bkt/hf")
BASE = "https://storage.googleapis.com/upload/storage/v1/b/models-bkt/o?uploadType=resumable"


@pytest.mark.parametrize("uri, usable", [
    (BASE + "&name=x&upload_id=ADPycd", True),
    ("https://evil.example/upload/storage/v1/b/models-bkt/o?uploadType=resumable&upload_id=ADPycd", False),
    ("https://storage.googleapis.com.evil.example/upload/storage/v1/b/models-bkt/o?upload_id=1", False),
    ("https://storage.googleapis.com/upload/storage/v1/b/other-bkt/o?uploadType=resumable&upload_id=1", False),
    ("http://storage.googleapis.com/upload/storage/v1/b/models-bkt/o?uploadType=resumable&upload_id=1", False),
    (BASE + "&name=x", False),
    (BASE + "&upload_id=1\r\nHost: evil", False),
    (None, False),
])
def test_a_recorded_session_is_used_only_on_the_buckets_upload_endpoint(uri, usable):
    assert STORE.is_upload_session(uri) is usable


def test_object_names_stay_under_the_prefix():
    assert STORE.key(".accelci/models/org/name/revisions/" + "c" * 40 + "/a/b.json") == \
        "hf/.accelci/models/org/name/revisions/" + "c" * 40 + "/a/b.json"
    for bad in (".accelci/models/org/name/revisions/x/../../../../../etc", "../outside", "a//b", "/abs"):
        with pytest.raises(StageError) as err:
            STORE.key(bad)
        assert err.value.kind == "unsafe_path"
