"""Fixtures shared by several test modules."""

import pytest
import torch


@pytest.fixture
def torch_one_thread():
    """Tiny models gain nothing from intra-op threads, and on a shared CPU extra threads
    spin against other processes; one thread keeps these tests fast everywhere."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
