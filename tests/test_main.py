"""python -m cyloss: the self-check passes, and the timing table names only the peers that
are installed (NumPy always; scipy and torch when importable)."""
import sys

import pytest

from cyloss import __main__ as main


def test_self_check_passes(capsys):
    assert main.self_check(verbose=True)
    assert "FAIL" not in capsys.readouterr().out


def _table(monkeypatch, capsys, missing):
    for name in missing:  # a None entry makes `import name` raise ImportError
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setattr(main, "_tmin", lambda fn, *a, **k: 1e-3)  # the layout, not the timings
    main.timing_table()
    return capsys.readouterr().out


@pytest.mark.parametrize("missing", [("torch",), ("scipy", "scipy.special", "torch")],
                         ids=["no-torch", "no-scipy-no-torch"])
def test_timing_table_without_peers(monkeypatch, capsys, missing):
    out = _table(monkeypatch, capsys, missing)
    assert "numpy" in out and "cyloss" in out
    for name in missing:
        assert name.split(".")[0] not in out, out
    if "scipy" not in missing:
        pytest.importorskip("scipy.special")
        assert "scipy" in out


def test_timing_table_with_torch(monkeypatch, capsys):
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    try:
        out = _table(monkeypatch, capsys, ())
    finally:
        torch.set_num_threads(threads)
    assert "torch (x)" in out and "torch pinned to 1 thread" in out
