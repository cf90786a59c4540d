"""Drop-in custom objectives for XGBoost and LightGBM: per-sample gradient and Hessian of the
loss with respect to the raw prediction, computed by cyloss's kernels.

    import cyloss.boosting

    obj = cyloss.boosting.xgboost_objective("multi:softprob")
    booster = xgboost.train({"num_class": 10, "base_score": 0.0}, dtrain, 100, obj=obj)

    obj = cyloss.boosting.lightgbm_objective("tweedie", tweedie_variance_power=1.2)
    booster = lightgbm.train({"objective": obj}, train_set, 100)
    model = lightgbm.LGBMRegressor(objective=obj).fit(X, y)

Each objective reproduces the library's built-in objective of the same name, with its
conventions and its parameter names and defaults (the sources read are named below): a model
trained with it predicts the same raw margins as one trained with the built-in objective when
both start from the same margins.  This module imports neither library; the objects are called
by them:

* ``xgboost_objective(name, **params)(predt, dtrain)`` as ``xgboost.train(..., obj=)`` calls it
  (``dtrain.get_label()``, ``dtrain.get_weight()`` read), or ``(y_true, y_pred,
  sample_weight=None)`` as XGBoost's scikit-learn estimators call it (``objective=``).
* ``lightgbm_objective(name, **params)(preds, train_data)`` as ``lightgbm.train`` calls the
  ``objective`` parameter (``train_data.get_label()``, ``get_weight()`` read), or ``(y_true,
  y_pred, weight)`` as ``LGBMModel(objective=)`` calls it.
* ``obj.grad_hess(preds, label, weight=None)`` computes the same from arrays.

What they return
----------------
``(grad, hess)``: NumPy arrays of the predictions' shape (``(n,)``, or ``(n, K)`` for
multiclass), with per-sample weights applied (``w`` below: 1 without weights).

* XGBoost: the predictions' dtype (XGBoost passes float32, and computes its own objectives in
  float32), C order.  float32 and float64 predictions are read in place, not copied.
* LightGBM: float32 (LightGBM's gradient type, to which it would convert float64 itself),
  computed in float64 as LightGBM does (it passes float64 predictions); multiclass arrays are
  (n, K) in Fortran order, the class-major layout LightGBM stores, so it takes them without
  a copy.

p = softmax or sigmoid of the margin, d = margin - label, m = margin::

    =======================  ==================================  =====================================
    XGBoost objective        grad                                hess
    =======================  ==================================  =====================================
    multi:softprob, :softmax w (p - onehot(y))                   max(2 p (1 - p) w, 1e-16)
    binary:logistic          w' (p - y)                          max(p (1 - p), 1e-16) w'
    reg:logistic, binary:logitraw  as binary:logistic
    reg:squarederror         w' d                                w'
    reg:pseudohubererror     w d / s, s = sqrt(1 + (d/slope)^2)  w slope^2 / ((slope^2 + d^2) s)
    count:poisson            w (exp(m) - y)                      w exp(m + max_delta_step)
    reg:gamma                w' (1 - y exp(-m))                  w' y exp(-m)
    reg:tweedie (rho)        w (exp((2-rho) m) - y exp((1-rho) m))  w ((2-rho) exp((2-rho) m) - (1-rho) y exp((1-rho) m))
    reg:absoluteerror        w sign(d)                           w
    =======================  ==================================  =====================================

w' = w * scale_pos_weight where the label is exactly 1 (XGBoost's RegLossObj applies
``scale_pos_weight``, default 1, to squared error, logistic and gamma).  Parameters and
defaults: ``scale_pos_weight`` (1, >= 0), ``huber_slope`` (1, != 0), ``max_delta_step``
(0.7, >= 0; XGBoost's tree parameter of the same name, which clamps leaf values and defaults
to 0, is a separate setting: a value passed here should also go in the booster's params when
the built-in ``count:poisson`` would have received it there), ``tweedie_variance_power``
(1.5, in [1, 2]), ``num_class`` (optional, checked against the predictions).  Labels are
checked as XGBoost checks them: integers in [0, K) for multiclass, [0, 1] for logistic,
> 0 for gamma, >= 0 for Poisson and Tweedie.

::

    =======================  ==================================  =====================================
    LightGBM objective       grad                                hess
    =======================  ==================================  =====================================
    multiclass (softmax)     w (p - onehot(int(y)))              w K/(K-1) p (1 - p)
    binary                   w_l w s (p - [y > 0]), p = sigmoid(s m)   w_l w s^2 p (1 - p)
    regression (l2, ...)     w d  (label sqrt-transformed with reg_sqrt)    w (1 without weights)
    regression_l1 (l1, mae)  w sign(d)                           w
    huber                    w clip(d, -alpha, alpha)            w
    poisson                  w (exp(m) - y)                      w exp(m) exp(poisson_max_delta_step)
    gamma                    w (1 - y exp(-m))                   w y exp(-m)
    tweedie (rho)            as XGBoost's reg:tweedie            as XGBoost's reg:tweedie
    quantile                 w (1 - alpha) if m >= y, else -w alpha  w
    =======================  ==================================  =====================================

s = ``sigmoid`` (1.0, > 0), w_l = the label weight from ``is_unbalance`` (False) or
``scale_pos_weight`` (1.0, > 0; not both); ``alpha`` (0.9; > 0, and < 1 for quantile),
``poisson_max_delta_step`` (0.7, > 0), ``tweedie_variance_power`` (1.5, in [1, 2)),
``reg_sqrt`` (False), ``num_class`` (optional check; alias ``num_classes``).  LightGBM's
objective aliases are accepted (``softmax``, ``l2``, ``mse``, ``rmse``, ``l1``, ``mae``, ...).

Differences that gradients cannot express
-----------------------------------------
XGBoost's ``reg:absoluteerror`` and LightGBM's ``quantile`` and ``regression_l1`` recompute
every new leaf's value from the residuals after the tree is grown (a weighted quantile); a
custom objective only supplies gradients, so with these the trees have the built-in
structure's Newton leaf values, not the recomputed ones.  Their gradients and Hessians are
the built-in ones.  LightGBM also falls back to the built-in objective's average score when
the first iteration's tree has no split, even with ``boost_from_average=False``
(``src/boosting/gbdt.cpp``, TrainOneIter); a custom objective's first tree is then empty.

Starting margins: the built-in objectives start from an estimated intercept (XGBoost's
``base_score``, LightGBM's ``boost_from_average``); with a custom objective XGBoost starts
from ``base_score`` read as a margin (0.5 unless set) and LightGBM from 0 (or the Dataset's
``init_score``).  Pass ``base_score`` / ``base_margin`` / ``init_score`` to choose the start.

XGBoost's float32 sigmoid rounds to 1 above a margin of about 16.6, where its logistic
Hessian drops to the 1e-16 floor; here p (1 - p) keeps its value (about exp(-m)), so the two
differ only in samples with margins that large.

Sources: XGBoost 3.2.0 ``src/objective/multiclass_obj.cu``, ``regression_obj.cu``,
``regression_loss.h``, ``regression_param.h``, ``src/common/pseudo_huber.h``,
``src/common/math.h``, ``python-package/xgboost/core.py`` (``Booster.boost``) and
``sklearn.py``; LightGBM 4.7 ``src/objective/multiclass_objective.hpp``,
``binary_objective.hpp``, ``regression_objective.hpp``, ``include/LightGBM/config.h``,
``python-package/lightgbm/basic.py`` (``Booster.update``, ``__boost``) and ``sklearn.py``.
"""
import math
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

