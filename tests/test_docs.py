"""The documentation: every public function has a NumPy-style docstring (parameters, returns,
an example) whose examples run as doctests, and the API reference lists every function."""
import doctest
import inspect
import os
import re

import numpy as np
import pytest

import cyloss

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
API = os.path.join(ROOT, "docs", "api.rst")
PUBLIC = [n for n in cyloss.__all__ if callable(getattr(cyloss, n))]
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _sections(doc):
    """numpydoc section titles: a line followed by a line of dashes of the same length."""
    lines = doc.splitlines()
    return {lines[i].strip() for i in range(len(lines) - 1)
            if lines[i].strip() and re.fullmatch(r"-{3,}", lines[i + 1].strip())
            and len(lines[i + 1].strip()) == len(lines[i].strip())}


@pytest.mark.parametrize("name", PUBLIC)
def test_numpy_style_docstring(name):
    doc = inspect.getdoc(getattr(cyloss, name)) or ""
    sections = _sections(doc)
    assert "Examples" in sections and ">>>" in doc, f"{name}: no Examples section"
    params = [p for p in inspect.signature(getattr(cyloss, name)).parameters.values()
              if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if params:
        assert "Parameters" in sections, f"{name}: no Parameters section"
        block = doc.split("Parameters\n----------", 1)[1]
        for p in params:
            assert re.search(rf"^{re.escape(p.name)}\b", block, re.M), f"{name}: parameter {p.name} undocumented"
    if not isinstance(getattr(cyloss, name), type):  # a class (num_threads) documents its constructor
        assert "Returns" in sections, f"{name}: no Returns section"


@pytest.mark.parametrize("name", PUBLIC)
def test_docstring_examples_run(name):
    fn = getattr(cyloss, name)
    tests = doctest.DocTestFinder(recurse=False).find(fn, name, globs={"np": np, "cyloss": cyloss})
    examples = sum(len(t.examples) for t in tests)
    assert examples > 0, f"{name}: no doctest examples"
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for t in tests:
        runner.run(t)
    res = runner.summarize(verbose=False)
    assert res.failed == 0, f"{name}: {res.failed} of {res.attempted} doctest examples failed"


@pytest.mark.skipif(not os.path.isfile(API), reason="not a source checkout")
def test_api_reference_lists_every_function():
    text = open(API, encoding="utf-8").read()
    listed = set(re.findall(r"^\.\. auto(?:function|class):: (\w+)", text, re.M))
    assert listed == set(PUBLIC), (set(PUBLIC) - listed, listed - set(PUBLIC))
