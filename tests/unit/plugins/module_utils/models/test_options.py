"""models.options: every value model_stage and the models role refuse, each naming the field the user wrote and
what is accepted, before anything is contacted."""

import pytest

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError
from ansible_collections.accelci.runners.plugins.module_utils.models.options import (
    check_dest,
    model_stage_plan,
    split_gcs_url,
    validate_params,
)

PLANTED_TOKEN = "hf_optionsPlantedSecret0123456789"


def params(**overrides):
    base = {"repo_id": "org/name", "revision": "main", "repo_type": "model", "dest": "gs://bucket/prefix",
            "endpoint": None, "allow_patterns": [], "ignore_patterns": [], "concurrency": 8, "retries": 3,
            "timeout": 60, "prune_grace_hours": 24}
    base.update(overrides)
    return base


# Each row: the option set, the field the error names, and a piece of its message. The same table is the one the
# issue's closing note quotes (input -> message).
MODULE_REFUSALS = [
    ({"dest": "models"}, "dest", "must be gs://BUCKET\\[/PREFIX\\] or an absolute filesystem path"),
    ({"dest": "s3://bucket"}, "dest", "only gs://BUCKET\\[/PREFIX\\] and filesystem paths are accepted"),
    ({"dest": "gs://"}, "dest", "has no bucket"),
    ({"dest": ""}, "dest", "is required"),
    ({"dest": "gs://bucket/../x"}, "dest", "the prefix '../x' has a '..' segment"),
    ({"dest": "gs://bucket/a/./b"}, "dest", "the prefix 'a/./b' has a '.' segment"),
    ({"dest": "gs://bucket/a//b"}, "dest", "has an empty segment"),
    ({"dest": "gs://bucket//x"}, "dest", "is absolute"),
    ({"dest": "gs://bucket/a\\b"}, "dest", "contains a backslash"),
    ({"dest": "gs://bucket/a\nb"}, "dest", "contains a control character"),
    ({"dest": "gs://1.2.3.4/models"}, "dest", "may not be an IP address"),
    ({"dest": "gs://My_Bucket"}, "dest", "may contain only lowercase letters"),
    ({"dest": "gs://ab"}, "dest", "must be 3-63 characters"),
    ({"dest": "gs://google-models"}, "dest", "may not start with 'goog' or contain 'google'"),
    ({"dest": "/"}, "dest", "'/' is a system directory"),
    ({"dest": "/etc"}, "dest", "is a system directory"),
    ({"dest": "/usr/"}, "dest", "is a system directory"),
    ({"dest": "/var/lib"}, "dest", "is a system directory"),
    ({"dest": "/home"}, "dest", "is a system directory"),
    ({"dest": "/proc"}, "dest", "is a system directory"),
    ({"dest": "/mnt/models/../../etc"}, "dest", "has a '..' segment"),
    ({"dest": "/mnt/./models"}, "dest", "has a '.' segment"),
    ({"dest": "//mnt/models"}, "dest", "has an empty segment"),
    ({"dest": "/mnt/mod\x00els"}, "dest", "contains a NUL byte"),
    ({"repo_type": "space"}, "repo_type", "Spaces are applications.*model or dataset"),
    ({"repo_type": "Spaces"}, "repo_type", "not supported"),
    ({"repo_type": "checkpoint"}, "repo_type", "must be model or dataset, got 'checkpoint'"),
    ({"revision": ""}, "revision", "must be a branch, a tag or a 40-hex commit id, got an empty value"),
    ({"revision": "main branch"}, "revision", "contains ' '"),
    ({"revision": "v1..v2"}, "revision", "contains '..' or '@{'"),
    ({"revision": "../main"}, "revision", "contains '..'"),
    ({"revision": "/main"}, "revision", "empty path segment"),
    ({"revision": "feature/"}, "revision", "empty path segment"),
    ({"revision": "main@{1}"}, "revision", "contains '..' or '@{'"),
    ({"revision": "main~1"}, "revision", "contains '~'"),
    ({"revision": "HEAD^"}, "revision", "contains '\\^'"),
    ({"revision": "a:b"}, "revision", "contains ':'"),
    ({"revision": "v1.lock"}, "revision", "ends with '.lock'"),
    ({"revision": ".hidden"}, "revision", "starts with '.'"),
    ({"revision": "x" * 256}, "revision", "longer than 255"),
    ({"revision": "tab\tname"}, "revision", "contains"),
    ({"repo_id": "a/b/c"}, "repo_id", "is not a Hugging Face repo id"),
    ({"repo_id": "../etc"}, "repo_id", "is not a Hugging Face repo id"),
    ({"repo_id": "org/na me"}, "repo_id", "is not a Hugging Face repo id"),
    ({"allow_patterns": ["*.json", ""]}, "allow_patterns[1]", "must be a non-empty glob pattern"),
    ({"ignore_patterns": "original/*"}, "ignore_patterns", "must be a list of glob patterns"),
    ({"concurrency": 0}, "concurrency", "must be between 1 and 64 files at a time, got 0"),
    ({"concurrency": 65}, "concurrency", "must be between 1 and 64"),
    ({"concurrency": 10 ** 12}, "concurrency", "must be between 1 and 64"),
    ({"retries": -1}, "retries", "must be between 0 and 20, got -1"),
    ({"retries": 1000}, "retries", "must be between 0 and 20"),
    ({"timeout": 0}, "timeout", "must be between 1 and 3600 seconds, got 0"),
    ({"timeout": 86400}, "timeout", "must be between 1 and 3600 seconds"),
    ({"prune_grace_hours": -1}, "prune_grace_hours", "must be between 0 and 8760 hours"),
    ({"prune_grace_hours": 10 ** 9}, "prune_grace_hours", "set prune to false"),
    ({"endpoint": "huggingface.co"}, "endpoint", "must be an http\\(s\\):// URL"),
    ({"endpoint": "ftp://mirror"}, "endpoint", "must be an http\\(s\\):// URL"),
    ({"endpoint": "https://mirror/x?y=1"}, "endpoint", "must be an http\\(s\\):// URL"),
    ({"endpoint": "https://user:%s@mirror.example" % PLANTED_TOKEN}, "endpoint", "must not carry credentials"),
]


