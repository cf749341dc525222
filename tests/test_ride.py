"""RIDE: the losses against arithmetic written out here, the multi-expert model and its router,
the rotation augmentation, and the official checkpoint in ../shared.

Expected values use plain Python (``math``, loops), not the modules' helpers.
"""
from __future__ import annotations

import math

import pytest
import torch
from torch.testing import assert_close

from data.rotation import random_rotate, rotate
from engine.methods.ride_losses import (diversity_temperatures, distillation_term, ldam_margins, ride_loss,
                                        router_loss, router_targets)
from models import ModelSpec, create_model, recognise
from models.ride import options_from_state_dict, strip_official_prefix

COUNTS = [50, 20, 5]
# two experts, four samples, three classes (already × s; small so the numbers stay readable)
EXPERT_LOGITS = [
    [[2.0, -1.0, 0.5], [0.3, 1.2, -0.4], [-0.5, 0.1, 1.5], [1.0, 1.0, 0.0]],
    [[1.0, 0.5, -0.5], [-0.2, 0.8, 0.9], [0.4, -1.1, 0.7], [0.2, 1.6, -0.3]],
]
LABELS = [0, 1, 2, 1]
SCALE = 2.0


def softmax(row):
    top = max(row)
    exps = [math.exp(v - top) for v in row]
    return [e / sum(exps) for e in exps]


def kl(p, q):
    return sum(pi * (math.log(pi) - math.log(qi)) for pi, qi in zip(p, q))


def expected_ride(weights, temps, factor, margins):
    experts, n, c = len(EXPERT_LOGITS), len(LABELS), len(COUNTS)
    mean = [[sum(EXPERT_LOGITS[e][i][k] for e in range(experts)) / experts for k in range(c)] for i in range(n)]
    t_bar = sum(temps) / c
    total = 0.0
    for e in range(experts):
        num = den = 0.0
        for i, y in enumerate(LABELS):
            row = [v - (SCALE * margins[k] if k == y else 0.0) for k, v in enumerate(EXPERT_LOGITS[e][i])]
            w = weights[y] if weights else 1.0
            num += w * -math.log(softmax(row)[y])
            den += w
        total += num / den
        div = sum(kl(softmax([mean[i][k] / temps[k] for k in range(c)]),
                     softmax([EXPERT_LOGITS[e][i][k] / temps[k] for k in range(c)])) for i in range(n)) / n
        total += factor * t_bar ** 2 * div
    return total


def test_margins_and_temperatures_follow_the_official_formulas():
    margins = ldam_margins(torch.tensor(COUNTS))
    assert_close(margins, torch.tensor([0.5 * (5 / n) ** 0.25 for n in COUNTS]))
    v = [3 * n / 75 * 0.05 + 0.95 for n in COUNTS]
    assert_close(diversity_temperatures(torch.tensor(COUNTS)), torch.tensor([x / max(v) for x in v]))


@pytest.mark.parametrize("after_reweight", [False, True])
def test_ride_loss_matches_the_formula(after_reweight):
    counts = torch.tensor(COUNTS)
    margins = ldam_margins(counts)
    weights = [0.3, 0.9, 1.8] if after_reweight else None
    temps = diversity_temperatures(counts).tolist() if after_reweight else [1.0] * 3
    got = ride_loss(torch.tensor(EXPERT_LOGITS), torch.tensor(LABELS), margins, SCALE,
                    torch.tensor(weights) if weights else None,
                    torch.tensor(temps) if after_reweight else 1.0, -0.45)
    assert_close(got, torch.tensor(expected_ride(weights, temps, -0.45, margins.tolist())))


