"""Chapter 6's exercise checkers accept the reference solutions and reject the classic mistakes;
the notebook's stubs are reported as not attempted and its solutions pass."""

from __future__ import annotations

import ast

import nbformat
import numpy as np
import pytest
import scipy.linalg
from scipy.special import rel_entr

from gan_utils import REPO_ROOT
from gan_utils.exercises.evaluation import (
    check_frechet_distance,
    check_inception_score,
    check_mmd2_unbiased,
    frechet_distance_cases,
    inception_score_cases,
    mmd2_unbiased_cases,
)

NOTEBOOK = REPO_ROOT / "chapters" / "06_evaluation.ipynb"


def frechet(mu1, s1, mu2, s2):
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * scipy.linalg.sqrtm(s1 @ s2).real))


def mmd2(x, y, unbiased=True):
    d, m = x.shape[1], len(x)
    k = lambda a, b: (a @ b.T / d + 1) ** 3  # noqa: E731
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    if unbiased:
        return (kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1)) - 2 * kxy.mean()
    return kxx.mean() + kyy.mean() - 2 * kxy.mean()


def score(probs):
    return float(np.exp(rel_entr(probs, probs.mean(axis=0, keepdims=True)).sum(axis=1).mean()))


def test_reference_solutions_pass():
    assert check_frechet_distance(frechet, verbose=False)
    assert check_mmd2_unbiased(mmd2, verbose=False)
    assert check_inception_score(score, verbose=False)


def test_stubs_are_not_attempted():
    def stub(*args):
        raise NotImplementedError("Exercise 6.x")

    for checker in (check_frechet_distance, check_mmd2_unbiased, check_inception_score):
        assert checker(stub, verbose=False).status == "not attempted"


@pytest.mark.parametrize(
    "wrong, fragment",
    [
        (lambda m1, s1, m2, s2: float(np.sum((m1 - m2) ** 2) + np.trace(s1 + s2 - scipy.linalg.sqrtm(s1 @ s2).real)),
         "1-D Gaussians"),                                              # factor 2 forgotten
        (lambda m1, s1, m2, s2: float(np.sum((m1 - m2) ** 2) + np.trace(s1 + s2 - 2 * np.sqrt(np.abs(s1 * s2)))),
         "equal means"),                                                # element-wise square root
        (lambda m1, s1, m2, s2: float(np.sqrt(np.sum((m1 - m2) ** 2)) + np.trace(s1 + s2 - 2 * scipy.linalg.sqrtm(s1 @ s2).real)),
         "squared"),                                                    # norm instead of squared norm
    ],
)
def test_frechet_checker_rejects_mistakes(wrong, fragment):
    verdict = check_frechet_distance(wrong, verbose=False)
    assert verdict.status == "fail" and fragment in verdict.message


def test_mmd_checker_rejects_the_biased_estimate_and_a_wrong_kernel():
    biased = check_mmd2_unbiased(lambda x, y: mmd2(x, y, unbiased=False), verbose=False)
    assert biased.status == "fail" and "diagonal" in biased.message

    def squared_kernel(x, y):
        d, m = x.shape[1], len(x)
        k = lambda a, b: (a @ b.T / d + 1) ** 2  # noqa: E731
        kxx, kyy = k(x, x), k(y, y)
        return (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1)) - 2 * k(x, y).mean()

    assert check_mmd2_unbiased(squared_kernel, verbose=False).status == "fail"


def test_inception_checker_rejects_mistakes():
    no_exp = lambda p: float(rel_entr(p, p.mean(0, keepdims=True)).sum(1).mean())  # noqa: E731
    verdict = check_inception_score(no_exp, verbose=False)
    assert verdict.status == "fail" and "forget the exp" in verdict.message
    reversed_kl = lambda p: float(np.exp(rel_entr(p.mean(0, keepdims=True), p).sum(1).mean()))  # noqa: E731
    assert check_inception_score(reversed_kl, verbose=False).status == "fail"
    with np.errstate(divide="ignore", invalid="ignore"):
        naive_log = lambda p: float(np.exp((p * np.log(p / p.mean(0, keepdims=True))).sum(1).mean()))  # noqa: E731
        verdict = check_inception_score(naive_log, verbose=False)
    assert verdict.status == "fail" and "rel_entr" in verdict.message


def test_hidden_cases_are_what_the_hints_say():
    one_d = frechet_distance_cases()[0]
    assert one_d.expected == pytest.approx(3.25)  # (1 - (-0.5))² + (2 - 1)²
    scores = [case.expected for case in inception_score_cases()]
    assert scores[1] == pytest.approx(1.0) and scores[2] == pytest.approx(4.0)
    for case in mmd2_unbiased_cases():  # the unbiased estimate is below the biased one (no self-similarities)
        assert case.expected < mmd2(*case.args, unbiased=False)
    assert mmd2_unbiased_cases()[1].expected > 0.1  # a shifted distribution is clearly apart


def test_notebook_stubs_and_solutions():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    namespace = {"np": np, "scipy": scipy, "rel_entr": rel_entr}
    for name, checker in (("my_frechet_distance", check_frechet_distance), ("my_mmd2_unbiased", check_mmd2_unbiased),
                          ("my_inception_score", check_inception_score)):
        found = [c for c in cells
                 if any(isinstance(n, ast.FunctionDef) and n.name == name for n in ast.parse(c.source).body)]
        assert len(found) == 2, f"{name}: expected a stub and a solution, found {len(found)}"
        stub, solution = found
        ns = dict(namespace)
        exec(compile(stub.source, "<stub>", "exec"), ns)
        with pytest.raises(NotImplementedError, match="Exercise 6"):
            ns[name](*([np.zeros(1), np.eye(1)] * 2 if name == "my_frechet_distance" else
                       [np.zeros((2, 2))] * (2 if name == "my_mmd2_unbiased" else 1)))
        assert checker(ns[name], verbose=False).status == "not attempted"
        definition = solution.source.split(f"\n\n\ncheck_")[0]
        ns = dict(namespace)
        exec(compile(definition, "<solution>", "exec"), ns)
        assert checker(ns[name], verbose=False), f"{name}: the notebook's solution fails its checker"
