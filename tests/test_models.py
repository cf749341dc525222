"""The CIFAR ResNets: parameter counts, checkpoint keys, LDAM-DRW's forward, heads and init."""
from __future__ import annotations

import math

import pytest
import torch
from torch.nn import functional as F

from errors import UserError
from models import CIFAR_ARCHITECTURES, CifarResNet, NormedLinear, build_model, depth_of
from models.resnet_cifar import BasicBlock

BLOCKS = {"resnet20": 3, "resnet32": 5, "resnet44": 7, "resnet56": 9, "resnet110": 18}
# He et al. 2016, Table 6 / the table atop LDAM-DRW's resnet_cifar.py, in millions (10 classes).
PUBLISHED_MILLIONS = {"resnet20": 0.27, "resnet32": 0.46, "resnet44": 0.66, "resnet56": 0.85, "resnet110": 1.7}


def expected_parameters(n: int, classes: int) -> int:
    """Conv weights (3×3, no bias) + BN weight/bias per layer, counted by hand."""
    conv = lambda cin, cout: 9 * cin * cout  # noqa: E731
    bn = lambda c: 2 * c  # noqa: E731
    stem = conv(3, 16) + bn(16)
    total = stem
    for cin, cout in ((16, 16), (16, 32), (32, 64)):
        total += conv(cin, cout) + conv(cout, cout) + 2 * bn(cout)  # first block (option A adds nothing)
        total += (n - 1) * (2 * conv(cout, cout) + 2 * bn(cout))
    return total + 64 * classes + classes


@pytest.mark.parametrize("arch", CIFAR_ARCHITECTURES)
def test_parameter_count_matches_the_paper(arch):
    model = build_model(arch, 10)
    count = sum(p.numel() for p in model.parameters())
    assert count == expected_parameters(BLOCKS[arch], 10)
    assert round(count / 1e6, 2 if arch != "resnet110" else 1) == PUBLISHED_MILLIONS[arch]
    assert depth_of(arch) == 6 * BLOCKS[arch] + 2
    assert model.arch == arch and model.feature_dim == 64


@pytest.mark.parametrize("name, arch, classes", [("CE.pt", "resnet32", 100), ("BSCE.pt", "resnet32", 100),
                                                 ("balanced_resnet20.pt", "resnet20", 10)])
def test_state_dict_keys_are_exactly_the_shared_checkpoints(shared_checkpoint, name, arch, classes):
    state = torch.load(shared_checkpoint(name), map_location="cpu", weights_only=True)
    model = build_model(arch, classes)
    assert list(model.state_dict()) == list(state)
    model.load_state_dict(state, strict=True)


