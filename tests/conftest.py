"""Fixtures shared by the test modules."""

import pytest


@pytest.fixture(scope="module")
def torch_one_thread():
    """PyTorch on one thread for a whole module: tiny tensors run fastest so, and two OpenMP threads on a
    busy 2-core machine run 3-5x slower than one.  Modules ask for it with
    ``pytestmark = pytest.mark.usefixtures("torch_one_thread")``."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
