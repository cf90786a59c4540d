"""Packaging facts checkable on this machine: one version, the cibuildwheel configuration's
build identifiers, the hosted wheel workflow's YAML."""
import importlib.metadata
import os
import subprocess
import sys

import pytest

import cyloss

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYPROJECT = os.path.join(ROOT, "pyproject.toml")
WORKFLOW = os.path.join(ROOT, ".github", "workflows", "wheels.yml")
source_checkout = pytest.mark.skipif(not os.path.isfile(PYPROJECT), reason="not a source checkout")


def _pyproject():
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        tomllib = pytest.importorskip("tomli")
    with open(PYPROJECT, "rb") as f:
        return tomllib.load(f)


@source_checkout
def test_version_has_one_source():
    meta = _pyproject()
    assert "version" not in meta["project"] and "version" in meta["project"]["dynamic"]
    assert meta["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "cyloss._version.__version__"}
    from cyloss import _version
    assert cyloss.__version__ == _version.__version__
    assert cyloss.__version__.count(".") == 2 and all(p.isdigit() for p in cyloss.__version__.split("."))


def test_installed_metadata_agrees():
    try:
        dist = importlib.metadata.distribution("cyloss")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("cyloss is not installed (an in-place build)")
    files = [str(f) for f in (dist.files or [])]
    if not any(f.replace("\\", "/").endswith("cyloss/_version.py") for f in files):
        pytest.skip("the installed distribution is not the imported package")
    assert dist.version == cyloss.__version__


EXPECTED = {
    "linux": [f"cp3{m}-{libc}_{arch}" for libc in ("manylinux", "musllinux") for arch in ("x86_64", "aarch64")
              for m in range(9, 14)],
    "macos": [f"cp3{m}-macosx_{arch}" for arch in ("x86_64", "arm64") for m in range(9, 14)],
    "windows": [f"cp3{m}-win_amd64" for m in range(9, 14)],
}


@source_checkout
@pytest.mark.parametrize("platform", sorted(EXPECTED))
def test_cibuildwheel_build_identifiers(platform):
    pytest.importorskip("cibuildwheel")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIBW_")}
    r = subprocess.run([sys.executable, "-m", "cibuildwheel", "--print-build-identifiers", "--platform", platform,
                        ROOT], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert sorted(r.stdout.split()) == sorted(EXPECTED[platform])


@source_checkout
def test_cibuildwheel_configuration():
    cfg = _pyproject()["tool"]["cibuildwheel"]
    assert cfg["linux"]["manylinux-x86_64-image"] == cfg["linux"]["manylinux-aarch64-image"] == "manylinux_2_28"
    assert "auditwheel repair" in cfg["linux"]["repair-wheel-command"]
    assert "tests" in cfg["test-command"] and cfg["test-extras"] == ["test"]


@source_checkout
def test_wheel_workflow_yaml():
    yaml = pytest.importorskip("yaml")
    with open(WORKFLOW, encoding="utf-8") as f:
        wf = yaml.safe_load(f)
    jobs = wf["jobs"]
    assert set(jobs) == {"wheels", "sdist"}
    oses = jobs["wheels"]["strategy"]["matrix"]["os"]
    assert any("arm" in o for o in oses) and any(o.startswith("macos") for o in oses)
    assert any(o.startswith("windows") for o in oses) and any(o.startswith("ubuntu") for o in oses)
    steps = jobs["wheels"]["steps"]
    assert any(s.get("uses", "").startswith("pypa/cibuildwheel@") for s in steps)
    assert any("build --sdist" in s.get("run", "") for s in jobs["sdist"]["steps"])