@pytest.mark.parametrize("overrides, field, message", MODULE_REFUSALS,
                         ids=["%s=%r" % (f, list(o.values())[0]) for o, f, _m in MODULE_REFUSALS])
def test_model_stage_refuses_before_anything_is_contacted(overrides, field, message):
    with pytest.raises(InputError, match=message) as failure:
        validate_params(params(**overrides))
    assert failure.value.field == field
    assert str(failure.value).startswith(field + ": ")
    assert PLANTED_TOKEN not in str(failure.value)


@pytest.mark.parametrize("overrides", [
    {},
    {"dest": "/mnt/models"},
    {"dest": "/mnt/models/"},
    {"dest": "gs://my-project-models"},
    {"dest": "gs://my.project.models/hf/cache/"},
    {"endpoint": "http://127.0.0.1:8090"},
    {"endpoint": "https://hf-mirror.example/base"},
    {"revision": "refs/pr/3"},
    {"revision": "v1.0"},
    {"revision": "a" * 40},
    {"revision": "release/2025-01"},
    {"repo_type": "dataset"},
    {"repo_id": "gpt2"},
    {"concurrency": 64, "retries": 0, "timeout": 3600, "prune_grace_hours": 0},
])
def test_accepted_options(overrides):
    validate_params(params(**overrides))


def test_gcs_url_is_split_after_the_checks():
    assert split_gcs_url("gs://bucket") == ("bucket", "")
    assert split_gcs_url("gs://bucket/a/b/") == ("bucket", "a/b/")
    with pytest.raises(InputError, match="'..' segment"):
        check_dest("gs://bucket/a/../b")


# -- the models role's plan --------------------------------------------------------------------------------------
GOOD_CACHE = {"backend": "gcs", "bucket": "my-project-models", "mount_path": "/models"}


def plan_problems(models=None, cache=None, settings=None):
    plan = model_stage_plan([{"repo": "org/name"}] if models is None else models,
                            GOOD_CACHE if cache is None else cache, settings or {})
    return plan["problems"]


