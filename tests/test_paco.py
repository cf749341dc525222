"""PaCo: the loss against hand arithmetic, the momentum encoder, the queue, official files, views."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from PIL import Image

from data.augment import AUGMENTATIONS
from errors import UserError
from engine.batch import Batch
from engine.checkpoints import load_checkpoint
from cli import main
from engine.config import DataConfig, MethodConfig, ModelConfig, OptimConfig, RunConfig
from engine.events import Progress
from engine.methods.paco import PaCo, paco_loss
from engine.prediction import load_for_prediction
from engine.trainer import train
from models import ModelSpec, create_model, recognise
from tests.test_trainer import tiny_dataset

SPEC = ModelSpec("momentum_contrast", "resnet20", 4, "linear", {"proj_dim": 8, "queue_size": 5})


def tiny_model(queue_size: int = 5) -> torch.nn.Module:
    torch.manual_seed(0)
    return create_model(SPEC.with_options(queue_size=queue_size))


# ------------------------------------------------------------------------------ the loss
def test_loss_equals_the_formula_written_out():
    """B = 2 anchors, C = 3 classes, 2-d embeddings, a queue of 2: the loss by hand."""
    alpha, beta, gamma, tau, supt = 0.3, 1.5, 0.7, 0.5, 2.0
    z = torch.tensor([[0.2, -0.1, 0.4], [1.0, 0.3, -0.5]])
    counts = torch.tensor([6.0, 3.0, 1.0])
    log_prior = torch.log(counts / counts.sum())
    q = torch.nn.functional.normalize(torch.tensor([[1.0, 0.5], [-0.3, 1.0]]), dim=1)
    k = torch.nn.functional.normalize(torch.tensor([[0.8, 0.7], [-0.5, 0.9]]), dim=1)
    queue = torch.nn.functional.normalize(torch.tensor([[0.1, -1.0], [1.0, 0.2]]), dim=1)
    y = torch.tensor([0, 2])
    queue_y = torch.tensor([2, 0])
    contrast = torch.cat([q, k, queue])
    contrast_y = torch.cat([y, y, queue_y])

    expected = 0.0
    for i in range(2):
        row = [(float(z[i, c]) + float(log_prior[c])) / supt for c in range(3)]
        row += [float(q[i] @ contrast[j]) / tau for j in range(6)]
        weights = [1.0] * 3 + [0.0 if j == i else gamma for j in range(6)]
        positive = [beta if c == int(y[i]) else 0.0 for c in range(3)]
        positive += [alpha if (j != i and int(contrast_y[j]) == int(y[i])) else 0.0 for j in range(6)]
        normaliser = math.log(sum(w * math.exp(v) for w, v in zip(weights, row)))  # the max shift cancels
        expected += -sum(p * (v - normaliser) for p, v in zip(positive, row)) / sum(positive) / 2

    got = paco_loss(z, log_prior, q, contrast, y, contrast_y, alpha=alpha, beta=beta, gamma=gamma,
                    temperature=tau, supt=supt)
    assert float(got) == pytest.approx(expected, rel=1e-5)
    # τ / base_τ scales it
    scaled = paco_loss(z, log_prior, q, contrast, y, contrast_y, alpha=alpha, beta=beta, gamma=gamma,
                       temperature=tau, supt=supt, base_temperature=2 * tau)
    assert float(scaled) == pytest.approx(expected / 2, rel=1e-5)


def test_sizes_must_be_whole_numbers():
    with pytest.raises(UserError, match="queue_size"):
        PaCo(torch.tensor([3, 2]), {"queue_size": 20.5})


def test_official_cifar100_defaults():
    assert {k: PaCo.defaults[k] for k in ("alpha", "beta", "gamma", "temperature", "key_momentum", "queue_size")} == {
        "alpha": 0.01, "beta": 1.0, "gamma": 1.0, "temperature": 0.05, "key_momentum": 0.999, "queue_size": 1024}


# ------------------------------------------------------------------ queue and momentum
def test_queue_is_fifo_with_wrap_around_short_batches_and_oversized_batches():
    model = tiny_model(queue_size=5)
    dim = 8

    def keys(*values):
        return torch.tensor(values, dtype=torch.float32)[:, None].expand(-1, dim).contiguous()

    model.enqueue(keys(1, 2), torch.tensor([1, 2]))       # slots 0, 1
    assert int(model.queue_ptr) == 2
    model.enqueue(keys(3, 4), torch.tensor([3, 0]))       # slots 2, 3
    model.enqueue(keys(5, 6), torch.tensor([1, 2]))       # slot 4, then wraps to slot 0
    assert model.queue[:, 0].tolist() == [6, 2, 3, 4, 5]
    assert model.queue_labels.tolist() == [2, 2, 3, 0, 1]
    assert int(model.queue_ptr) == 1
    model.enqueue(keys(7), torch.tensor([3]))              # a short last batch
    assert model.queue[:, 0].tolist() == [6, 7, 3, 4, 5] and int(model.queue_ptr) == 2
    model.enqueue(keys(*range(10, 17)), torch.arange(7) % 4)  # 7 keys > K = 5: the newest 5 stay
    assert sorted(model.queue[:, 0].tolist()) == [12, 13, 14, 15, 16]
    assert int(model.queue_ptr) == (2 + 5) % 5


def test_the_stages_ema_hook_is_the_momentum_update_and_touches_parameters_only():
    from engine.hooks import EMA

    method = PaCo(torch.tensor([10, 5, 3, 1]), {"key_momentum": 0.9, "queue_size": 5, "projection_dim": 8})
    [stage] = method.stages(RunConfig())
    [hook] = stage.hooks
    assert isinstance(hook, EMA) and (hook.momentum, hook.target, hook.source) == (0.9, "encoder_k", "encoder_q")
    model = tiny_model()
    with torch.no_grad():
        for p in model.encoder_q.parameters():
            p.add_(1.0)
    before_k = [p.clone() for p in model.encoder_k.parameters()]
    query = [p.clone() for p in model.encoder_q.parameters()]
    running_before = model.encoder_k.bn1.running_mean.clone()
    hook.on_stage_start(model, stage)
    hook.after_step(model)
    for k0, q, k1 in zip(before_k, query, model.encoder_k.parameters()):
        torch.testing.assert_close(k1, 0.9 * k0 + 0.1 * q)
        assert not k1.requires_grad
    assert torch.equal(model.encoder_k.bn1.running_mean, running_before)
    hook.after_step(model)  # a second step moves on from the first
    first = next(iter(model.encoder_k.parameters()))
    torch.testing.assert_close(first, 0.9 * (0.9 * before_k[0] + 0.1 * query[0]) + 0.1 * query[0])


def test_state_dict_carries_key_encoder_and_queue():
    model = tiny_model()
    model.enqueue(torch.ones(3, 8), torch.tensor([1, 1, 1]))
    state = model.state_dict()
    assert {"queue", "queue_labels", "queue_ptr", "encoder_k.conv1.weight", "linear.weight"} <= set(state)
    other = create_model(SPEC)
    other.load_state_dict(state)
    assert torch.equal(other.queue, model.queue) and int(other.queue_ptr) == 3


def test_training_step_trains_query_encoder_and_centres_and_fills_the_queue():
    model = tiny_model(queue_size=6).train()
    method = PaCo(torch.tensor([10, 5, 3, 1]), {"queue_size": 6, "projection_dim": 8}, total_epochs=1)
    images = torch.randn(4, 3, 32, 32)
    batch = Batch([images, images.flip(-1)], torch.tensor([0, 1, 2, 0]))
    loss, logits = method.training_step(model, batch, method.stages(RunConfig())[0])
    assert logits.shape == (4, 4) and torch.isfinite(loss)
    loss.backward()
    assert model.linear.weight.grad is not None and model.encoder_q.fc[3].weight.grad is not None
    assert all(p.grad is None for p in model.encoder_k.parameters())
    assert model.queue_labels[:4].tolist() == [0, 1, 2, 0] and int(model.queue_ptr) == 4
    torch.testing.assert_close(model.queue[:4].norm(dim=1), torch.ones(4))


# -------------------------------------------------------------------------- official files
def official_layout(model) -> dict[str, torch.Tensor]:
    """Our state dict in the layout of PaCo's ``moco_ckpt.pth.tar`` ``state_dict`` (DDP-wrapped)."""
    state = {}
    for key, value in model.state_dict().items():
        key = "queue_l" if key == "queue_labels" else key
        state[f"module.{key}"] = value.clone()
    state["module.linear_k.weight"] = model.linear.weight.detach().clone()
    state["module.linear_k.bias"] = model.linear.bias.detach().clone()
    return state