def ldam_reference_forward(state: dict[str, torch.Tensor], x: torch.Tensor, blocks: int) -> torch.Tensor:
    """LDAM-DRW's ResNet_s.forward written out with the functional API (eval-mode BN)."""
    def bn(h, prefix):
        return F.batch_norm(h, state[f"{prefix}.running_mean"], state[f"{prefix}.running_var"],
                            state[f"{prefix}.weight"], state[f"{prefix}.bias"], training=False, eps=1e-5)

    out = F.relu(bn(F.conv2d(x, state["conv1.weight"], padding=1), "bn1"))
    for stage, planes in ((1, 16), (2, 32), (3, 64)):
        for index in range(blocks):
            p = f"layer{stage}.{index}"
            stride = 2 if stage > 1 and index == 0 else 1
            h = F.relu(bn(F.conv2d(out, state[f"{p}.conv1.weight"], stride=stride, padding=1), f"{p}.bn1"))
            h = bn(F.conv2d(h, state[f"{p}.conv2.weight"], padding=1), f"{p}.bn2")
            if stride != 1:  # option A: LDAM's lambda, planes // 4 zero channels on each side
                shortcut = F.pad(out[:, :, ::2, ::2], (0, 0, 0, 0, planes // 4, planes // 4), "constant", 0)
            else:
                shortcut = out
            out = F.relu(h + shortcut)
    out = F.avg_pool2d(out, out.size(3)).view(out.size(0), -1)
    return out @ state["linear.weight"].t() + state["linear.bias"]


def test_forward_equals_ldam_drw_on_a_real_checkpoint(shared_checkpoint):
    state = torch.load(shared_checkpoint("CE.pt"), map_location="cpu", weights_only=True)
    model = build_model("resnet32", 100)
    model.load_state_dict(state)
    model.eval()
    x = torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        output = model(x)
        torch.testing.assert_close(output.logits, ldam_reference_forward(state, x, blocks=5), rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(output.features, model.features(x))


def test_option_a_shortcut_subsamples_and_pads_with_zeros():
    block = BasicBlock(16, 32, stride=2)
    assert sum(p.numel() for p in block.shortcut.parameters()) == 0
    x = torch.randn(2, 16, 8, 8)
    out = block.shortcut(x)
    assert out.shape == (2, 32, 4, 4)
    torch.testing.assert_close(out[:, 8:24], x[:, :, ::2, ::2])
    assert out[:, :8].abs().sum() == 0 and out[:, 24:].abs().sum() == 0


@pytest.mark.parametrize("size", [8, 17, 32, 48])
def test_any_input_size_from_8_works(size):
    model = build_model("resnet20", 7).eval()
    x = torch.randn(2, 3, size, size)
    with torch.no_grad():
        assert model.features(x).shape == (2, 64)
        assert model(x).logits.shape == (2, 7)


def test_cosine_head_is_ldams_normed_linear():
    model = build_model("resnet20", 12, head="cosine")
    head = model.linear
    assert isinstance(head, NormedLinear)
    assert [name for name, _ in head.named_parameters()] == ["weight"]
    assert head.weight.shape == (64, 12)
    torch.testing.assert_close(head.weight.norm(dim=0), torch.ones(12))  # LDAM's renorm init
    features = torch.randn(5, 64)
    expected = torch.empty(5, 12)
    for i in range(5):
        for c in range(12):
            f, w = features[i], head.weight[:, c]
            expected[i, c] = (f @ w) / (f.norm() * w.norm())
    torch.testing.assert_close(head(features), expected, rtol=1e-5, atol=1e-6)
    assert list(model.state_dict())[-1] == "linear.weight"


def test_kaiming_normal_initialisation():
    torch.manual_seed(0)
    model = build_model("resnet56", 10)
    conv = model.layer3[4].conv2.weight  # 64·64·9 draws, fan_in 576
    assert conv.mean().abs() < 0.003
    assert conv.std().item() == pytest.approx(math.sqrt(2 / 576), rel=0.03)
    assert model.linear.weight.std().item() == pytest.approx(math.sqrt(2 / 64), rel=0.15)
    assert model.bn1.weight.eq(1).all() and model.bn1.bias.eq(0).all()


def test_unknown_architecture_and_head_are_user_errors():
    with pytest.raises(UserError, match="resnet18"):
        build_model("resnet18", 10)
    with pytest.raises(UserError, match="lws"):
        build_model("resnet20", 10, head="mlp")
    assert isinstance(build_model("resnet20", 3), CifarResNet)


def test_lws_head_scales_each_class_and_starts_at_one():
    """MiSLAS's learnable weight scaling: logits = linear(f) · s_c, with s = 1 at the start."""
    model = build_model("resnet20", 4, head="lws")
    features = torch.randn(3, 64)
    torch.testing.assert_close(model.classify(features).logits, model.linear(features))
    with torch.no_grad():
        model.lws.learned_norm.copy_(torch.tensor([[1.0, 2.0, 0.5, 3.0]]))
    torch.testing.assert_close(model.classify(features).logits, model.linear(features) * torch.tensor([1.0, 2.0, 0.5, 3.0]))
    assert list(model.heads()) == ["linear", "lws"]
    assert {name for name in model.parts()} == {"backbone", "heads", "classifier", "lws"}


def test_parts_split_backbone_and_heads_without_overlap():
    model = build_model("resnet20", 4)
    parts = model.parts()
    backbone = {id(p) for m in parts["backbone"] for p in m.parameters()}
    heads = {id(p) for m in parts["heads"] for p in m.parameters()}
    assert not backbone & heads
    assert backbone | heads == {id(p) for p in model.parameters()}


@pytest.mark.parametrize("head", ["linear", "cosine", "lws"])
def test_the_registry_recognises_a_cifar_resnet_from_its_tensors(head):
    from models import ModelSpec, recognise

    spec, state = recognise(build_model("resnet44", 9, head=head).state_dict())
    assert spec == ModelSpec("cifar_resnet", "resnet44", 9, head)
    assert ModelSpec.from_dict(spec.to_dict()) == spec