ROLE_REFUSALS = [
    ({"models": [{"repo": "org/a", "repo_type": "space"}]}, "accelci_models[0].repo_type: 'space' is not supported"),
    ({"models": [{"repo": "org/a"}, {"repo": "org/b", "revision": "bad rev"}]},
     "accelci_models[1].revision: 'bad rev' is not a branch, tag or commit id"),
    ({"models": [{"repo": "org/a", "revision": ""}]}, "accelci_models[0].revision: must be a branch"),
    ({"models": [{"repo": "a/b/c"}]}, "accelci_models[0].repo: 'a/b/c' is not a Hugging Face repo id"),
    ({"models": [{"revision": "main"}]}, "accelci_models[0].repo: is required"),
    ({"models": [{"repo": "org/a", "revison": "v1"}]}, "accelci_models[0]: unknown key revison; accepted keys: repo"),
    ({"models": ["org/a"]}, "accelci_models[0]: must be a mapping"),
    ({"models": {"repo": "org/a"}}, "accelci_models: must be a list"),
    ({"models": [{"repo": "org/a"}, {"repo": "org/a", "revision": "v2"}]},
     "accelci_models[1].repo: model org/a is listed twice (also at accelci_models[0])"),
    ({"models": [{"repo": "org/a", "allow_patterns": "*.json"}]}, "accelci_models[0].allow_patterns: must be a list"),
    ({"models": [{"repo": "org/a", "token": 12345}]}, "accelci_models[0].token: must be a string"),
    ({"cache": {"backend": "gcs"}}, "accelci_model_cache.bucket: is required for backend gcs"),
    ({"cache": {"backend": "gcs", "bucket": "10.0.0.1"}}, "accelci_model_cache.bucket: '10.0.0.1': bucket '10.0.0.1' "
                                                          "may not be an IP address"),
    ({"cache": {"backend": "gcs", "bucket": "models", "prefix": "../.."}},
     "accelci_model_cache.prefix: '../..' has a '..' segment"),
    ({"cache": {"backend": "gcs", "bucket": "models", "prefix": "a/./b"}},
     "accelci_model_cache.prefix: 'a/./b' has a '.' segment"),
    ({"cache": {"backend": "filestore", "local_path": "/"}}, "accelci_model_cache.local_path: '/' is a system dir"),
    ({"cache": {"backend": "filestore", "local_path": "mnt/models"}},
     "accelci_model_cache.local_path: 'mnt/models' must be gs://BUCKET[/PREFIX] or an absolute filesystem path"),
    ({"cache": {"backend": "filestore", "local_path": "/mnt/models/.."}},
     "accelci_model_cache.local_path: '/mnt/models/..': the path has a '..' segment"),
    ({"cache": {"backend": "filestore"}}, "accelci_model_cache.local_path: is required for backend filestore"),
    ({"cache": {"backend": "s3"}}, "accelci_model_cache.backend: must be one of gcs, filestore, none, got 's3'"),
    ({"cache": ["gcs"]}, "accelci_model_cache: must be a mapping"),
    ({"settings": {"concurrency": 0}}, "models_concurrency: must be between 1 and 64"),
    ({"settings": {"concurrency": "lots"}}, "models_concurrency: must be a whole number between 1 and 64"),
    ({"settings": {"retries": 10 ** 6}}, "models_retries: must be between 0 and 20"),
    ({"settings": {"prune_grace_hours": -3}}, "models_prune_grace_hours: must be between 0 and 8760"),
    ({"settings": {"prune": "yes please"}}, "models_prune: must be true or false"),
    ({"settings": {"endpoint": "mirror.local"}}, "models_endpoint: 'mirror.local' must be an http(s):// URL"),
]


@pytest.mark.parametrize("inputs, expected", ROLE_REFUSALS, ids=[e.split(":")[0] for _i, e in ROLE_REFUSALS])
def test_role_plan_names_the_inventory_variable(inputs, expected):
    problems = plan_problems(inputs.get("models"), inputs.get("cache"), inputs.get("settings"))
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems[0]
    assert "models_list" not in problems[0] and "models_cache" not in problems[0]


def test_role_plan_lists_every_problem_at_once_and_never_a_token():
    models = [{"repo": "org/a", "revision": "x y", "token": PLANTED_TOKEN},
              {"repo": "org/b", "repo_type": "space", "token": PLANTED_TOKEN},
              {"repo": "org/c", "token": PLANTED_TOKEN, "tokn": PLANTED_TOKEN}]
    problems = plan_problems(models, {"backend": "gcs", "bucket": "b" * 2}, {"concurrency": 100})
    assert [p.split(":")[0] for p in problems] == ["accelci_models[0].revision", "accelci_models[1].repo_type",
                                                   "accelci_models[2]", "accelci_model_cache.bucket",
                                                   "models_concurrency"]
    assert not any(PLANTED_TOKEN in p for p in problems)


def test_role_plan_entries_carry_no_token():
    models = [{"repo": "org/a", "token": PLANTED_TOKEN, "ignore_patterns": ["original/*"]},
              {"repo": "org/d", "repo_type": "dataset", "revision": "v1"}]
    plan = model_stage_plan(models, dict(GOOD_CACHE, prefix="/hf/cache/"), {"concurrency": "8", "prune": True})
    assert plan["problems"] == []
    assert plan["backend"] == "gcs" and plan["dest"] == "gs://my-project-models/hf/cache"
    assert plan["models"] == [
        {"index": 0, "repo": "org/a", "revision": "main", "repo_type": "model", "allow_patterns": [],
         "ignore_patterns": ["original/*"]},
        {"index": 1, "repo": "org/d", "revision": "v1", "repo_type": "dataset", "allow_patterns": [],
         "ignore_patterns": []},
    ]
    assert PLANTED_TOKEN not in repr(plan)


def test_role_plan_of_a_filestore_cache_and_of_none():
    plan = model_stage_plan([], {"backend": "filestore", "local_path": "/mnt/models"}, {})
    assert (plan["backend"], plan["dest"], plan["problems"]) == ("filestore", "/mnt/models", [])
    plan = model_stage_plan(None, None, None)
    assert (plan["backend"], plan["dest"], plan["models"], plan["problems"]) == ("none", "", [], [])
