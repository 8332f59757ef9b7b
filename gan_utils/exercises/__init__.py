"""Checkers for the code exercises: run a learner's function on hidden cases, give a verdict.

Convention used in every chapter:

1. the exercise cell holds a stub that raises
   ``NotImplementedError("Exercise <label>: ...")``;
2. the next cell calls the chapter's checker, e.g. ``check_optimal_discriminator(fn)``
   from ``gan_utils.exercises.<chapter>``; it prints one verdict and returns a
   :class:`Verdict` (truthy when every case passed);
3. the collapsed solution (``solution-start`` … ``solution-end``) defines the reference
   function and runs the same checker, which must pass.

A stub that was not attempted yet is reported as such and does not stop the notebook,
so the notebooks run from top to bottom in CI with the stubs left blank.  Chapter
modules define their hidden cases and hints; this module holds the machinery.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np


@dataclass(frozen=True)
class Case:
    """One hidden test case: call ``fn(*args, **kwargs)`` and compare with ``expected``.

    ``hint`` is shown when this case fails: say what a typical mistake produces.
    """

    args: tuple
    expected: Any
    hint: str = ""
    kwargs: dict | None = None
    name: str = ""


@dataclass(frozen=True)
class Verdict:
    """The outcome of a check: ``status`` is ``"pass"``, ``"fail"`` or ``"not attempted"``."""

    exercise: str
    status: str
    message: str

    def __bool__(self) -> bool:
        return self.status == "pass"

    def __str__(self) -> str:
        return self.message


def _as_array(value: Any) -> np.ndarray:
    """Bring NumPy, PyTorch or TensorFlow values to NumPy without importing a framework."""
    if hasattr(value, "detach"):  # torch.Tensor
        value = value.detach().cpu().numpy()
    elif hasattr(value, "numpy") and not isinstance(value, np.ndarray):  # tf.Tensor
        value = value.numpy()
    return np.asarray(value, dtype=float)


def check_function(
    exercise: str,
    fn: Callable,
    cases: Sequence[Case],
    *,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    verbose: bool = True,
) -> Verdict:
    """Run ``fn`` on every case and return (and print) a verdict.

    Numbers and arrays are compared with ``np.allclose(rtol, atol)`` after checking the
    shape; the first failing case is reported with expected vs got and its hint.
    """
    if not callable(fn):
        raise TypeError(f"{exercise}: expected a function to check, got {type(fn).__name__}.")
    if not cases:
        raise ValueError(f"{exercise}: no cases to check.")

    def finish(status: str, message: str) -> Verdict:
        verdict = Verdict(exercise, status, message)
        if verbose:
            print(message)
        return verdict

    for index, case in enumerate(cases, start=1):
        label = f"case {index}/{len(cases)}" + (f" ({case.name})" if case.name else "")
        try:
            got = fn(*case.args, **(case.kwargs or {}))
        except NotImplementedError:
            return finish(
                "not attempted",
                f"[not attempted] {exercise}: the function still raises NotImplementedError; "
                "fill in the stub and run this cell again.",
            )
        except Exception as error:  # a learner's bug: report it, do not crash the notebook
            return finish("fail", f"[fail] {exercise}, {label}: raised {type(error).__name__}: {error}. {case.hint}".strip())
        expected = _as_array(case.expected)
        try:
            got_array = _as_array(got)
        except (TypeError, ValueError):
            return finish("fail", f"[fail] {exercise}, {label}: returned {type(got).__name__}, expected numbers.")
        if got_array.shape != expected.shape:
            return finish(
                "fail",
                f"[fail] {exercise}, {label}: result has shape {got_array.shape}, expected {expected.shape}. {case.hint}".strip(),
            )
        if not np.allclose(got_array, expected, rtol=rtol, atol=atol, equal_nan=False):
            worst = int(np.argmax(np.abs(got_array - expected))) if expected.size > 1 else 0
            shown_expected = expected.reshape(-1)[worst]
            shown_got = got_array.reshape(-1)[worst]
            where = f" at index {worst}" if expected.size > 1 else ""
            return finish(
                "fail",
                f"[fail] {exercise}, {label}: expected {shown_expected:.6g}, got {shown_got:.6g}{where}. {case.hint}".strip(),
            )
    return finish("pass", f"[pass] {exercise}: all {len(cases)} hidden cases pass.")