def test_official_key_layout_is_recognised_and_predicts_through_query_encoder_and_centres():
    model = tiny_model().eval()
    stripped = {k.removeprefix("module."): v for k, v in official_layout(model).items()}
    spec, adapted = recognise(stripped)
    assert spec.family == "momentum_contrast" and spec.arch == "resnet20" and spec.num_classes == 4
    assert spec.options["proj_dim"] == 8 and spec.options["queue_size"] == 5
    loaded = create_model(spec)
    loaded.load_state_dict(adapted, strict=True)
    images = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(loaded.eval()(images).logits, model(images).logits)


def test_official_file_without_key_encoder_or_queue_still_loads():
    model = tiny_model().eval()
    stripped = {k.removeprefix("module."): v for k, v in official_layout(model).items()
                if not k.startswith(("module.encoder_k.", "module.queue"))}
    spec, adapted = recognise(stripped)
    create_model(spec).load_state_dict(adapted, strict=True)


# --------------------------------------------------------------------------- the two views
@pytest.mark.parametrize("name", ["paco_query", "paco_key"])
def test_views_keep_shape_and_dtype_draw_per_image_and_follow_the_seed(name):
    image = torch.randint(0, 256, (1, 3, 32, 32), dtype=torch.uint8)
    batch = image.expand(16, -1, -1, -1).contiguous()
    out = AUGMENTATIONS[name](batch, torch.Generator().manual_seed(3))
    assert out.shape == batch.shape and out.dtype == torch.uint8
    distinct = {bytes(img.numpy().tobytes()) for img in out}
    assert len(distinct) >= 12  # each image its own draw (a few may draw "nothing changes")
    again = AUGMENTATIONS[name](batch, torch.Generator().manual_seed(3))
    assert torch.equal(out, again)
    other = AUGMENTATIONS[name](batch, torch.Generator().manual_seed(4))
    assert not torch.equal(out, other)


