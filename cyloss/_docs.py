"""Shared docstring fragments and the decorator that fills them in (as scipy._lib.doccer).

A public function's docstring names a fragment with a ``%(name)s`` field on a line of its own,
at the docstring's indentation (four spaces); `fill` substitutes the fields once, when the
function is defined, and returns the same function object with only ``__doc__`` changed (no
wrapper).  Each fragment is text that is identical in at least two docstrings: its first line
carries no indentation (the field supplies it), its further lines are indented as they appear in
the docstrings.  Per-function wording stays in the docstrings themselves.

Docstrings that use fields must contain no other ``%``: `fill` refuses one.
"""
import re

__all__ = ["FRAGMENTS", "fill"]

FRAGMENTS = {
    # Parameters; used by softmax, softmin
    "axis_softmax": """\
axis : int, optional
        The axis along which the probabilities sum to 1; default -1 (the last axis).""",
    # Parameters; used by 17 functions
    "grad_out": """\
grad_out : numpy.ndarray, optional
        With return_grad=True (or return_hessian=True): an array of the gradient's shape and dtype
        that receives the gradient and is returned as it (written by the kernel directly when it is
        C-contiguous, aligned, of the compute dtype and shares no memory with the inputs, else
        through a temporary).  Default None.""",
    # Parameters; used by 19 functions
    "hess_out": """\
hess_out : numpy.ndarray, optional
        With return_hessian=True: an array of the Hessian's shape and dtype that receives it and is
        returned as it; it must not overlap grad_out.  Default None.""",
    # Parameters; used by cross_entropy, nll_loss
    "ignore_index": """\
ignore_index : int, optional
        Keyword only. Integer targets equal to it contribute nothing (no loss, zero
        gradient) and are left out of the "mean"; default -100.""",
    # Parameters; used by soft_margin_loss, hinge_embedding_loss
    "input": """\
input : array_like
        Scores x: a real numeric (bool, integer or float) array.  Its dtype sets the compute and
        result dtypes (float32 and float64 kept, float16 computed in float32, others in float64).""",
    # Parameters; used by multi_margin_loss, multilabel_margin_loss
    "input_nc": """\
input : array_like
        Scores x of shape (N, C), or (C,) for one sample: a real numeric (bool, integer or float)
        array.  Its dtype sets the compute and result dtypes (float32 and float64 kept, float16
        computed in float32, others in float64).""",
    # Parameters; used by softmax, log_softmax
    "out_softmax": """\
out : numpy.ndarray, optional
        Keyword only. An array of x's shape and the result dtype that receives the
        result (it may be x itself: in place); default None (a new array).""",
    # Parameters; used by half_tweedie_loss, half_tweedie_loss_identity
    "power_tweedie": """\
power : float, optional
        The Tweedie power p (default 1.5); any finite number.""",
    # Parameters; used by mse_loss, l1_loss, huber_loss, smooth_l1_loss, log_cosh_loss, pseudo_huber_loss
    "pred": """\
pred : array_like
        Predictions: a real numeric (bool, integer or float) array.  Its dtype sets the compute and
        result dtypes (float32 and float64 kept, float16 computed in float32, others in float64).""",
    # Parameters; used by 6 functions
    "raw_prediction": """\
raw_prediction : array_like
        Raw predictions r (before the inverse link): a real numeric (bool, integer or float) array.
        Its dtype sets the compute and result dtypes (float32 and float64 kept, float16 computed in
        float32, others in float64).""",
    # Parameters; used by binary_cross_entropy_with_logits, binary_cross_entropy
    "reduction_binary": """\
reduction : {"mean", "sum", "none"}, optional
        Keyword only. "mean" averages over all elements, "sum" adds them, "none" returns
        the elementwise losses; default "mean".""",
    # Parameters; used by soft_margin_loss, hinge_embedding_loss, poisson_nll_loss
    "reduction_input": """\
reduction : {'mean', 'sum', 'none'}, optional
        How the losses are reduced (default 'mean'): 'mean' averages the elementwise losses over the
        broadcast shape; 'sum' their sum; 'none' no reduction, the losses in the broadcast shape of
        `input` and `target`.""",
    # Parameters; used by cross_entropy, nll_loss
    "reduction_kw": """\
reduction : {"mean", "sum", "none"}, optional
        Keyword only. How the per-sample losses are combined; default "mean".""",
    # Parameters; used by multi_margin_loss, multilabel_margin_loss
    "reduction_nc": """\
reduction : {'mean', 'sum', 'none'}, optional
        How the losses are reduced (default 'mean'): 'mean' divides the sum of the sample losses by
        N; 'sum' their sum; 'none' no reduction, the (N,) sample losses (a scalar for (C,) input).""",
    # Parameters; used by mse_loss, l1_loss, log_cosh_loss, pseudo_huber_loss
    "reduction_pred": """\
reduction : {'mean', 'sum', 'none'}, optional
        How the losses are reduced (default 'mean'): 'mean' averages the elementwise losses
        (sum(w * l) / sum(w) with a weight); 'sum' their sum; 'none' no reduction, the losses in the
        broadcast shape of `pred` and `target`.""",
    # Parameters; used by huber_loss, smooth_l1_loss
    "reduction_pred_size": """\
reduction : {'mean', 'sum', 'none'}, optional
        How the losses are reduced (default 'mean'): 'mean' averages the elementwise losses
        (sum(w * l) / size, also with a weight); 'sum' their sum; 'none' no reduction, the losses in
        the broadcast shape of `pred` and `target`.""",
    # Parameters; used by 6 functions
    "reduction_raw": """\
reduction : {'mean', 'sum', 'none'}, optional
        How the losses are reduced (default 'mean'): 'mean' is sum(w * l) / sum(w) (the plain mean
        without a weight); 'sum' their sum; 'none' no reduction, the losses in the broadcast shape
        of `raw_prediction` and `y`.""",
    # Parameters; used by soft_margin_loss, hinge_embedding_loss, multi_margin_loss, multilabel_margin_loss, poisson_nll_loss
    "return_grad_input": """\
return_grad : bool, optional
        Also return the gradient with respect to `input` (default False).""",
    # Parameters; used by cross_entropy, nll_loss
    "return_grad_kw": """\
return_grad : bool, optional
        Keyword only. Also return the gradient; default False.""",
    # Parameters; used by margin_ranking_loss, gaussian_nll_loss, cosine_embedding_loss, triplet_margin_loss
    "return_grad_pair": """\
return_grad : bool, optional
        Also return the gradients (default False).""",
    # Parameters; used by mse_loss, l1_loss, huber_loss, smooth_l1_loss, log_cosh_loss, pseudo_huber_loss
    "return_grad_pred": """\
return_grad : bool, optional
        Also return the gradient with respect to `pred` (default False).""",
    # Parameters; used by 6 functions
    "return_grad_raw": """\
return_grad : bool, optional
        Also return the gradient with respect to `raw_prediction` (default False).""",
    # Parameters; used by 6 functions
    "return_hessian_input": """\
return_hessian : bool, optional
        Also return the diagonal of the Hessian with respect to `input` (default False); this
        computes the gradient too.""",
    # Parameters; used by cross_entropy, nll_loss
    "return_hessian_kw": """\
return_hessian : bool, optional
        Keyword only. Also return the diagonal of the Hessian (implies the gradient);
        default False.""",
    # Parameters; used by mse_loss, l1_loss, huber_loss, smooth_l1_loss, log_cosh_loss, pseudo_huber_loss
    "return_hessian_pred": """\
return_hessian : bool, optional
        Also return the diagonal of the Hessian with respect to `pred` (default False); this
        computes the gradient too.""",
    # Parameters; used by 6 functions
    "return_hessian_raw": """\
return_hessian : bool, optional
        Also return the diagonal of the Hessian with respect to `raw_prediction` (default False);
        this computes the gradient too.""",
    # Parameters; used by 19 functions
    "return_loss": """\
return_loss : bool, optional
        Include the loss in the result (default True).  False returns only the gradient (and
        Hessian) and lets the kernel skip the loss where it can; it needs return_grad=True or
        return_hessian=True.""",
    # Parameters; used by 7 functions
    "return_loss_kw": """\
return_loss : bool, optional
        Keyword only. Return the loss; False leaves it out of the result (it then needs
        return_grad=True or return_hessian=True); default True.""",
    # Parameters; used by cosine_embedding_loss, triplet_margin_loss, ctc_loss
    "return_loss_nohess": """\
return_loss : bool, optional
        Include the loss in the result (default True).  False returns only the gradient and lets the
        kernel skip the loss where it can; it needs return_grad=True.""",
    # Parameters; used by soft_margin_loss, hinge_embedding_loss
    "target_input": """\
target : array_like
        Labels y, broadcast against `input` (torch's arithmetic broadcasting); torch expects +1 and
        -1, any value is used as given.""",
    # Parameters; used by mse_loss, l1_loss, huber_loss, smooth_l1_loss, log_cosh_loss, pseudo_huber_loss
    "target_pred": """\
target : array_like
        Targets, broadcast against `pred`.""",
    # Parameters; used by softmax, log_softmax
    "temperature_softmax": """\
temperature : float, optional
        Keyword only. A finite number > 0 that divides x; default 1.0.""",
    # Parameters; used by cross_entropy, nll_loss
    "weight_kw": """\
weight : array_like, optional
        Keyword only. Real per-class weights, a 1-D array of length C (the number of
        classes); default None (all 1).""",
    # Parameters; used by mse_loss, l1_loss, huber_loss, smooth_l1_loss, log_cosh_loss, pseudo_huber_loss
    "weight_pred": """\
weight : array_like, optional
        Weights broadcast to the loss's shape (the broadcast shape of `pred` and `target`); None
        (default) weighs every element 1.""",
    # Parameters; used by 6 functions
    "weight_raw": """\
weight : array_like, optional
        Sample weights broadcast to the loss's shape (the broadcast shape of `raw_prediction` and
        `y`); None (default) weighs every element 1.""",
    # Parameters; used by softmax, log_softmax, softmin
    "x_softmax": """\
x : array_like
        Real input (bool, integer or float; a 0-d input is one row of length 1).""",
    # Parameters; used by half_tweedie_loss, half_tweedie_loss_identity
    "y_tweedie": """\
y : array_like
        Targets, broadcast against `raw_prediction`; its domain depends on `power`.""",
    # Returns; used by soft_margin_loss, hinge_embedding_loss, poisson_nll_loss
    "returns_grad_input": """\
grad : numpy.ndarray
        With return_grad=True: d(loss)/d(input), of `input`'s shape (summed over the dimensions
        `input` is broadcast along) and the result dtype; for 'none' the gradient of loss.sum().
        grad_out when given.  The result is (loss, grad), or grad alone with return_loss=False.""",
    # Returns; used by multi_margin_loss, multilabel_margin_loss
    "returns_grad_nc": """\
grad : numpy.ndarray
        With return_grad=True: d(loss)/d(input), of `input`'s shape and the result dtype; for 'none'
        the gradient of loss.sum().  grad_out when given.  The result is (loss, grad), or grad alone
        with return_loss=False.""",
    # Returns; used by mse_loss, l1_loss, huber_loss, smooth_l1_loss, log_cosh_loss, pseudo_huber_loss
    "returns_grad_pred": """\
grad : numpy.ndarray
        With return_grad=True: d(loss)/d(pred), of `pred`'s shape (summed over the dimensions `pred`
        is broadcast along) and the result dtype; for 'none' the gradient of loss.sum().  grad_out
        when given.  The result is (loss, grad), or grad alone with return_loss=False.""",
    # Returns; used by 6 functions
    "returns_grad_raw": """\
grad : numpy.ndarray
        With return_grad=True: d(loss)/d(raw_prediction), of `raw_prediction`'s shape (summed over
        the dimensions `raw_prediction` is broadcast along) and the result dtype; for 'none' the
        gradient of loss.sum().  grad_out when given.  The result is (loss, grad), or grad alone
        with return_loss=False.""",
    # Returns; used by margin_ranking_loss, cosine_embedding_loss
    "returns_grads": """\
grads : tuple of numpy.ndarray
        With return_grad=True: (d(loss)/d(input1), d(loss)/d(input2)), each of its input's shape
        (summed over the dimensions that input is broadcast along) and the result dtype; for 'none'
        the gradients of loss.sum().  The grad_out entries when given.  The result is (loss, grads),
        or grads alone with return_loss=False.""",
    # Returns; used by soft_margin_loss, hinge_embedding_loss, poisson_nll_loss
    "returns_hess_input": """\
hess : numpy.ndarray
        With return_hessian=True: the diagonal of the Hessian in `input`, scaled as the gradient is
        (1 / size for 'mean', summed over broadcast dimensions alike), of grad's shape and dtype;
        hess_out when given.  The result is then (loss, grad, hess) whatever return_grad is, or
        (grad, hess) with return_loss=False.""",
    # Returns; used by multi_margin_loss, multilabel_margin_loss
    "returns_hess_nc": """\
hess : numpy.ndarray
        With return_hessian=True: the diagonal of the Hessian in `input`, scaled as the gradient is
        (1 / N for 'mean'), of grad's shape and dtype; hess_out when given.  The result is then
        (loss, grad, hess) whatever return_grad is, or (grad, hess) with return_loss=False.""",
    # Returns; used by mse_loss, l1_loss, huber_loss, smooth_l1_loss, log_cosh_loss, pseudo_huber_loss
    "returns_hess_pred": """\
hess : numpy.ndarray
        With return_hessian=True: the diagonal of the Hessian in `pred`, scaled as the gradient is
        (1 / size for 'mean', summed over broadcast dimensions alike), of grad's shape and dtype;
        hess_out when given.  The result is then (loss, grad, hess) whatever return_grad is, or
        (grad, hess) with return_loss=False.""",
    # Returns; used by 6 functions
    "returns_hess_raw": """\
hess : numpy.ndarray
        With return_hessian=True: the diagonal of the Hessian in `raw_prediction`, scaled as the
        gradient is (w * h / sum(w) for 'mean', summed over broadcast dimensions alike), of grad's
        shape and dtype; hess_out when given.  The result is then (loss, grad, hess) whatever
        return_grad is, or (grad, hess) with return_loss=False.""",
    # Returns; used by soft_margin_loss, hinge_embedding_loss, poisson_nll_loss
    "returns_loss_input": """\
loss : numpy.floating or numpy.ndarray
        The loss: a NumPy scalar for 'mean' and 'sum'; for 'none' an array of the broadcast shape of
        `input` and `target` (a NumPy scalar when that shape is ()).  In the result dtype: input's
        dtype for float32 and float64, float16 for float16 (computed in float32), float64 for
        integer, bool and other inputs.  Returned alone by default.""",
    # Returns; used by multi_margin_loss, multilabel_margin_loss
    "returns_loss_nc": """\
loss : numpy.floating or numpy.ndarray
        The loss: a NumPy scalar for 'mean' and 'sum'; for 'none' an array of shape (N,) (a NumPy
        scalar when that shape is ()).  In the result dtype: input's dtype for float32 and float64,
        float16 for float16 (computed in float32), float64 for integer, bool and other inputs.
        Returned alone by default.""",
    # Returns; used by mse_loss, l1_loss, huber_loss, smooth_l1_loss, log_cosh_loss, pseudo_huber_loss
    "returns_loss_pred": """\
loss : numpy.floating or numpy.ndarray
        The loss: a NumPy scalar for 'mean' and 'sum'; for 'none' an array of the broadcast shape of
        `pred` and `target` (a NumPy scalar when that shape is ()).  In the result dtype: pred's
        dtype for float32 and float64, float16 for float16 (computed in float32), float64 for
        integer, bool and other inputs.  Returned alone by default.""",
    # Returns; used by 6 functions
    "returns_loss_raw": """\
loss : numpy.floating or numpy.ndarray
        The loss: a NumPy scalar for 'mean' and 'sum'; for 'none' an array of the broadcast shape of
        `raw_prediction` and `y` (a NumPy scalar when that shape is ()).  In the result dtype:
        raw_prediction's dtype for float32 and float64, float16 for float16 (computed in float32),
        float64 for integer, bool and other inputs.  Returned alone by default.""",
    # Returns paragraph; used by 7 functions
    "returns_no_loss": """\
With return_loss=False the loss is left out: ``grad`` alone, or ``(grad, hess)`` with
    return_hessian=True.""",
    # Raises; used by softmax, log_softmax, softmin
    "raises_axis": """\
numpy.exceptions.AxisError
        If axis is out of range for x (a subclass of ValueError and IndexError).""",
    # Raises; used by cross_entropy, nll_loss
    "raises_index": """\
IndexError
        If an integer target is neither a class index in [0, C) nor ignore_index.""",
    # Raises; used by 7 functions
    "raises_type": """\
TypeError
        If an array argument is not a real numeric (bool, integer or float) array (e.g. complex,
        string or object dtype) or is a masked array; if reduction is not a string; if a flag
        (return_grad, return_hessian, return_loss) is not a bool (``numpy.bool_``, 0 and 1 are
        accepted); if grad_out or hess_out is not a numpy.ndarray or its dtype is not the result
        dtype.""",
    # Raises; used by huber_loss, pseudo_huber_loss
    "raises_type_delta": """\
TypeError
        If an array argument is not a real numeric (bool, integer or float) array (e.g. complex,
        string or object dtype) or is a masked array; if reduction is not a string; if a flag
        (return_grad, return_hessian, return_loss) is not a bool (``numpy.bool_``, 0 and 1 are
        accepted); if delta is not a real number (a bool, a string, None, a complex number or an
        array with elements); if grad_out or hess_out is not a numpy.ndarray or its dtype is not the
        result dtype.""",
    # Raises; used by half_tweedie_loss, half_tweedie_loss_identity
    "raises_type_power": """\
TypeError
        If an array argument is not a real numeric (bool, integer or float) array (e.g. complex,
        string or object dtype) or is a masked array; if reduction is not a string; if a flag
        (return_grad, return_hessian, return_loss) is not a bool (``numpy.bool_``, 0 and 1 are
        accepted); if power is not a real number (a bool, a string, None, a complex number or an
        array with elements); if grad_out or hess_out is not a numpy.ndarray or its dtype is not the
        result dtype.""",
    # Raises; used by softmax, log_softmax, softmin
    "raises_type_softmax": """\
TypeError
        If x is not a real numeric array (complex, string, object dtype, a masked array), axis
        is not an integer, temperature is not a real number, or `out` is not a numpy.ndarray
        or has the wrong dtype.""",
    # Raises; used by huber_loss, pseudo_huber_loss
    "raises_value_delta": """\
ValueError
        If an argument cannot be converted to an array; if pred, target and weight do not broadcast
        (weight to the loss's shape); if delta is not > 0; if reduction is not one of 'mean', 'sum'
        and 'none'; if delta is NaN or infinite; if return_loss=False is passed without
        return_grad=True or return_hessian=True; if grad_out is given without return_grad=True (or
        return_hessian=True), hess_out without return_hessian=True, or an output array has the wrong
        shape or is read-only; if hess_out overlaps grad_out.""",
    # Raises; used by half_tweedie_loss, half_tweedie_loss_identity
    "raises_value_power": """\
ValueError
        If an argument cannot be converted to an array; if raw_prediction, y and weight do not
        broadcast (weight to the loss's shape); if y is outside the loss's domain, y >= 0 for
        0 < p < 2, y > 0 for p >= 2, any y for p <= 0 (the message names the first offending
        position); if reduction is not one of 'mean', 'sum' and 'none'; if power is NaN or infinite;
        if return_loss=False is passed without return_grad=True or return_hessian=True; if grad_out
        is given without return_grad=True (or return_hessian=True), hess_out without
        return_hessian=True, or an output array has the wrong shape or is read-only; if hess_out
        overlaps grad_out.""",
    # Raises; used by mse_loss, l1_loss, log_cosh_loss
    "raises_value_pred": """\
ValueError
        If an argument cannot be converted to an array; if pred, target and weight do not broadcast
        (weight to the loss's shape); if reduction is not one of 'mean', 'sum' and 'none'; if
        return_loss=False is passed without return_grad=True or return_hessian=True; if grad_out is
        given without return_grad=True (or return_hessian=True), hess_out without
        return_hessian=True, or an output array has the wrong shape or is read-only; if hess_out
        overlaps grad_out.""",
    # Raises; used by softmax, log_softmax, softmin
    "raises_value_softmax": """\
ValueError
        If temperature is not finite, not > 0, or so small that 1/temperature overflows
        float64 (<= 2**-1024), or `out` has the wrong shape or is read-only.""",
    # Notes paragraph; used by mse_loss, l1_loss, log_cosh_loss, pseudo_huber_loss
    "notes_weights_pred": """\
With weights, each elementwise loss, gradient and Hessian is multiplied by w.  'mean' divides the
    sum of the (weighted) losses by sum(w), and the gradient and Hessian by the same; without a weight
    it divides by the number of elements.  'sum' and 'none' do not scale.  A 'mean' over no elements (or
    with sum(w) = 0) is NaN, with a zero gradient.""",
    # Notes paragraph; used by 6 functions
    "notes_weights_raw": """\
With weights, each elementwise loss, gradient and Hessian is multiplied by w; 'mean' divides them by
    sum(w) (sklearn's ``__call__`` with sample_weight), by the number of elements without a weight; a
    'mean' over no elements (or with sum(w) = 0) is NaN.  NaN is data and propagates.""",
    # Notes paragraph; used by huber_loss, smooth_l1_loss
    "notes_weights_size": """\
With weights, each elementwise loss, gradient and Hessian is multiplied by w.  'mean' divides the
    sum of the (weighted) losses, the gradient and the Hessian by the number of elements, with or
    without a weight.  'sum' and 'none' do not scale.  A 'mean' over no elements is NaN, with a zero
    gradient.""",
}

_FIELD = re.compile(r"%\((\w+)\)s")


def fill(func):
    """Substitute the ``%(name)s`` fields of ``func.__doc__`` from FRAGMENTS, in place.

    Returns `func` itself.  A ``%`` that is not part of a field, or a field naming no fragment,
    raises ValueError (at import time).  Without a docstring (python -OO) it does nothing.
    """
    doc = func.__doc__
    if doc is None:
        return func
    stray = _FIELD.sub("", doc)
    if "%" in stray:
        raise ValueError(f"{func.__qualname__}: a '%' in the docstring outside a %(name)s field")
    unknown = sorted(set(_FIELD.findall(doc)) - FRAGMENTS.keys())
    if unknown:
        raise ValueError(f"{func.__qualname__}: unknown docstring fields {unknown}")
    func.__doc__ = doc % FRAGMENTS
    return func
