"""Suite-wide settings: one torch thread (on 2 shared cores, more threads only contend)."""

import pytest


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    import torch

    torch.set_num_threads(1)
