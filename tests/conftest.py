"""Suite-wide settings: one torch thread (on 2 shared cores, more threads only contend), and a
veclift cache of the session's own, so tests never write into the user's cache."""

import os

import pytest


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Back to one thread after each test: a `veclift train` run in-process takes the free cores."""
    import torch

    torch.set_num_threads(1)
    yield
    torch.set_num_threads(1)


@pytest.fixture(autouse=True, scope="session")
def _own_veclift_home(tmp_path_factory):
    os.environ["VECLIFT_HOME"] = str(tmp_path_factory.mktemp("veclift-home"))


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A tiny random BERT and its WordPiece tokenizer (`tiny_bert`), for the contextual tests."""
    from tiny_bert import save_tiny_bert

    return save_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))
