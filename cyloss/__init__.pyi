"""Type stubs of cyloss's public API."""
from types import TracebackType
from typing import Any, Literal, Optional, Sequence, Tuple, Type, Union, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

__version__: str

_Float = np.floating[Any]
_Array = NDArray[np.floating[Any]]
# A loss: a NumPy scalar for "mean"/"sum" (and 0-d "none"), else an array.
_Loss = Union[_Float, _Array]
_Reduction = Literal["none", "mean", "sum"]
_Axis = Union[int, Sequence[int], None]
# Losses: grad_out (an array of the gradient's shape and dtype, written and returned as the
# gradient) goes with return_grad=True only.
# cyloss.boosting (XGBoost / LightGBM objectives) is a submodule that `import cyloss` does not
# import (`import cyloss.boosting`); it is typed inline, in cyloss/boosting.py.

def softmax(x: ArrayLike, axis: int = ..., *, temperature: float = ...,
            out: Optional[_Array] = ...) -> _Array: ...
def log_softmax(x: ArrayLike, axis: int = ..., *, temperature: float = ...,
                out: Optional[_Array] = ...) -> _Array: ...
def softmax_backward(y: ArrayLike, grad: ArrayLike, axis: int = ..., *,
                     out: Optional[_Array] = ...) -> _Array: ...
def log_softmax_backward(log_y: ArrayLike, grad: ArrayLike, axis: int = ..., *,
                         out: Optional[_Array] = ...) -> _Array: ...

@overload
def logsumexp(x: ArrayLike, axis: _Axis = ..., *, b: Optional[ArrayLike] = ..., keepdims: bool = ...,
              return_sign: Literal[False] = ...) -> _Loss: ...
@overload
def logsumexp(x: ArrayLike, axis: _Axis = ..., *, b: Optional[ArrayLike] = ..., keepdims: bool = ...,
              return_sign: Literal[True]) -> Tuple[_Loss, _Loss]: ...
@overload
def logsumexp(x: ArrayLike, axis: _Axis = ..., *, b: Optional[ArrayLike] = ..., keepdims: bool = ...,
              return_sign: bool) -> Union[_Loss, Tuple[_Loss, _Loss]]: ...

@overload
def cross_entropy(logits: ArrayLike, target: ArrayLike, *, axis: int = ..., weight: Optional[ArrayLike] = ...,
                  ignore_index: int = ..., reduction: _Reduction = ..., label_smoothing: float = ...,
                  return_grad: Literal[False] = ..., grad_out: None = ...) -> _Loss: ...
@overload
def cross_entropy(logits: ArrayLike, target: ArrayLike, *, axis: int = ..., weight: Optional[ArrayLike] = ...,
                  ignore_index: int = ..., reduction: _Reduction = ..., label_smoothing: float = ...,
                  return_grad: Literal[True], grad_out: Optional[_Array] = ...) -> Tuple[_Loss, _Array]: ...
@overload
def cross_entropy(logits: ArrayLike, target: ArrayLike, *, axis: int = ..., weight: Optional[ArrayLike] = ...,
                  ignore_index: int = ..., reduction: _Reduction = ..., label_smoothing: float = ...,
                  return_grad: bool, grad_out: Optional[_Array] = ...) -> Union[_Loss, Tuple[_Loss, _Array]]: ...

@overload
def nll_loss(log_probs: ArrayLike, target: ArrayLike, *, axis: int = ..., weight: Optional[ArrayLike] = ...,
             ignore_index: int = ..., reduction: _Reduction = ...,
             return_grad: Literal[False] = ..., grad_out: None = ...) -> _Loss: ...
@overload
def nll_loss(log_probs: ArrayLike, target: ArrayLike, *, axis: int = ..., weight: Optional[ArrayLike] = ...,
             ignore_index: int = ..., reduction: _Reduction = ...,
             return_grad: Literal[True], grad_out: Optional[_Array] = ...) -> Tuple[_Loss, _Array]: ...
@overload
def nll_loss(log_probs: ArrayLike, target: ArrayLike, *, axis: int = ..., weight: Optional[ArrayLike] = ...,
             ignore_index: int = ..., reduction: _Reduction = ...,
             return_grad: bool, grad_out: Optional[_Array] = ...) -> Union[_Loss, Tuple[_Loss, _Array]]: ...

@overload
def binary_cross_entropy_with_logits(logits: ArrayLike, target: ArrayLike, *, weight: Optional[ArrayLike] = ...,
                                     pos_weight: Optional[ArrayLike] = ..., reduction: _Reduction = ...,
                                     return_grad: Literal[False] = ..., grad_out: None = ...) -> _Loss: ...
@overload
def binary_cross_entropy_with_logits(logits: ArrayLike, target: ArrayLike, *, weight: Optional[ArrayLike] = ...,
                                     pos_weight: Optional[ArrayLike] = ..., reduction: _Reduction = ...,
                                     return_grad: Literal[True],
                                     grad_out: Optional[_Array] = ...) -> Tuple[_Loss, _Array]: ...
@overload
def binary_cross_entropy_with_logits(logits: ArrayLike, target: ArrayLike, *, weight: Optional[ArrayLike] = ...,
                                     pos_weight: Optional[ArrayLike] = ..., reduction: _Reduction = ...,
                                     return_grad: bool,
                                     grad_out: Optional[_Array] = ...) -> Union[_Loss, Tuple[_Loss, _Array]]: ...

