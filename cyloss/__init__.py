"""cyloss: numerically stable softmax, logsumexp and loss functions with gradients.

C kernels (vectorized, GIL released) under a NumPy API with torch.nn.functional /
scipy.special semantics.  See README.md for the semantics table.
"""
import os as _os
import sys as _sys


def _import_core():
    """The compiled extension.  When this package is imported from a source checkout
    that has no in-place build (e.g. `python -m cyloss` run in the repository after
    `pip install .`), use the extension of the installed copy instead."""
    try:
        from . import _core
        return _core
    except ImportError as first_error:
        here = _os.path.dirname(_os.path.abspath(__file__))
        for entry in _sys.path:
            cand = _os.path.join(_os.path.abspath(entry or "."), "cyloss")
            if cand == here or not _os.path.isdir(cand):
                continue
            if any(f.startswith("_core.") and f.endswith((".so", ".pyd")) for f in _os.listdir(cand)):
                __path__.append(cand)
                from . import _core
                return _core
        raise ImportError("cyloss's compiled extension is missing: install the package "
                          "(pip install .) or build it in place (python setup.py build_ext "
                          "--inplace)") from first_error


_core = _import_core()

from ._version import __version__  # noqa: E402

# Choose the CPU target once: the fastest available (AVX-512, AVX2+FMA, baseline), at
# most the one CYLOSS_CPU names.
_cpu_request = _os.environ.get("CYLOSS_CPU", "").strip().lower()
_cpu_limits = {"": 0, "auto": 0, "avx512": 0, "baseline": 1, "avx2": 2}
if _cpu_request not in _cpu_limits:
    raise ImportError(f"CYLOSS_CPU must be 'baseline', 'avx2', 'avx512' or 'auto', got {_cpu_request!r}")
_core.init(_cpu_limits[_cpu_request])

from . import _threads  # noqa: E402
from ._threads import set_num_threads, get_num_threads, num_threads  # noqa: E402
_threads.init()

from ._softmax import (softmax, log_softmax, softmin, logsumexp, softmax_backward,  # noqa: E402
                       log_softmax_backward)
from ._classification import cross_entropy, nll_loss, entropy  # noqa: E402
from ._binary import (binary_cross_entropy_with_logits, binary_cross_entropy, kl_div,  # noqa: E402
                      sigmoid_focal_loss, multilabel_soft_margin_loss)
from ._margin import (soft_margin_loss, hinge_embedding_loss, margin_ranking_loss,  # noqa: E402
                      multi_margin_loss, multilabel_margin_loss)
from ._likelihood import poisson_nll_loss, gaussian_nll_loss  # noqa: E402
from ._embedding import cosine_embedding_loss, triplet_margin_loss  # noqa: E402
from ._sequence import ctc_loss  # noqa: E402
from ._regression import (mse_loss, l1_loss, huber_loss, smooth_l1_loss, log_cosh_loss,  # noqa: E402
                          pseudo_huber_loss)
from ._glm import (half_poisson_loss, half_gamma_loss, half_tweedie_loss,  # noqa: E402
                   half_tweedie_loss_identity, pinball_loss, exponential_loss)
from ._partial import logsumexp_partial, logsumexp_merge, cross_entropy_partial  # noqa: E402


def show_config():
    """Print the build's CPU targets and the one in use.

    Returns
    -------
    None
        The configuration is printed to standard output.

    Notes
    -----
    The lines printed: the cyloss version; the CPU targets built (baseline, avx2, avx512); the one in
    use and the ``CYLOSS_CPU`` environment variable (``auto`` when unset); the threads a large call from
    this thread uses, with the process setting, ``OMP_NUM_THREADS`` and the CPUs available (or "1
    (serial build)"); the NumPy version.  The text depends on the machine and the build.

    Examples
    --------
    >>> cyloss.show_config()  # doctest: +ELLIPSIS
    cyloss ...
    """
    import numpy
    print(f"cyloss {__version__}")
    print(f"  CPU targets built : {_core.cpu_targets_built()}")
    print(f"  CPU target active : {_core.cpu_target()}  (CYLOSS_CPU={_cpu_request or 'auto'})")
    if _core.threads_enabled():
        setting = _core.get_num_threads_setting()
        print(f"  Threads           : {_core.get_num_threads()} for large work on this thread "
              f"(process setting: {setting or 'default'}; default: OMP_NUM_THREADS="
              f"{_os.environ.get('OMP_NUM_THREADS', 'unset')}, CPUs available: {_threads.hardware_threads()})")
    else:
        print("  Threads           : 1 (serial build)")
    print(f"  NumPy             : {numpy.__version__}")


def get_include():
    """Directory holding cyloss.h (for C and Cython code built against cyloss).

    Returns
    -------
    str
        The path of the ``include`` directory inside the installed cyloss package, which holds
        cyloss.h; pass it to the compiler as an include directory (e.g. the ``include_dirs`` of a
        setuptools Extension).

    Notes
    -----
    The path is derived from the location of the imported package (its ``include`` subdirectory);
    nothing is created or checked.

    Examples
    --------
    >>> import os
    >>> os.path.isfile(os.path.join(cyloss.get_include(), "cyloss.h"))
    True
    """
    return _os.path.join(_os.path.dirname(__file__), "include")


__all__ = [
    "softmax", "log_softmax", "softmin", "logsumexp", "softmax_backward", "log_softmax_backward",
    "cross_entropy", "nll_loss", "binary_cross_entropy_with_logits", "binary_cross_entropy",
    "kl_div", "entropy", "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss",
    "log_cosh_loss", "pseudo_huber_loss", "sigmoid_focal_loss", "multilabel_soft_margin_loss", "soft_margin_loss", "hinge_embedding_loss",
    "margin_ranking_loss", "multi_margin_loss", "multilabel_margin_loss", "poisson_nll_loss", "gaussian_nll_loss",
    "cosine_embedding_loss",
    "triplet_margin_loss",
    "ctc_loss",
    "half_poisson_loss", "half_gamma_loss", "half_tweedie_loss", "half_tweedie_loss_identity", "pinball_loss",
    "exponential_loss",
    "logsumexp_partial", "logsumexp_merge", "cross_entropy_partial",
    "set_num_threads", "get_num_threads", "num_threads", "show_config", "get_include", "__version__",
]
