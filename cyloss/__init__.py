"""cyloss: numerically stable softmax, logsumexp and loss functions with gradients.

C kernels (vectorized, GIL released) under a NumPy API with torch.nn.functional /
scipy.special semantics.  See README.md for the semantics table.
"""
import os as _os

from . import _core

__version__ = "0.1.0"

# Choose the CPU target once: AVX2+FMA where available, unless CYLOSS_CPU=baseline.
_cpu_request = _os.environ.get("CYLOSS_CPU", "").strip().lower()
if _cpu_request not in ("", "auto", "baseline", "avx2"):
    raise ImportError(f"CYLOSS_CPU must be 'baseline', 'avx2' or 'auto', got {_cpu_request!r}")
_core.init(_cpu_request == "baseline")

from ._softmax import softmax, log_softmax, logsumexp, softmax_backward, log_softmax_backward  # noqa: E402
from ._losses import (cross_entropy, nll_loss, binary_cross_entropy_with_logits,  # noqa: E402
                      binary_cross_entropy, kl_div, entropy, mse_loss, l1_loss, huber_loss, smooth_l1_loss)


def show_config():
    """Print the build's CPU targets and the one in use."""
    import numpy
    print(f"cyloss {__version__}")
    print(f"  CPU targets built : {_core.cpu_targets_built()}")
    print(f"  CPU target active : {_core.cpu_target()}  (CYLOSS_CPU={_cpu_request or 'auto'})")
    print(f"  NumPy             : {numpy.__version__}")


def get_include():
    """Directory holding cyloss.h (for C and Cython code built against cyloss)."""
    return _os.path.join(_os.path.dirname(__file__), "include")


__all__ = [
    "softmax", "log_softmax", "logsumexp", "softmax_backward", "log_softmax_backward",
    "cross_entropy", "nll_loss", "binary_cross_entropy_with_logits", "binary_cross_entropy",
    "kl_div", "entropy", "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss",
    "show_config", "get_include", "__version__",
]