def test_ride_diversity_gradient_treats_the_ensemble_as_a_constant():
    logits = torch.tensor(EXPERT_LOGITS, requires_grad=True)
    no_margin = torch.zeros(3)
    ride_loss(logits, torch.tensor(LABELS), no_margin, SCALE, None, 1.0, -0.45).backward()
    # CE gives (q − onehot)/N; λ·KL(p‖q) with p = softmax(z̄) held constant gives λ·(q − p)/N
    n = len(LABELS)
    for e in range(2):
        for i, y in enumerate(LABELS):
            mean = [(EXPERT_LOGITS[0][i][k] + EXPERT_LOGITS[1][i][k]) / 2 for k in range(3)]
            p, q = softmax(mean), softmax(EXPERT_LOGITS[e][i])
            expected = [(q[k] - (k == y)) / n - 0.45 * (q[k] - p[k]) / n for k in range(3)]
            assert_close(logits.grad[e, i], torch.tensor(expected))


def test_zero_diversity_applies_every_individual_term_to_the_mean():
    logits, labels = torch.tensor(EXPERT_LOGITS), torch.tensor(LABELS)
    margins = ldam_margins(torch.tensor(COUNTS))
    mean = logits.mean(0, keepdim=True)
    assert_close(ride_loss(logits, labels, margins, SCALE, None, 1.0, 0.0),
                 2 * ride_loss(mean, labels, margins, SCALE, None, 1.0, 0.0))


def test_distillation_term_matches_the_formula():
    student, teacher = EXPERT_LOGITS
    t = 1.5
    expected = t * t * sum(kl(softmax([v / t for v in teacher[i]]), softmax([v / t for v in student[i]]))
                           for i in range(4)) / 4
    assert_close(distillation_term(torch.tensor(student), torch.tensor(teacher), t), torch.tensor(expected))


def test_router_targets_and_loss():
    # three experts, one class column per sample decides; ensembles 0..i right/wrong by design
    expert_logits = torch.tensor([
        [[5.0, 0.0], [0.0, 5.0], [0.0, 5.0], [0.0, 5.0]],   # expert 0
        [[0.0, 1.0], [4.0, 0.0], [9.0, 0.0], [0.0, 0.0]],   # expert 1
        [[0.0, 1.0], [9.0, 0.0], [0.0, 0.0], [0.0, 0.0]],   # expert 2
    ])
    labels = torch.tensor([0, 0, 0, 0])
    # sample 0: right at once -> (0, 0); sample 1: 0..0 wrong, 0..1 wrong (4<5), 0..2 right -> (1, 1)
    # sample 2: 0..0 wrong, 0..1 right -> (1, 0); sample 3: never right -> (0, 0)
    targets = router_targets(expert_logits, labels)
    assert targets.tolist() == [[0, 0], [1, 1], [1, 0], [0, 0]]
    logits = torch.tensor([[0.5, -1.0], [2.0, 0.1], [-0.3, 0.0], [1.0, -2.0]])
    sig = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    terms = [-(100 * t * math.log(sig(z)) + (1 - t) * math.log(1 - sig(z)))
             for row, trow in zip(logits.tolist(), targets.tolist()) for z, t in zip(row, trow)]
    assert_close(router_loss(logits, targets, 100.0), torch.tensor(sum(terms) / len(terms)))


def tiny_model(router=True, classes=5, experts=3):
    torch.manual_seed(0)
    return create_model(multi_expert("resnet20", classes, experts=experts, router=router, top_choices=3)).eval()


def multi_expert(arch: str, classes: int, **options) -> ModelSpec:
    return ModelSpec("multi_expert", arch, classes, "cosine", options)


def test_router_forward_matches_the_arithmetic():
    model = tiny_model()
    feature = torch.randn(2, 48)
    mean_logits = torch.tensor([[0.1, 3.0, -1.0, 2.0, 0.5], [1.0, 0.0, 0.2, -0.4, 0.9]])
    hidden = model.expert_help_pred_hidden_fcs[1]
    fc = model.expert_help_pred_fc
    for i in range(2):
        f = feature[i].tolist()
        norm = math.sqrt(sum(v * v for v in f))
        h = [max(0.0, sum(w * v / norm for w, v in zip(hidden.weight[j].tolist(), f)) + hidden.bias[j].item())
             for j in range(16)]
        top = sorted(mean_logits[i].tolist(), reverse=True)[:3]
        expected = sum(w * v for w, v in zip(fc.weight[0].tolist(), top + h)) + fc.bias.item()
        assert model.router_logit(1, feature, mean_logits)[i].item() == pytest.approx(expected, rel=1e-5)