@overload
def binary_cross_entropy(probs: ArrayLike, target: ArrayLike, *, weight: Optional[ArrayLike] = ...,
                         reduction: _Reduction = ..., return_grad: Literal[False] = ...,
                         grad_out: None = ...) -> _Loss: ...
@overload
def binary_cross_entropy(probs: ArrayLike, target: ArrayLike, *, weight: Optional[ArrayLike] = ...,
                         reduction: _Reduction = ..., return_grad: Literal[True],
                         grad_out: Optional[_Array] = ...) -> Tuple[_Loss, _Array]: ...
@overload
def binary_cross_entropy(probs: ArrayLike, target: ArrayLike, *, weight: Optional[ArrayLike] = ...,
                         reduction: _Reduction = ..., return_grad: bool,
                         grad_out: Optional[_Array] = ...) -> Union[_Loss, Tuple[_Loss, _Array]]: ...

@overload
def kl_div(log_q: ArrayLike, target: ArrayLike, *, reduction: Literal["none", "mean", "sum", "batchmean"] = ...,
           log_target: bool = ..., return_grad: Literal[False] = ..., grad_out: None = ...) -> _Loss: ...
@overload
def kl_div(log_q: ArrayLike, target: ArrayLike, *, reduction: Literal["none", "mean", "sum", "batchmean"] = ...,
           log_target: bool = ..., return_grad: Literal[True],
           grad_out: Optional[_Array] = ...) -> Tuple[_Loss, _Array]: ...
@overload
def kl_div(log_q: ArrayLike, target: ArrayLike, *, reduction: Literal["none", "mean", "sum", "batchmean"] = ...,
           log_target: bool = ..., return_grad: bool,
           grad_out: Optional[_Array] = ...) -> Union[_Loss, Tuple[_Loss, _Array]]: ...

def entropy(p: ArrayLike, axis: int = ...) -> _Loss: ...

@overload
def mse_loss(pred: ArrayLike, target: ArrayLike, *, weight: Optional[ArrayLike] = ..., reduction: _Reduction = ...,
             return_grad: Literal[False] = ..., grad_out: None = ...) -> _Loss: ...
@overload
def mse_loss(pred: ArrayLike, target: ArrayLike, *, weight: Optional[ArrayLike] = ..., reduction: _Reduction = ...,
             return_grad: Literal[True], grad_out: Optional[_Array] = ...) -> Tuple[_Loss, _Array]: ...
@overload
def mse_loss(pred: ArrayLike, target: ArrayLike, *, weight: Optional[ArrayLike] = ..., reduction: _Reduction = ...,
             return_grad: bool, grad_out: Optional[_Array] = ...) -> Union[_Loss, Tuple[_Loss, _Array]]: ...

@overload
def l1_loss(pred: ArrayLike, target: ArrayLike, *, weight: Optional[ArrayLike] = ..., reduction: _Reduction = ...,
            return_grad: Literal[False] = ..., grad_out: None = ...) -> _Loss: ...
@overload
def l1_loss(pred: ArrayLike, target: ArrayLike, *, weight: Optional[ArrayLike] = ..., reduction: _Reduction = ...,
            return_grad: Literal[True], grad_out: Optional[_Array] = ...) -> Tuple[_Loss, _Array]: ...
@overload
def l1_loss(pred: ArrayLike, target: ArrayLike, *, weight: Optional[ArrayLike] = ..., reduction: _Reduction = ...,
            return_grad: bool, grad_out: Optional[_Array] = ...) -> Union[_Loss, Tuple[_Loss, _Array]]: ...

@overload
def huber_loss(pred: ArrayLike, target: ArrayLike, *, delta: float = ..., weight: Optional[ArrayLike] = ...,
               reduction: _Reduction = ..., return_grad: Literal[False] = ..., grad_out: None = ...) -> _Loss: ...
@overload
def huber_loss(pred: ArrayLike, target: ArrayLike, *, delta: float = ..., weight: Optional[ArrayLike] = ...,
               reduction: _Reduction = ..., return_grad: Literal[True],
               grad_out: Optional[_Array] = ...) -> Tuple[_Loss, _Array]: ...
@overload
def huber_loss(pred: ArrayLike, target: ArrayLike, *, delta: float = ..., weight: Optional[ArrayLike] = ...,
               reduction: _Reduction = ..., return_grad: bool,
               grad_out: Optional[_Array] = ...) -> Union[_Loss, Tuple[_Loss, _Array]]: ...

@overload
def smooth_l1_loss(pred: ArrayLike, target: ArrayLike, *, beta: float = ..., weight: Optional[ArrayLike] = ...,
                   reduction: _Reduction = ..., return_grad: Literal[False] = ..., grad_out: None = ...) -> _Loss: ...
@overload
def smooth_l1_loss(pred: ArrayLike, target: ArrayLike, *, beta: float = ..., weight: Optional[ArrayLike] = ...,
                   reduction: _Reduction = ..., return_grad: Literal[True],
                   grad_out: Optional[_Array] = ...) -> Tuple[_Loss, _Array]: ...
@overload
def smooth_l1_loss(pred: ArrayLike, target: ArrayLike, *, beta: float = ..., weight: Optional[ArrayLike] = ...,
                   reduction: _Reduction = ..., return_grad: bool,
                   grad_out: Optional[_Array] = ...) -> Union[_Loss, Tuple[_Loss, _Array]]: ...

def set_num_threads(n: int) -> None: ...
def get_num_threads() -> int: ...

class num_threads:
    def __init__(self, n: int) -> None: ...
    def __enter__(self) -> "num_threads": ...
    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> bool: ...

def show_config() -> None: ...
def get_include() -> str: ...
