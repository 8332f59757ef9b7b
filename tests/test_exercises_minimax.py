"""The checkers of chapter 2's code exercises (gan_utils.exercises.minimax).

Every reference solution passes (the ones written in the notebook's collapsed solutions too);
plausible wrong solutions are rejected with the hint that describes their mistake; a stub that
still raises NotImplementedError is reported as not attempted.
"""

from __future__ import annotations

import re

import nbformat
import numpy as np
import pytest

from gan_utils import REPO_ROOT
from gan_utils.exercises import Verdict
from gan_utils.exercises.minimax import check_generator_losses, check_optimal_discriminator, check_xy_step

NOTEBOOK = REPO_ROOT / "chapters" / "02_minimax.ipynb"


def sigmoid(a):
    return 1 / (1 + np.exp(-np.asarray(a, dtype=float)))


# --------------------------------------------------------------------------- reference solutions


def d_star(p_data, p_g):
    return np.asarray(p_data, float) / (np.asarray(p_data, float) + np.asarray(p_g, float))


def losses(fake_logits):
    a = np.asarray(fake_logits, dtype=float)
    return np.mean(-np.logaddexp(0, a)), np.mean(np.logaddexp(0, -a))


def xy_step(x, y, lr, mode="simultaneous"):
    if mode == "simultaneous":
        return x - lr * y, y + lr * x
    y = y + lr * x
    return x - lr * y, y


@pytest.mark.parametrize("checker, fn", [
    (check_optimal_discriminator, d_star),
    (check_generator_losses, losses),
    (check_xy_step, xy_step),
])
def test_reference_solutions_pass(checker, fn, capsys):
    verdict = checker(fn)
    assert isinstance(verdict, Verdict) and verdict.status == "pass" and verdict
    assert capsys.readouterr().out.startswith("[pass]")


def _solution_cells(nb, label):
    """Code cells between the markdown cells opening and closing the solution of ``label``."""
    cells, inside = [], False
    for cell in nb.cells:
        if cell.cell_type == "markdown" and re.search(r"\{solution-start\}\s+" + re.escape(label) + r"\b", cell.source):
            inside = True
        elif cell.cell_type == "markdown" and "{solution-end}" in cell.source and inside:
            return cells
        elif inside and cell.cell_type == "code":
            cells.append(cell.source)
    raise AssertionError(f"no complete solution-start/solution-end block for {label} in {NOTEBOOK.name}")


@pytest.mark.parametrize("label, checker_name", [
    ("ex-minimax-dstar", "check_optimal_discriminator"),
    ("ex-minimax-losses", "check_generator_losses"),
    ("ex-minimax-xy-step", "check_xy_step"),
])
def test_the_notebooks_solutions_pass(label, checker_name, capsys):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    sources = _solution_cells(nb, label)
    assert sources and any(checker_name in s for s in sources)
    namespace = {
        "np": np,
        "check_optimal_discriminator": check_optimal_discriminator,
        "check_generator_losses": check_generator_losses,
        "check_xy_step": check_xy_step,
    }
    for source in sources:
        exec(compile(source, f"{NOTEBOOK.name}:{label}", "exec"), namespace)  # asserts the verdict itself
    assert namespace["verdict"].status == "pass"
    assert f"[pass] {label}" in capsys.readouterr().out


@pytest.mark.parametrize("label, checker_name", [
    ("ex-minimax-dstar", "check_optimal_discriminator"),
    ("ex-minimax-losses", "check_generator_losses"),
    ("ex-minimax-xy-step", "check_xy_step"),
])
def test_the_notebooks_stubs_are_not_attempted(label, checker_name):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    stub = next(c.source for c in nb.cells if c.cell_type == "code"
                and f'NotImplementedError("Exercise {label}' in c.source)
    namespace = {"np": np, checker_name: globals()[checker_name]}
    exec(compile(stub, f"{NOTEBOOK.name}:{label}:stub", "exec"), namespace)
    assert namespace["verdict"].status == "not attempted"


# --------------------------------------------------------------------------- wrong solutions


def unattempted(*args, **kwargs):
    raise NotImplementedError("Exercise: not yet")


@pytest.mark.parametrize("checker", [check_optimal_discriminator, check_generator_losses, check_xy_step])
def test_a_stub_is_not_attempted(checker, capsys):
    verdict = checker(unattempted)
    assert verdict.status == "not attempted" and not verdict
    assert "[not attempted]" in capsys.readouterr().out