def test_routed_inference_uses_the_mean_of_the_experts_it_calls():
    model = tiny_model()
    x = torch.randn(16, 3, 32, 32)
    with torch.no_grad():
        model.expert_help_pred_fc.bias.fill_(0.0)
        output = model(x)
        features, expert_logits = output.features, output.expert_logits
        running = expert_logits.cumsum(0) / torch.arange(1, 4)[:, None, None]
        logits, used = model.routed(x)
        assert_close(logits, running[used - 1, torch.arange(16)])
        # router i's verdict decides whether expert i + 1 ran
        routers = torch.sigmoid(model.router_logits(features, expert_logits)) > 0.5
        assert used.tolist() == [1 + int(r[0]) + int(r[0] and r[1]) for r in routers.tolist()]
        model.expert_help_pred_fc.bias.fill_(100.0)   # always call on: all experts
        assert model.routed(x)[1].tolist() == [3] * 16
        model.expert_help_pred_fc.bias.fill_(-100.0)  # never: expert 0 alone
        logits, used = model.routed(x)
        assert used.tolist() == [1] * 16
        assert_close(logits, expert_logits[0])


def test_any_number_of_experts_and_the_official_widths():
    model = create_model(multi_expert("resnet32", 10, experts=6))
    x = torch.randn(2, 3, 32, 32)
    features = model.features(x)
    assert features.shape == (2, 6, 48)
    assert model.expert_logits(features).shape == (6, 2, 10)
    assert [len(model.layer2s[0]), model.layer2s[0][0].conv1.out_channels] == [5, 24]
    assert not hasattr(model, "expert_help_pred_fc")


@pytest.fixture
def official(shared_checkpoint):
    raw = torch.load(shared_checkpoint("ride_ea_epoch5.pth"), weights_only=True, map_location="cpu")
    options = options_from_state_dict(raw["state_dict"])
    spec, state = recognise(raw["state_dict"])  # the family's filter: prefix off, its router marked trained
    assert spec == multi_expert(**{k: v for k, v in options.items() if k != "num_classes"},
                                classes=options["num_classes"])
    model = create_model(spec)
    model.load_state_dict(state)
    return model.eval(), options


