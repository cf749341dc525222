"""One run on several processes (CPU, gloo): shares of every batch, the same update as one process,
exact metrics, PaCo's gathered queue, gathered features, every method's gradients through DDP.

The multi-process results come from one launch of tests/ddp_scenarios.py on two ranks (module
fixture); the references are the same scenarios in this process, without a process group.
"""
from __future__ import annotations

import pytest
import torch

from data.samplers import SAMPLERS, shard_order
from engine.distributed.world import SOLO, World
from tests import ddp_scenarios

# Two processes at global batch B against one process at B, on a model without BatchNorm, in
# float32: the only differences are the order of summation (each rank's mean over its share, the
# weighted sum of the two, gloo's all-reduce), a few ulps per gradient. Measured after the 18
# steps (weights of 0.01 to 1): at most 4.5e-8 apart for CE, 6.2e-8 for GML, 3.0e-8 for LADE and
# 6.0e-8 for CE with SAM (two passes per step). The bound 1e-6 absolute + 1e-5 relative is 16× the
# largest, and 1/1000 of what a wrong share weight does (shares of 7 and 6 images weighed alike:
# 2.7e-3 apart, measured).
RTOL, ATOL = 1e-5, 1e-6


@pytest.fixture(scope="module")
def ranks(tmp_path_factory) -> list[dict]:
    return ddp_scenarios.launch(tmp_path_factory.mktemp("ddp"))


@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
@pytest.mark.parametrize("world_size, batch_size", [(1, 16), (2, 16), (2, 13), (3, 8), (4, 13), (8, 16)])
def test_the_shares_cover_every_index_once_and_each_step_is_the_one_process_batch(sampler, world_size, batch_size):
    labels = torch.cat([torch.full((n,), c) for c, n in enumerate([40, 20, 10, 5, 2])])
    order = SAMPLERS[sampler](labels, torch.Generator().manual_seed(3))
    shards = [shard_order(order, batch_size, rank, world_size) for rank in range(world_size)]
    assert len({len(shard.sizes) for shard in shards}) == 1  # every rank makes the same number of steps
    assert all(size > 0 for shard in shards for size in shard.sizes)
    steps = [torch.cat([shard.order.split(shard.sizes)[step] for shard in shards])
             for step in range(len(shards[0].sizes))]
    assert torch.equal(torch.cat(steps), order)  # every position of the order exactly once, in order
    single = shard_order(order, batch_size)
    if world_size == 1 or len(labels) % batch_size >= world_size:
        assert [len(step) for step in steps] == single.sizes  # the steps are one process's batches
    for step in range(len(steps)):
        assert sum(shard.weights[step] for shard in shards) == pytest.approx(world_size)


def test_a_last_batch_smaller_than_the_ranks_joins_the_one_before():
    order = torch.arange(17)  # 2 × 8 + 1
    shards = [shard_order(order, 8, rank, 2) for rank in range(2)]
    assert [shard.sizes for shard in shards] == [[4, 5], [4, 4]]
    assert torch.equal(torch.cat([shards[0].order[4:], shards[1].order[4:]]), torch.arange(8, 17))


def test_contiguous_shares_of_a_split_cover_it_in_rank_order():
    shares = [World(rank, 3).share(10) for rank in range(3)]
    assert [s.tolist() for s in shares] == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]
    assert SOLO.share(4).tolist() == [0, 1, 2, 3]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(ddp_scenarios.SHARED_RUNS))
def test_two_processes_at_global_batch_b_train_as_one_process_at_b(ranks, name):
    one = ddp_scenarios.shared_batch_run(name, SOLO)
    two = [rank["shared"][name] for rank in ranks]
    for name, value in one["state"].items():
        assert torch.equal(two[0]["state"][name], two[1]["state"][name])  # the ranks agree bit for bit
        torch.testing.assert_close(two[0]["state"][name], value, rtol=RTOL, atol=ATOL)
    assert not torch.equal(two[0]["state"]["fc.weight"], ddp_scenarios.BatchNormFree(4).fc.weight)  # it trained
    # the metrics are exact counts over both shares: every training image once per epoch, the whole test split
    for epoch in range(3):
        assert two[0]["train_support"][epoch].tolist() == one["train_support"][epoch].tolist() == [40, 20, 10, 5]
        assert torch.equal(two[0]["test_matrix"][epoch], one["test_matrix"][epoch])
        assert two[0]["train_loss"][epoch] == pytest.approx(one["train_loss"][epoch], rel=1e-5)


@pytest.mark.slow
def test_pacos_queue_holds_both_ranks_keys_in_rank_order(ranks):
    first, second = ranks
    assert first["paco"]["pointer"] == second["paco"]["pointer"] == 8
    expected = torch.cat([first["paco"]["keys"], second["paco"]["keys"]])
    for rank in ranks:
        torch.testing.assert_close(rank["paco"]["queue"][:8], expected)
        assert torch.equal(rank["paco"]["queue_labels"][:8], torch.cat([first["paco"]["labels"],
                                                                         second["paco"]["labels"]]))
    assert torch.equal(first["paco"]["queue"], second["paco"]["queue"])


@pytest.mark.slow
def test_feature_extraction_shares_the_split_and_gathers_it(ranks):
    one = ddp_scenarios.features(SOLO)
    for rank in ranks:
        assert rank["features"]["present"].all() and len(rank["features"]["present"]) == 24
        torch.testing.assert_close(rank["features"]["features"], one["features"], rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_every_methods_gradients_go_through_ddp(ranks):
    """A gradient computed outside DDP would leave each rank's momentum its own share's; PaCo's
    key encoder, moved by each rank alone, stays the same on both."""
    first, second = (rank["contract"] for rank in ranks)
    assert first.keys() == second.keys() and len(first) >= 10 and "paco key encoder" in first
    for name in first:
        assert torch.equal(first[name], second[name]), name