@pytest.mark.parametrize("checker", [check_optimal_discriminator, check_generator_losses, check_xy_step])
def test_a_non_function_is_a_type_error(checker):
    with pytest.raises(TypeError, match="expected the function you wrote, got ndarray"):
        checker(np.zeros(3))


def _fails_with(checker, fn, *fragments):
    verdict = checker(fn, verbose=False)
    assert verdict.status == "fail" and not verdict, verdict.message
    for fragment in fragments:
        assert fragment in verdict.message, f"{fragment!r} not in {verdict.message!r}"
    return verdict


DSTAR_WRONG = {
    "swapped p_data and p_g": (lambda p, q: d_star(q, p), ["more real than generated", "numerator", "1 - D*"]),
    "divided by p_g only": (lambda p, q: np.asarray(p) / np.asarray(q), ["p_data = p_g", "SUM p_data + p_g"]),
    "a mean over the points": (lambda p, q: np.mean(d_star(p, q)), ["result has shape ()", "one value per point"]),
    "a smoothing constant": (lambda p, q: (np.asarray(p) + 0.01) / (np.asarray(p) + np.asarray(q) + 0.01),
                             ["p_data = p_g", "expected 0.5"]),
    "log-odds instead of a probability": (lambda p, q: np.log(np.asarray(p) / np.asarray(q)), ["expected 0.5, got 0"]),
}


@pytest.mark.parametrize("name", list(DSTAR_WRONG))
def test_wrong_optimal_discriminators_get_the_right_hint(name):
    fn, fragments = DSTAR_WRONG[name]
    _fails_with(check_optimal_discriminator, fn, "[fail] ex-minimax-dstar", *fragments)


def naive_losses(fake_logits):
    d = sigmoid(fake_logits)
    return np.mean(np.log(1 - d)), -np.mean(np.log(d))


LOSSES_WRONG = {
    "both signs flipped": (lambda a: tuple(-v for v in losses(a)), ["one logit a = 1", "Signs and order"]),
    "order swapped": (lambda a: losses(a)[::-1], ["one logit a = 1", "Signs and order"]),
    "saturating loss as max log D": (lambda a: (np.mean(np.log(sigmoid(a))), losses(a)[1]), ["Signs and order"]),
    "sum instead of mean": (lambda a: tuple(v * len(np.atleast_1d(a)) for v in losses(a)),
                            ["a batch of 4 logits", "mean, not sum"]),
    "log(sigmoid) overflows": (naive_losses, ["confident discriminator", "got -inf", "np.logaddexp"]),
    "only one loss returned": (lambda a: losses(a)[1], ["result has shape ()", "return (saturating, non-saturating)"]),
}


@pytest.mark.parametrize("name", list(LOSSES_WRONG))
def test_wrong_generator_losses_get_the_right_hint(name):
    fn, fragments = LOSSES_WRONG[name]
    _fails_with(check_generator_losses, fn, "[fail] ex-minimax-losses", *fragments)


def test_naive_losses_fail_quietly(recwarn):
    check_generator_losses(naive_losses, verbose=False)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def xy_x_first(x, y, lr, mode="simultaneous"):
    if mode == "simultaneous":
        return xy_step(x, y, lr, mode)
    x = x - lr * y
    return x, y + lr * x


XY_WRONG = {
    "signs flipped (x ascends, y descends)": (lambda x, y, lr, mode="simultaneous": (x + lr * y, y - lr * x),
                                              ["simultaneous step", "x minimises V"]),
    "partial derivatives mixed up": (lambda x, y, lr, mode="simultaneous": (x - lr * x, y + lr * y),
                                     ["simultaneous step", "dV/dx"]),
    "alternating with x first": (xy_x_first, ["alternating step", "y (the maximiser", "NEW y"]),
    "alternating treated as simultaneous": (lambda x, y, lr, mode="simultaneous": xy_step(x, y, lr, "simultaneous"),
                                            ["alternating step", "steps first"]),
}


@pytest.mark.parametrize("name", list(XY_WRONG))
def test_wrong_xy_steps_get_the_right_hint(name):
    fn, fragments = XY_WRONG[name]
    _fails_with(check_xy_step, fn, "[fail] ex-minimax-xy-step", *fragments)


def test_a_crashing_solution_is_reported_not_raised():
    verdict = check_xy_step(lambda x, y, lr: (x, y), verbose=False)  # forgot the mode argument
    assert verdict.status == "fail" and "raised TypeError" in verdict.message