def test_cutout_zeroes_one_clipped_square_per_image():
    from data.autoaugment import cutout

    images = torch.full((64, 3, 32, 32), 200, dtype=torch.uint8)
    out = cutout(images, torch.Generator().manual_seed(0))
    zeros = (out == 0).all(1).flatten(1).sum(1)
    assert zeros.max() == 256 and zeros.min() >= 64  # 16×16 inside, at least 8×8 at a corner


def test_simclr_colour_jitter_matches_torchvision_for_one_image():
    from torchvision.transforms.v2 import functional as TF

    from data.simclr import colour_jitter

    image = torch.randint(0, 256, (1, 3, 16, 16), dtype=torch.uint8)
    factors = torch.tensor([[1.3, 0.7, 1.2, 0.05]])
    ours = colour_jitter(image.float(), factors, torch.tensor([[2, 0, 3, 1]]))
    theirs = TF.adjust_contrast(TF.adjust_hue(TF.adjust_brightness(TF.adjust_saturation(image, 1.2), 1.3), 0.05), 0.7)
    assert (ours.round() - theirs.float()).abs().mean() < 2.0  # theirs truncates to uint8 after each step


# ------------------------------------------------------------------------- whole runs
def paco_config(tmp_path, epochs: int) -> RunConfig:
    """75 images in batches of 16 (a short last batch of 11) and a queue of 20 (not a multiple of 16)."""
    return RunConfig(data=DataConfig(dataset="demo"), model=ModelConfig(arch="resnet20"),
                     method=MethodConfig(loss="paco", params={"queue_size": 20, "projection_dim": 8}),
                     optim=OptimConfig(epochs=epochs, batch_size=16, lr=0.05, weight_decay=5e-4, warmup_epochs=1),
                     runs_dir=str(tmp_path / "runs"), experiment="paco", device="cpu")


def test_a_stopped_and_resumed_paco_run_equals_the_uninterrupted_one_queue_included(tmp_path):
    dataset = tiny_dataset(size=12)
    whole = train(paco_config(tmp_path, 2), dataset=dataset)
    second_epoch = []

    def note(event) -> None:
        if isinstance(event, Progress) and event.epoch == 2:
            second_epoch.append(event)

    stopped = train(paco_config(tmp_path, 2), on_event=note, dataset=dataset,
                    should_stop=lambda: len(second_epoch) >= 2)
    assert stopped.stopped and stopped.epochs_done == 1
    result = train(None, dataset=dataset, resume=stopped.run_dir)
    assert result.epochs_done == 2

    def history(run) -> list[dict]:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv_rows(run / "metrics.csv")]

    assert len(history(whole.run_dir)) == 2 and history(result.run_dir) == history(whole.run_dir)
    a = load_checkpoint(whole.run_dir / "checkpoints" / "last.pt").state_dict
    b = load_checkpoint(result.run_dir / "checkpoints" / "last.pt").state_dict
    for key in ("queue", "queue_labels", "queue_ptr", "encoder_k.conv1.weight", "encoder_k.fc.3.weight"):
        assert torch.equal(a[key], b[key]), key
    assert int(a["queue_ptr"]) == (2 * 75) % 20  # every key of every batch, short ones included, went in