import cyloss

__all__ = ["xgboost_objective", "lightgbm_objective", "XGBoostObjective", "LightGBMObjective"]

_Array = NDArray[Any]
_GradHess = Tuple[_Array, _Array]
_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)


# ------------------------------------------------------------------------- parameters

def _number(lib: str, name: str, value: Any, ok: Callable[[float], bool], rule: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{lib}: {name} must be a number, got {value!r}")
    v = float(value)
    if not (math.isfinite(v) and ok(v)):
        raise ValueError(f"{lib}: {name} must be {rule}, got {value!r}")
    return v


def _flag(lib: str, name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{lib}: {name} must be True or False, got {value!r}")
    return bool(value)


def _num_class(lib: str, name: str, value: Any) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 2:
        raise ValueError(f"{lib}: {name} must be an integer >= 2, got {value!r}")
    return int(value)


# ------------------------------------------------------------------------- inputs

def _preds(preds: ArrayLike) -> _Array:
    """The predictions as float32 / float64 without a copy (other numbers: converted)."""
    x = np.asarray(preds)
    if x.dtype == _F32 or x.dtype == _F64:
        return x
    if x.dtype.kind == "f" and x.dtype.itemsize < 4:
        return x.astype(_F32)
    if x.dtype.kind not in "biuf":
        raise TypeError(f"predictions must be real numbers, got dtype {x.dtype}")
    return x.astype(_F64)


def _labels(label: Any, x: _Array, per_row: bool) -> _Array:
    y = np.asarray(label)
    if y.dtype.kind not in "biuf":
        raise TypeError(f"labels must be real numbers, got dtype {y.dtype}")
    n = x.shape[0] if x.ndim else 1
    if per_row:
        if y.size != n:
            raise ValueError(f"got {y.size} labels for {n} rows of predictions {x.shape}")
        return y.reshape(n)
    if y.shape != x.shape:
        if y.size != x.size:
            raise ValueError(f"got {y.size} labels for predictions of shape {x.shape}")
        y = y.reshape(x.shape)
    return y


def _weights(weight: Any, x: _Array) -> Optional[_Array]:
    """Per-row weights (None: unweighted; XGBoost's empty get_weight() is unweighted too),
    shaped to broadcast against the predictions."""
    if weight is None:
        return None
    w = np.asarray(weight)
    if w.size == 0:
        return None
    if w.dtype.kind not in "biuf":
        raise TypeError(f"weights must be real numbers, got dtype {w.dtype}")
    n = x.shape[0] if x.ndim else 1
    if w.size != n:
        raise ValueError(f"got {w.size} weights for {n} rows of predictions {x.shape}")
    return w.reshape((n,) + (1,) * max(x.ndim - 1, 0))


def _check_labels(lib: str, name: str, y: _Array, ok: Callable[[_Array], Any], rule: str) -> None:
    if y.size and not bool(ok(y)):
        raise ValueError(f"{lib} {name}: labels must be {rule}")


def _matrix(lib: str, name: str, x: _Array, num_class: Optional[int]) -> _Array:
    if x.ndim != 2 or x.shape[1] < 2:
        raise ValueError(f"{lib} {name}: predictions must be an (n_samples, n_classes) array with "
                         f"n_classes >= 2, got shape {x.shape}")
    if num_class is not None and x.shape[1] != num_class:
        raise ValueError(f"{lib} {name}: predictions have {x.shape[1]} classes, num_class is {num_class}")
    return x


def _class_targets(lib: str, name: str, y: _Array, k: int, exact: bool) -> _Array:
    """Class indices from float labels: XGBoost requires integers in [0, k); LightGBM
    truncates (static_cast<int>) and requires [0, k)."""
    if y.dtype.kind in "iu":
        t = y
    else:
        with np.errstate(invalid="ignore"):
            t = y.astype(np.intp)
    if y.size and (int(t.min()) < 0 or int(t.max()) >= k or (exact and t is not y and not np.array_equal(t, y))):
        raise ValueError(f"{lib} {name}: labels must be {'integers' if exact else 'numbers'} in [0, {k}) "
                         f"(class indices), got values from {np.nanmin(y)} to {np.nanmax(y)}")
    return t


def _f32(a: _Array, like: _Array, scale: Any = None) -> _Array:
    """`a` (times `scale`) as a new float32 array in the layout of `like` (Fortran order for
    LightGBM's multiclass predictions)."""
    fortran = like.ndim > 1 and like.flags.f_contiguous and not like.flags.c_contiguous
    out: _Array = np.empty(a.shape, dtype=_F32, order="F" if fortran else "C")
    if scale is None:
        np.copyto(out, a, casting="same_kind")
    else:
        np.multiply(a, scale, out=out, casting="same_kind")
    return out


# ------------------------------------------------------------------------- XGBoost

_LIB_X = "xgboost"
_EPS_HESS = 1e-16  # XGBoost's kEps floor on the softmax and logistic Hessians


def _pos_weight(x: _Array, y: _Array, w: Optional[_Array], spw: float) -> Optional[_Array]:
    """XGBoost's RegLossObj weight: w, times scale_pos_weight where the label is exactly 1."""
    if spw == 1.0:
        return w
    f: _Array = np.where(y == 1.0, x.dtype.type(spw), x.dtype.type(1.0))
    if w is not None:
        np.multiply(f, w, out=f, casting="same_kind")
    return f


def _apply_weight(x: _Array, grad: _Array, hess: _Array, w: Optional[_Array]) -> _GradHess:
    if w is not None:
        np.multiply(grad, w, out=grad, casting="same_kind")
        np.multiply(hess, w, out=hess, casting="same_kind")
    return grad, hess


def _ones_or(x: _Array, w: Optional[_Array]) -> _Array:
    """The Hessian `w` (or 1) in the predictions' dtype and shape."""
    if w is None:
        return np.ones(x.shape, dtype=x.dtype)
    return np.array(np.broadcast_to(w, x.shape), dtype=x.dtype)


def _xgb_softmax(name: str, x: _Array, label: Any, w: Optional[_Array], p: Mapping[str, Any]) -> _GradHess:
    x = _matrix(_LIB_X, name, x, p["num_class"])
    n, k = x.shape
    t = _class_targets(_LIB_X, name, _labels(label, x, True), k, exact=True)
    grad, hess = cyloss.cross_entropy(x, t, reduction="sum", return_hessian=True, return_loss=False)
    two = x.dtype.type(2.0)
    if w is None:
        np.multiply(hess, two, out=hess)
    else:
        np.multiply(grad, w, out=grad, casting="same_kind")
        np.multiply(hess, w.astype(x.dtype) * two, out=hess)
    np.maximum(hess, x.dtype.type(_EPS_HESS), out=hess)
    return grad, hess


def _xgb_logistic(name: str, x: _Array, label: Any, w: Optional[_Array], p: Mapping[str, Any]) -> _GradHess:
    y = _labels(label, x, False)
    _check_labels(_LIB_X, name, y, lambda y: ((y >= 0) & (y <= 1)).all(), "in [0, 1]")
    grad, hess = cyloss.binary_cross_entropy_with_logits(x, y, reduction="sum",
                                                         return_hessian=True, return_loss=False)
    np.maximum(hess, x.dtype.type(_EPS_HESS), out=hess)
    return _apply_weight(x, grad, hess, _pos_weight(x, y, w, p["scale_pos_weight"]))


def _xgb_squared(name: str, x: _Array, label: Any, w: Optional[_Array], p: Mapping[str, Any]) -> _GradHess:
    # One subtraction: NumPy's single pass is the whole work (a loss kernel adds nothing).
    y = _labels(label, x, False)
    grad = np.subtract(x, y, dtype=x.dtype)
    w = _pos_weight(x, y, w, p["scale_pos_weight"])
    if w is not None:
        np.multiply(grad, w, out=grad, casting="same_kind")
    return grad, _ones_or(x, w)


def _xgb_pseudohuber(name: str, x: _Array, label: Any, w: Optional[_Array], p: Mapping[str, Any]) -> _GradHess:
    # No cyloss kernel for the pseudo-Huber loss: NumPy, in place, with XGBoost's operations in
    # its order (float32 for float32 predictions), so the results are XGBoost's to the bit.
    y = _labels(label, x, False)
    dt = x.dtype.type
    s2 = dt(p["huber_slope"]) * dt(p["huber_slope"])
    grad = np.subtract(x, y, dtype=x.dtype)                 # z
    z2 = np.square(grad)
    hess = np.divide(z2, s2)
    hess += dt(1.0)
    np.sqrt(hess, out=hess)                                 # s = sqrt(1 + z^2 / slope^2)
    np.divide(grad, hess, out=grad)                         # z / s
    z2 += s2
    np.multiply(z2, hess, out=hess)
    np.divide(s2, hess, out=hess)                           # slope^2 / ((slope^2 + z^2) s)
    return _apply_weight(x, grad, hess, w)


def _xgb_poisson(name: str, x: _Array, label: Any, w: Optional[_Array], p: Mapping[str, Any]) -> _GradHess:
    y = _labels(label, x, False)
    _check_labels(_LIB_X, name, y, lambda y: (y >= 0).all(), "non-negative")
    grad, hess = cyloss.half_poisson_loss(x, y, weight=w, reduction="sum",
                                          return_hessian=True, return_loss=False)
    np.multiply(hess, x.dtype.type(math.exp(p["max_delta_step"])), out=hess)
    return grad, hess


def _xgb_gamma(name: str, x: _Array, label: Any, w: Optional[_Array], p: Mapping[str, Any]) -> _GradHess:
    y = _labels(label, x, False)
    _check_labels(_LIB_X, name, y, lambda y: (y > 0).all(), "positive")
    w = _pos_weight(x, y, w, p["scale_pos_weight"])
    grad, hess = cyloss.half_gamma_loss(x, y, weight=w, reduction="sum", return_hessian=True, return_loss=False)
    return grad, hess


def _gamma_like(x: _Array, y: _Array, w: Optional[_Array], loss: Callable[..., Any], **kw: Any) -> _GradHess:
    """A gamma-type loss (gradient 1 - y exp(-m), Hessian y exp(-m) at its y = 0 samples) where
    the library accepts y = 0 and cyloss's domain is y > 0: those samples get 1 and 0 (times
    their weight), computed with y = 1 in their place."""
    zero = y == 0
    if not zero.any():
        grad, hess = loss(x, y, weight=w, reduction="sum", return_hessian=True, return_loss=False, **kw)
        return grad, hess
    grad, hess = loss(x, np.where(zero, y.dtype.type(1), y), weight=w, reduction="sum",
                         return_hessian=True, return_loss=False, **kw)
    grad[zero] = 1.0 if w is None else np.broadcast_to(w, x.shape)[zero]
    hess[zero] = 0.0
    return grad, hess


def _xgb_tweedie(name: str, x: _Array, label: Any, w: Optional[_Array], p: Mapping[str, Any]) -> _GradHess:
    y = _labels(label, x, False)
    _check_labels(_LIB_X, name, y, lambda y: (y >= 0).all(), "non-negative")
    rho = p["tweedie_variance_power"]
    if rho == 2.0:   # the gamma form; XGBoost allows y = 0 there too
        return _gamma_like(x, y, w, cyloss.half_tweedie_loss, power=rho)
    grad, hess = cyloss.half_tweedie_loss(x, y, power=rho, weight=w, reduction="sum",
                                          return_hessian=True, return_loss=False)
    return grad, hess


def _xgb_absolute(name: str, x: _Array, label: Any, w: Optional[_Array], p: Mapping[str, Any]) -> _GradHess:
    y = _labels(label, x, False)
    _, grad = cyloss.l1_loss(x, y, weight=w, reduction="sum", return_grad=True)
    return grad, _ones_or(x, w)


def _x_spw(v: Any) -> float:
    return _number(_LIB_X, "scale_pos_weight", v, lambda v: v >= 0, ">= 0")


def _x_num_class(v: Any) -> Optional[int]:
    return _num_class(_LIB_X, "num_class", v)


_Fn = Callable[[str, _Array, Any, Optional[_Array], Mapping[str, Any]], _GradHess]
# name -> (function, {parameter: (default, check)}, per-row labels)
_Spec = Tuple[_Fn, Dict[str, Tuple[Any, Callable[[Any], Any]]], bool]

_XGB_SPECS: Dict[str, _Spec] = {
    "multi:softprob": (_xgb_softmax, {"num_class": (None, _x_num_class)}, True),
    "multi:softmax": (_xgb_softmax, {"num_class": (None, _x_num_class)}, True),
    "binary:logistic": (_xgb_logistic, {"scale_pos_weight": (1.0, _x_spw)}, False),
    "reg:logistic": (_xgb_logistic, {"scale_pos_weight": (1.0, _x_spw)}, False),
    "binary:logitraw": (_xgb_logistic, {"scale_pos_weight": (1.0, _x_spw)}, False),
    "reg:squarederror": (_xgb_squared, {"scale_pos_weight": (1.0, _x_spw)}, False),
    "reg:pseudohubererror": (_xgb_pseudohuber, {"huber_slope": (
        1.0, lambda v: _number(_LIB_X, "huber_slope", v, lambda v: v != 0, "non-zero"))}, False),
    "count:poisson": (_xgb_poisson, {"max_delta_step": (
        0.7, lambda v: _number(_LIB_X, "max_delta_step", v, lambda v: v >= 0, ">= 0"))}, False),
    "reg:gamma": (_xgb_gamma, {"scale_pos_weight": (1.0, _x_spw)}, False),
    "reg:tweedie": (_xgb_tweedie, {"tweedie_variance_power": (
        1.5, lambda v: _number(_LIB_X, "tweedie_variance_power", v, lambda v: 1 <= v <= 2, "in [1, 2]"))}, False),
    "reg:absoluteerror": (_xgb_absolute, {}, False),
}


# ------------------------------------------------------------------------- LightGBM

_LIB_L = "lightgbm"


def _lgb_multiclass(name: str, x: _Array, label: Any, w: Optional[_Array], p: Mapping[str, Any]) -> _GradHess:
    x = _matrix(_LIB_L, name, x, p["num_class"])
    n, k = x.shape
    t = _class_targets(_LIB_L, name, _labels(label, x, True), k, exact=False)
    grad, hess = cyloss.cross_entropy(x, t, reduction="sum", return_hessian=True, return_loss=False)
    factor = k / (k - 1.0)  # LightGBM rescales the redundant K-class form (Friedman)
    if w is None:
        return _f32(grad, x), _f32(hess, x, factor)
    w64 = w.astype(_F64)
    return _f32(grad, x, w64), _f32(hess, x, w64 * factor)


def _lgb_binary(name: str, x: _Array, label: Any, w: Optional[_Array], p: Mapping[str, Any]) -> _GradHess:
    y = _labels(label, x, False)
    pos = y > 0                                  # LightGBM's is_pos: label > 0
    n_pos = int(np.count_nonzero(pos))
    if n_pos == 0 or n_pos == pos.size:
        # "Contains only one class": LightGBM does not boost (gradients left at zero).
        return np.zeros(x.shape, _F32), np.zeros(x.shape, _F32)
    lw0, lw1 = 1.0, 1.0
    if p["is_unbalance"]:
        n_neg = pos.size - n_pos
        if n_pos > n_neg:
            lw0 = n_pos / n_neg
        else:
            lw1 = n_neg / n_pos
    lw1 *= p["scale_pos_weight"]
    target = pos.astype(x.dtype)
    weff: Any = None
    if lw0 != 1.0 or lw1 != 1.0:
        weff = np.where(pos, lw1, lw0)
        if w is not None:
            weff *= w
    elif w is not None:
        weff = w
    s = p["sigmoid"]
    if s == 1.0:
        grad, hess = cyloss.binary_cross_entropy_with_logits(x, target, weight=weff, reduction="sum",
                                                                return_hessian=True, return_loss=False)
        return _f32(grad, x), _f32(hess, x)
    # d/dm of the loss at s*m: s * grad, s^2 * hess; s is folded into the weight
    sw = s if weff is None else s * np.asarray(weff, _F64)
    grad, hess = cyloss.binary_cross_entropy_with_logits(x * s, target, weight=sw, reduction="sum",
                                                            return_hessian=True, return_loss=False)
    return _f32(grad, x), _f32(hess, x, s)


def _lgb_l2(name: str, x: _Array, label: Any, w: Optional[_Array], p: Mapping[str, Any]) -> _GradHess:
    y = _labels(label, x, False)
    if p["reg_sqrt"]:
        y = np.sign(y) * np.sqrt(np.abs(y))      # in the label's dtype, as LightGBM's float labels
    # LightGBM: float(score - label) [* float weight]; NumPy's one pass gives exactly that.
    grad = np.empty(x.shape, _F32)
    np.subtract(x, y, out=grad, casting="same_kind")
    if w is None:
        return grad, np.ones(x.shape, _F32)
    np.multiply(grad, w, out=grad, casting="same_kind")
    return grad, _f32(np.broadcast_to(w, x.shape), x)


def _lgb_l1(name: str, x: _Array, label: Any, w: Optional[_Array], p: Mapping[str, Any]) -> _GradHess:
    y = _labels(label, x, False)
    _, grad = cyloss.l1_loss(x, y, weight=w, reduction="sum", return_grad=True)
    return _f32(grad, x), (np.ones(x.shape, _F32) if w is None else _f32(np.broadcast_to(w, x.shape), x))


def _lgb_huber(name: str, x: _Array, label: Any, w: Optional[_Array], p: Mapping[str, Any]) -> _GradHess:
    # LightGBM's Huber Hessian is the constant 1 (times the weight), also beyond alpha.
    y = _labels(label, x, False)
    _, grad = cyloss.huber_loss(x, y, delta=p["alpha"], weight=w, reduction="sum", return_grad=True)
    return _f32(grad, x), (np.ones(x.shape, _F32) if w is None else _f32(np.broadcast_to(w, x.shape), x))


def _lgb_check_counts(name: str, y: _Array) -> None:
    # RegressionPoissonLoss::Init (also gamma's and tweedie's)
    if y.size:
        if float(np.min(y)) < 0:
            raise ValueError(f"lightgbm {name}: at least one target label is negative")
        if float(np.sum(y, dtype=_F64)) == 0:
            raise ValueError(f"lightgbm {name}: sum of labels is zero")


def _lgb_poisson(name: str, x: _Array, label: Any, w: Optional[_Array], p: Mapping[str, Any]) -> _GradHess:
    y = _labels(label, x, False)
    _lgb_check_counts(name, y)
    grad, hess = cyloss.half_poisson_loss(x, y, weight=w, reduction="sum",
                                          return_hessian=True, return_loss=False)
    return _f32(grad, x), _f32(hess, x, math.exp(p["poisson_max_delta_step"]))


def _lgb_gamma(name: str, x: _Array, label: Any, w: Optional[_Array], p: Mapping[str, Any]) -> _GradHess:
    y = _labels(label, x, False)
    _lgb_check_counts(name, y)             # LightGBM's gamma accepts y = 0 (gradient 1, Hessian 0)
    grad, hess = _gamma_like(x, y, w, cyloss.half_gamma_loss)
    return _f32(grad, x), _f32(hess, x)


def _lgb_tweedie(name: str, x: _Array, label: Any, w: Optional[_Array], p: Mapping[str, Any]) -> _GradHess:
    y = _labels(label, x, False)
    _lgb_check_counts(name, y)
    grad, hess = cyloss.half_tweedie_loss(x, y, power=p["tweedie_variance_power"], weight=w,
                                             reduction="sum", return_hessian=True, return_loss=False)
    return _f32(grad, x), _f32(hess, x)


def _lgb_quantile(name: str, x: _Array, label: Any, w: Optional[_Array], p: Mapping[str, Any]) -> _GradHess:
    # LightGBM: 1 - alpha where score - label >= 0 (ties included), else -alpha, in float32
    # (its alpha_ is a float); the pinball kernel puts the tie on the other side, and NumPy's
    # one comparison pass is the whole work.
    y = _labels(label, x, False)
    a = np.float32(p["alpha"])
    grad = np.where(np.greater_equal(x, y), np.float32(1.0) - a, -a)
    if w is None:
        return grad, np.ones(x.shape, _F32)
    np.multiply(grad, w, out=grad, casting="same_kind")
    return grad, _f32(np.broadcast_to(w, x.shape), x)


def _l_alpha(v: Any) -> float:
    return _number(_LIB_L, "alpha", v, lambda v: v > 0, "> 0")


def _l_num_class(v: Any) -> Optional[int]:
    return _num_class(_LIB_L, "num_class", v)


_LGB_SPECS: Dict[str, _Spec] = {
    "multiclass": (_lgb_multiclass, {"num_class": (None, _l_num_class)}, True),
    "binary": (_lgb_binary, {
        "sigmoid": (1.0, lambda v: _number(_LIB_L, "sigmoid", v, lambda v: v > 0, "> 0")),
        "is_unbalance": (False, lambda v: _flag(_LIB_L, "is_unbalance", v)),
        "scale_pos_weight": (1.0, lambda v: _number(_LIB_L, "scale_pos_weight", v, lambda v: v > 0, "> 0"))},
        False),
    "regression": (_lgb_l2, {"reg_sqrt": (False, lambda v: _flag(_LIB_L, "reg_sqrt", v))}, False),
    "regression_l1": (_lgb_l1, {}, False),
    "huber": (_lgb_huber, {"alpha": (0.9, _l_alpha)}, False),
    "poisson": (_lgb_poisson, {"poisson_max_delta_step": (
        0.7, lambda v: _number(_LIB_L, "poisson_max_delta_step", v, lambda v: v > 0, "> 0"))}, False),
    "gamma": (_lgb_gamma, {}, False),
    "tweedie": (_lgb_tweedie, {"tweedie_variance_power": (
        1.5, lambda v: _number(_LIB_L, "tweedie_variance_power", v, lambda v: 1 <= v < 2, "in [1, 2)"))}, False),
    "quantile": (_lgb_quantile, {"alpha": (
        0.9, lambda v: _number(_LIB_L, "alpha", v, lambda v: 0 < v < 1, "in (0, 1)"))}, False),
}

# LightGBM's ParseObjectiveAlias (include/LightGBM/config.h) and parameter aliases (config_auto.cpp)
_LGB_ALIASES = {
    "regression_l2": "regression", "mean_squared_error": "regression", "mse": "regression", "l2": "regression",
    "l2_root": "regression", "root_mean_squared_error": "regression", "rmse": "regression",
    "mean_absolute_error": "regression_l1", "l1": "regression_l1", "mae": "regression_l1",
    "softmax": "multiclass",
}
_LGB_PARAM_ALIASES = {"num_classes": "num_class", "unbalance": "is_unbalance", "unbalanced_sets": "is_unbalance"}


# ------------------------------------------------------------------------- objects

class _Objective:
    _library = ""
    _factory = ""
    _specs: Dict[str, _Spec] = {}
    _aliases: Dict[str, str] = {}
    _param_aliases: Dict[str, str] = {}

    def __init__(self, name: str, params: Mapping[str, Any]) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{self._factory}: the objective name must be a string, got {name!r}")
        key = self._aliases.get(name, name)
        if key not in self._specs:
            known = ", ".join(sorted(self._specs) + sorted(self._aliases))
            raise ValueError(f"{self._factory}: unknown objective {name!r} (supported: {known})")
        fn, defaults, _ = self._specs[key]
        resolved: Dict[str, Any] = {}
        for given, value in params.items():
            pname = self._param_aliases.get(given, given)
            if pname not in defaults:
                accepted = ", ".join(defaults) or "none"
                raise TypeError(f"{self._factory}({name!r}) got an unexpected parameter {given!r} "
                                f"(parameters of {key!r}: {accepted})")
            if pname in resolved:
                raise TypeError(f"{self._factory}({name!r}): {pname!r} given twice (through an alias)")
            resolved[pname] = defaults[pname][1](value)
        for pname, (default, _check) in defaults.items():
            resolved.setdefault(pname, default)
        if key == "binary" and resolved["is_unbalance"] and resolved["scale_pos_weight"] != 1.0:
            raise ValueError(f"{self._factory}('binary'): cannot set is_unbalance and scale_pos_weight "
                             "at the same time (as LightGBM)")
        self._name = key
        self._fn = fn
        self._params = resolved

    @property
    def name(self) -> str:
        """The objective's name in the library (aliases resolved)."""
        return self._name

    @property
    def params(self) -> Dict[str, Any]:
        """The objective's parameters, defaults included."""
        return dict(self._params)

    @property
    def booster_params(self) -> Dict[str, Any]:
        """Booster parameters the built-in objective sets besides its gradients, to pass along
        with a custom objective: XGBoost's count:poisson also gives its max_delta_step to the
        tree booster (which clamps every leaf value to it) unless the user sets it
        (``learner.cc``, ConfigureObjective); otherwise empty."""
        if self._library == _LIB_X and self._name == "count:poisson":
            return {"max_delta_step": self._params["max_delta_step"]}
        return {}

    def grad_hess(self, preds: ArrayLike, label: ArrayLike, weight: Optional[ArrayLike] = None) -> _GradHess:
        """(grad, hess) of the loss at the raw predictions `preds` for `label`, each sample's
        terms times its `weight` (None or an empty array: unweighted).  See the module's
        documentation for the formulas, dtypes and layouts."""
        x = _preds(preds)
        return self._fn(self._name, x, label, _weights(weight, x), self._params)

    def __repr__(self) -> str:
        args = "".join(f", {k}={v!r}" for k, v in self._params.items())
        return f"{self._factory}({self._name!r}{args})"


class XGBoostObjective(_Objective):
    """An XGBoost custom objective (from ``xgboost_objective``): ``obj(predt, dtrain)`` for
    ``xgboost.train(..., obj=obj)``, or ``obj(y_true, y_pred, sample_weight=None)`` for the
    scikit-learn estimators' ``objective=``; both return ``(grad, hess)``."""

    _library = _LIB_X
    _factory = "xgboost_objective"
    _specs = _XGB_SPECS

    def __call__(self, predt: Any, dtrain: Any, sample_weight: Optional[ArrayLike] = None) -> _GradHess:
        if hasattr(dtrain, "get_label") and hasattr(dtrain, "get_weight"):   # xgboost.train
            if sample_weight is not None:
                raise TypeError("xgboost objective: sample_weight goes with (y_true, y_pred), not a DMatrix")
            return self.grad_hess(predt, dtrain.get_label(), dtrain.get_weight())
        return self.grad_hess(dtrain, predt, sample_weight)                  # (y_true, y_pred)


class LightGBMObjective(_Objective):
    """A LightGBM custom objective (from ``lightgbm_objective``): ``obj(preds, train_data)`` as
    ``lightgbm.train`` calls its ``objective`` parameter, or ``obj(y_true, y_pred, weight)`` as
    ``LGBMModel(objective=obj)`` calls it; both return ``(grad, hess)``."""

    _library = _LIB_L
    _factory = "lightgbm_objective"
    _specs = _LGB_SPECS
    _aliases = _LGB_ALIASES
    _param_aliases = _LGB_PARAM_ALIASES

    def __call__(self, preds: Any, train_data: Any, weight: Optional[ArrayLike] = None) -> _GradHess:
        if hasattr(train_data, "get_label") and hasattr(train_data, "get_weight"):   # lightgbm.train
            if weight is not None:
                raise TypeError("lightgbm objective: weight goes with (y_true, y_pred), not a Dataset")
            return self.grad_hess(preds, train_data.get_label(), train_data.get_weight())
        return self.grad_hess(train_data, preds, weight)                            # (y_true, y_pred, weight)


def xgboost_objective(name: str, **params: Any) -> XGBoostObjective:
    """An XGBoost custom objective reproducing the built-in objective `name`.

    `name`: "multi:softprob", "multi:softmax", "binary:logistic", "reg:logistic",
    "binary:logitraw", "reg:squarederror", "reg:pseudohubererror" (huber_slope),
    "count:poisson" (max_delta_step, default 0.7), "reg:gamma", "reg:tweedie"
    (tweedie_variance_power), "reg:absoluteerror"; scale_pos_weight for the squared-error,
    logistic and gamma objectives; num_class (optional check) for multiclass.  Parameters
    take XGBoost's names, defaults and ranges; an unknown name is a ValueError, an unknown
    parameter a TypeError.

    Use: ``xgboost.train(params, dtrain, rounds, obj=obj)`` or
    ``xgboost.XGBClassifier(objective=obj)``.  See the module's documentation for what it
    returns.
    """
    return XGBoostObjective(name, params)


def lightgbm_objective(name: str, **params: Any) -> LightGBMObjective:
    """A LightGBM custom objective reproducing the built-in objective `name`.

    `name`: "multiclass", "binary" (sigmoid, is_unbalance, scale_pos_weight), "regression"
    (reg_sqrt), "regression_l1", "huber" (alpha), "poisson" (poisson_max_delta_step,
    default 0.7), "gamma", "tweedie" (tweedie_variance_power), "quantile" (alpha), or one of
    LightGBM's aliases of these; num_class (optional check) for multiclass.  Parameters take
    LightGBM's names (and aliases), defaults and ranges; an unknown name is a ValueError, an
    unknown parameter a TypeError.

    Use: ``lightgbm.train({"objective": obj, ...}, train_set, rounds)`` or
    ``lightgbm.LGBMRegressor(objective=obj)``.  See the module's documentation for what it
    returns.
    """
    return LightGBMObjective(name, params)
