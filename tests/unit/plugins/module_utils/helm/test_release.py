"""What helm's answers mean, without helm: version gate, chart versions, masking, value deltas, local charts."""
import pytest

from ansible_collections.accelci.runners.plugins.module_utils.helm import release

SECRET = "-----BEGIN RSA PRIVATE KEY-----\nMIIsupersecretmaterial\n-----END RSA PRIVATE KEY-----"


@pytest.mark.parametrize("text, parsed", [("v3.14.4+g81c902a", (3, 14, 4)), ("v4.1.4", (4, 1, 4)), ("3.8.0", (3, 8, 0))])
def test_parse_version(text, parsed):
    assert release.parse_version(text) == parsed


def test_version_gate():
    assert release.check_version((3, 8, 0)) == (3, 8, 0)
    for version in ((3, 7, 2), (5, 0, 0)):
        with pytest.raises(ValueError, match="is not supported"):
            release.check_version(version)
    with pytest.raises(ValueError, match="cannot read a helm version"):
        release.parse_version("garbage")


def test_chart_version_of():
    assert release.chart_version_of("gha-runner-scale-set-0.14.2", "gha-runner-scale-set") == "0.14.2"
    assert release.chart_version_of("gha-runner-scale-set-controller-0.13.1", "other") == "0.13.1"
    assert release.chart_version_of(None, "x") is None


def test_masking_covers_every_line_of_a_multi_line_secret():
    text = "key %s and line MIIsupersecretmaterial" % SECRET
    masked = release.mask_text(text, [SECRET])
    assert "MIIsupersecretmaterial" not in masked and release.MASK in masked
    values = release.mask_values({"a": [SECRET, 3], "b": {"c": "MIIsupersecretmaterial"}}, [SECRET])
    assert values == {"a": [release.MASK, 3], "b": {"c": release.MASK}}


def test_values_delta_and_rollback_target():
    assert release.values_delta({"a": 1, "b": {"c": 1}}, {"a": 1, "b": {"c": 2}, "d": 0}) == ["b.c", "d"]
    assert release.rollback_target({"status": "deployed", "revision": 3}) == {"status": "deployed", "revision": 3}
    assert release.rollback_target({"status": "failed"}) is None and release.rollback_target(None) is None


def test_is_local_chart(tmp_path):
    assert release.is_local_chart(str(tmp_path)) and release.is_local_chart("charts/x-0.14.2.tgz")
    assert release.is_local_chart("./charts/x") and not release.is_local_chart("oci://ghcr.io/x/y")
