"""The Python examples of the README and of the documentation pages (docs/*.md) run as
written (the Cython example is built by test_downstream.py from examples/downstream/)."""
import glob
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
PAGES = [README] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))


def _blocks():
    found = []
    for page in PAGES:
        if not os.path.isfile(page):
            continue
        text = open(page, encoding="utf-8").read()
        found += [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "setup(" not in b]
    return found


@pytest.mark.skipif(not os.path.isfile(README), reason="not a source checkout")
def test_readme_has_examples():
    assert len(_blocks()) >= 1


@pytest.mark.parametrize("i", range(len(_blocks())))
def test_readme_example_runs(i, capsys):
    block = _blocks()[i]
    if "cyloss.dask" in block:
        pytest.importorskip("dask.array")
        pytest.importorskip("distributed")
        if os.environ.get("CYLOSS_SANITIZED", "") not in ("", "0"):
            pytest.skip("starts a cluster of worker processes: not under the sanitizers")
    # run as a script ("__main__"), so that examples guarded by `if __name__ == "__main__"` run;
    # distributed's nanny sets OMP_NUM_THREADS & co. in this process: restored after
    environ = dict(os.environ)
    try:
        exec(compile(block, f"README/docs block {i}", "exec"), {"__name__": "__main__"})
    finally:
        os.environ.clear()
        os.environ.update(environ)
