"""Several devices or machines with plain PyTorch DDP, launched by ``torchrun``.

Nothing here is home-made parallelism: :func:`launch` re-runs the same command under
``python -m torch.distributed.run`` (torchrun) with one process per device, each process
calls :func:`init_distributed` (NCCL on GPUs, gloo on CPUs), and the training loop wraps the
model in :class:`torch.nn.parallel.DistributedDataParallel`, which averages gradients.

    python -m fusionx_lite pretrain --preset lite --devices 2             # one machine
    python -m fusionx_lite pretrain --preset base --devices 4 --num-nodes 2 \\
        --node-rank 0 --master-addr node0.example.org                     # run on each node
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    """Where this process sits among all training processes."""

    rank: int = 0  # global index of this process
    world_size: int = 1  # number of processes over all nodes
    local_rank: int = 0  # index of this process on its node (its GPU number)

    @property
    def is_main(self) -> bool:
        """True on the one process that writes files and prints."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def launched_by_torchrun() -> bool:
    """True inside a process started by torchrun (it sets ``RANK`` and ``WORLD_SIZE``)."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def torchrun_command(
    args: Sequence[str],
    *,
    devices: int,
    num_nodes: int = 1,
    node_rank: int = 0,
    master_addr: str = "127.0.0.1",
    master_port: int = 29500,
) -> list[str]:
    """The torchrun command line that runs ``python -m fusionx_lite *args`` on every device.

    Args:
        args: command-line arguments for ``python -m fusionx_lite``.
        devices: processes per node (one per GPU, or CPU processes).
        num_nodes: machines taking part; each runs this command with its ``node_rank``.
        node_rank: index of this machine, 0 .. num_nodes - 1.
        master_addr: address of node 0 (multi-node only).
        master_port: free TCP port on node 0 (multi-node only).

    Returns:
        The command as a list for :func:`subprocess.run`.

    Raises:
        ValueError: if ``devices`` or ``num_nodes`` is below 1 or ``node_rank`` is out of range.
    """
    check_devices(devices, num_nodes)
    if not 0 <= node_rank < num_nodes:
        raise ValueError(f"node_rank must be in [0, num_nodes={num_nodes}), got {node_rank}")
    cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc-per-node={devices}"]
    if num_nodes == 1:
        cmd.append("--standalone")  # picks a free port by itself
    else:
        cmd += [
            f"--nnodes={num_nodes}",
            f"--node-rank={node_rank}",
            f"--master-addr={master_addr}",
            f"--master-port={master_port}",
        ]
    return [*cmd, "-m", "fusionx_lite", *args]


def launch(args: Sequence[str], **kwargs) -> int:
    """Run :func:`torchrun_command` and wait; returns its exit code."""
    return subprocess.run(torchrun_command(args, **kwargs), check=False).returncode


def check_devices(devices: int, num_nodes: int) -> None:
    """Raise a ``ValueError`` unless ``devices`` and ``num_nodes`` are positive integers."""
    for name, value in (("devices", devices), ("num_nodes", num_nodes)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


def init_distributed(device_type: str) -> DistInfo:
    """Join the process group torchrun set up; a plain single process gets ``DistInfo()``.

    Args:
        device_type: ``"cuda"`` (NCCL backend, one GPU per local rank) or anything else
            (gloo backend on CPU).

    Returns:
        This process's rank, world size and local rank.
    """
    if not launched_by_torchrun() or int(os.environ["WORLD_SIZE"]) == 1:
        return DistInfo()
    info = DistInfo(
        rank=int(os.environ["RANK"]),
        world_size=int(os.environ["WORLD_SIZE"]),
        local_rank=int(os.environ.get("LOCAL_RANK", 0)),
    )
    if not dist.is_initialized():
        if device_type == "cuda":
            torch.cuda.set_device(info.local_rank)
        dist.init_process_group(backend="nccl" if device_type == "cuda" else "gloo")
    return info


def all_gather_strings(value: str, info: DistInfo) -> list[str]:
    """Every rank's ``value``, in rank order (just ``[value]`` without a process group)."""
    if not info.distributed:
        return [value]
    gathered: list[str | None] = [None] * info.world_size
    dist.all_gather_object(gathered, value)
    return [str(v) for v in gathered]


def all_reduce_mean(value: float, info: DistInfo, device: torch.device) -> float:
    """Mean of ``value`` over ranks (for logging the loss of a distributed step)."""
    if not info.distributed:
        return value
    t = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.item() / info.world_size


def barrier(info: DistInfo) -> None:
    """Wait for every rank (no-op for a single process)."""
    if info.distributed:
        dist.barrier()


def shutdown(info: DistInfo) -> None:
    """Leave the process group at the end of a run."""
    if info.distributed and dist.is_initialized():
        dist.destroy_process_group()