def test_official_checkpoint_is_recognised_and_deterministic(official):
    model, options = official
    assert options == {"arch": "resnet32", "num_classes": 100, "experts": 3, "reduce_dimension": True,
                       "router": True, "top_choices": 30}
    x = torch.randn(8, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        first, second = model(x), model(x)
    expert_logits = first.expert_logits
    assert torch.equal(first.logits, second.logits)
    assert_close(first.logits, expert_logits.mean(0))
    assert expert_logits.abs().max() <= 30.0 + 1e-4  # cosines × s


def test_official_checkpoint_routes(official):
    model, _ = official
    x = torch.randn(32, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    logits, used = model.routed(x)
    with torch.no_grad():
        running = model(x).expert_logits.cumsum(0) / torch.arange(1, 4)[:, None, None]
    assert_close(logits, running[used - 1, torch.arange(32)])
    assert 1 <= used.min() and used.max() <= 3 and used.float().mean() < 3  # the router saves compute


def test_rotation_matches_torchvision_and_keeps_uint8():
    tf = pytest.importorskip("torchvision.transforms.v2.functional")
    images = torch.randint(0, 256, (3, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    angles = torch.tensor([0.0, 12.5, -15.0])
    rotated = rotate(images, angles)
    assert rotated.dtype == torch.uint8 and torch.equal(rotated[0], images[0])
    for image, angle, got in zip(images, angles, rotated):
        assert torch.equal(got, tf.rotate(image, float(angle)))
    drawn = random_rotate(images.repeat(20, 1, 1, 1), torch.Generator().manual_seed(3))
    assert not torch.equal(drawn[0], drawn[3])  # a fresh angle per image


def test_a_ride_file_with_plain_linear_experts_gets_one_clear_line(shared_checkpoint):
    from models import UnrecognisedWeights, recognise

    raw = torch.load(shared_checkpoint("ride_ea_epoch5.pth"), weights_only=True, map_location="cpu")
    state = strip_official_prefix(raw["state_dict"])
    for e in range(3):
        state[f"linears.{e}.weight"] = state[f"linears.{e}.weight"].T.contiguous()
        state[f"linears.{e}.bias"] = torch.zeros(100)
    with pytest.raises(UnrecognisedWeights) as error:
        recognise(state)
    assert "use_norm" in str(error.value) and "\n" not in str(error.value)


def test_an_official_stage_one_file_without_router_loads_and_predicts_with_every_expert(tmp_path, shared_checkpoint):
    from engine.checkpoints import load_checkpoint
    from engine.inference import Predictor

    raw = torch.load(shared_checkpoint("ride_ea_epoch5.pth"), weights_only=True, map_location="cpu")
    stage_one = {k: v for k, v in raw["state_dict"].items() if "expert_help_pred" not in k}
    path = tmp_path / "ride_stage1.pth"
    torch.save({"arch": "ResNet32Model", "epoch": 200, "state_dict": stage_one}, path)
    checkpoint = load_checkpoint(path)
    assert checkpoint.spec.family == "multi_expert" and not checkpoint.spec.options["router"]
    predictor = Predictor(checkpoint, dataset="cifar100", device="cpu")
    images = torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    probabilities = predictor.predict_tensor(images)
    assert predictor.last_experts is None and probabilities.shape == (4, 100)
    with torch.no_grad():
        model = predictor.model
        x = (images.float() / 255 - torch.tensor(predictor.mean)[:, None, None]) / torch.tensor(predictor.std)[:, None, None]
        assert_close(probabilities, torch.softmax(model(x).expert_logits.mean(0), dim=1), atol=1e-5, rtol=1e-4)


def test_reweighted_and_router_steps_do_not_make_the_host_wait():
    from engine.batch import Batch
    from engine.config import RunConfig
    from engine.methods import build_method
    from engine.rules import effective_number_weights
    from tests.sync_guard import forbid_host_sync

    counts = torch.tensor([40, 20, 10, 5, 3])
    method = build_method("ride", counts)
    method.class_weights = effective_number_weights(counts, 0.9999)  # DRW on: per-class temperatures
    model = create_model(method.model_spec(ModelSpec(arch="resnet20", num_classes=5)))
    images, labels = torch.randn(8, 3, 12, 12), torch.tensor([0, 1, 2, 3, 4, 0, 1, 2])
    for stage in method.stages(RunConfig()):
        with forbid_host_sync():
            loss, _ = (stage.step or method.training_step)(model, Batch([images], labels), stage)
            loss.backward()


def test_the_demo_preset_keeps_the_official_proportions_and_an_honest_name():
    """Issue 21.3: the demo took ~2 minutes under a name promising seconds, and ended with a class at zero
    after 12 expert epochs and a router stage a sixth of their length (officially 5 of 200)."""
    from engine.presets import preset, preset_titles
    from engine.trainer import planned_stages

    config = preset("demo-ride")
    train_stage, router = planned_stages(config)
    assert (train_stage.name, router.name) == ("train", "router")
    assert router.epochs == max(1, round(train_stage.epochs * 5 / 200))  # config_imbalance_cifar100_ride_ea.json
    assert config.optim.warmup_epochs == max(1, round(train_stage.epochs * 5 / 200))
    assert router.optim.batch_size == 4 * config.optim.batch_size  # 512 = 4 × 128
    assert config.method.train_rule == "drw" and config.optim.decay_at == (0.8, 0.9)
    assert "seconds" not in preset_titles()["demo-ride"]
