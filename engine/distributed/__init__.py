"""One run on several processes (GPUs, or CPU processes with gloo): data parallel training.

- ``world``: which process this is (rank, world size, device), joining the process group that
  torchrun's environment describes, the SIGTERM handler, per-rank seeds.
- ``collectives``: sums, gathers and broadcasts that are the identity with one process.
- ``replicated``: the model under DistributedDataParallel for a training step; SyncBatchNorm.
- ``launch``: ``main.py train --nproc N`` — torchrun on this machine, rank 0's events relayed
  back to the caller (the CLI, the app, a local sweep cell), one line when a rank fails.
- ``ray_train``: a Ray sweep cell's processes as Ray Train's ``TorchTrainer`` workers, on any
  nodes of the cluster; the same events, result and one line (needs ``ray[train]``).

The loop (``engine.loop``) shards every epoch's order (``data.samplers.shard_order``), reduces
the metrics as exact counts and lets rank 0 alone write the run folder. docs/distributed.md
describes the whole and how to run it on one GPU, several, several machines and a Ray cluster.
This package imports nothing at this level, so ``engine.distributed.collectives`` stays light
and the CLI reads the two commands below without importing torch.
"""

AGENT_COMMAND = "torchrun"  # main.py torchrun …: torchrun's command line, passed on as it is
RANK_COMMAND = "train-rank"  # main.py train-rank …: one rank of a run that train --nproc N started