def test_paco_demo_trains_from_the_cli_and_its_checkpoint_evaluates_predicts_and_tunes(tmp_path, capsys):
    assert main(["train", "--preset", "demo-paco", "--epochs", "1", "--warmup-epochs", "0", "--image-size", "16",
                 "--imbalance", "50",
                 "--runs-dir", str(tmp_path / "a"), "--quiet"]) == 0
    run = next((tmp_path / "a").iterdir())
    checkpoint = run / "checkpoints" / "last.pt"
    saved = load_checkpoint(checkpoint)
    assert saved.meta["method"] == "paco" and saved.meta["model"]["family"] == "momentum_contrast"
    assert saved.meta["model"]["options"]["queue_size"] == 256
    capsys.readouterr()
    assert main(["eval", "--checkpoint", str(checkpoint), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    row = next(r for r in csv_rows(run / "metrics.csv"))
    assert report["top1"] == pytest.approx(float(row["test_top1"]))
    image = tmp_path / "digit.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(image)
    assert main(["predict", str(image), "--checkpoint", str(checkpoint), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)[0]["topk"]) == 5
    assert main(["tune", "--checkpoint", str(checkpoint), "--epochs", "1", "--runs-dir", str(tmp_path / "b"),
                 "--quiet"]) == 0
    tuned = load_checkpoint(next((tmp_path / "b").iterdir()) / "checkpoints" / "best.pt")
    assert tuned.meta["model"]["family"] == "momentum_contrast" and "linear.weight" in tuned.heads["old"]


def csv_rows(path):
    import csv

    return list(csv.DictReader(open(path)))


def test_an_official_paco_file_loads_safely_and_predicts_through_query_encoder_and_centres(tmp_path):
    model = tiny_model().eval()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    path = tmp_path / "moco_ckpt.pth.tar"
    torch.save({"epoch": 400, "arch": "resnet20", "state_dict": official_layout(model),
                "optimizer": optimizer.state_dict()}, path)
    checkpoint = load_checkpoint(path)
    loaded, rule = load_for_prediction(checkpoint)
    images = torch.randn(5, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(rule(loaded, images).values, model(images).logits)
    assert loaded.spec.family == "momentum_contrast"


def test_the_view_preview_draws_the_methods_two_views_of_one_image_per_class(tmp_path):
    from engine.view_preview import preview_views

    preview = preview_views(paco_config(tmp_path, 1), count=3, dataset=tiny_dataset(size=12))
    assert preview.view_names == ["paco_query", "paco_key"]
    assert preview.class_names == ["red", "green", "blue"]  # the largest classes first
    assert all(view.shape == preview.originals.shape == (3, 3, 12, 12) for view in preview.views)
    assert all(view.dtype == torch.uint8 for view in preview.views)


def test_paco_trains_from_the_cli_on_generated_cifar_with_a_queue_that_is_no_multiple_of_the_batch(tmp_path):
    from tests.datagen import write_cifar

    root = write_cifar(tmp_path / "data", "cifar10", train_per_class=12, test_per_class=2)
    assert main(["train", "--preset", "cifar100-paco", "--dataset", "cifar10", "--data-root", str(root),
                 "--imbalance", "4", "--arch", "resnet20", "--epochs", "1", "--warmup-epochs", "0",
                 "--batch-size", "16",
                 "--param", "queue_size=50", "--runs-dir", str(tmp_path / "runs"), "--quiet"]) == 0
    run = next((tmp_path / "runs").iterdir())
    images = sum(json.loads((run / "dataset.json").read_text())["class_counts"])
    state = load_checkpoint(run / "checkpoints" / "last.pt").state_dict
    assert state["queue"].shape == (50, 32) and images % 16  # a short last batch went in too
    assert int(state["queue_ptr"]) == images % 50
