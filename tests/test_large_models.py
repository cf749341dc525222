"""The ImageNet backbones and the official ImageNet-LT / iNaturalist checkpoint layouts.

Official files are generated here from the official module names: torchvision's own ResNet for
the trunks MiSLAS, decoupling and PaCo build (``models.__dict__[arch]`` or copies of it), wrapped
the way each repository saves them (DataParallel's ``module.``, MiSLAS's parts, decoupling's
``state_dict_best`` networks, PaCo's MoCo wrapper with ``linear_k`` and ``queue_l``, RIDE's
``backbone.``), and must load strictly and predict as the network they come from.
"""
from __future__ import annotations

import pytest
import torch
from torch import nn
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

from engine.checkpoints import build_model_from_checkpoint, is_trunk_file, load_checkpoint, load_trunk_into
from models import IMAGENET_ARCHITECTURES, ModelSpec, architectures, create_model, recognise

CLASSES = 10


def torchvision_resnet(arch: str, num_classes: int = CLASSES) -> ResNet:
    block, layers, kwargs = {"resnet10": (BasicBlock, [1, 1, 1, 1], {}), "resnet50": (Bottleneck, [3, 4, 6, 3], {}),
                             "resnext50_32x4d": (Bottleneck, [3, 4, 6, 3], {"groups": 32, "width_per_group": 4})}[arch]
    net = ResNet(block, layers, num_classes=num_classes, **kwargs).eval()
    with torch.no_grad():  # BatchNorm statistics that are not the identity, so a wrong load shows
        for module in net.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)
    return net


def images(size: int = 64) -> torch.Tensor:
    return torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(0))


def prefixed(state: dict, prefix: str) -> dict:
    return {prefix + key: value for key, value in state.items()}


def test_every_architecture_is_listed_and_the_imagenet_ones_follow_torchvision():
    assert set(IMAGENET_ARCHITECTURES) <= set(architectures())
    for arch in ("resnet10", "resnext50_32x4d"):
        ours = create_model(ModelSpec("imagenet_resnet", arch, CLASSES))
        reference = torchvision_resnet(arch)
        assert [k for k in ours.state_dict() if not k.startswith("linear.")] == \
            [k for k in reference.state_dict() if not k.startswith("fc.")]


def test_mislas_imagenet_parts_load_and_predict_as_the_network(tmp_path):
    net = torchvision_resnet("resnet50")
    trunk = {k: v for k, v in net.state_dict().items() if not k.startswith("fc.")}
    head = {k.removeprefix("fc."): v for k, v in net.state_dict().items() if k.startswith("fc.")}
    path = tmp_path / "mislas_stage1.pth.tar"  # train_stage1.py: DataParallel model and classifier saved apart
    torch.save({"epoch": 180, "state_dict_model": prefixed(trunk, "module."),
                "state_dict_classifier": prefixed(prefixed(head, "fc."), "module."), "best_acc1": torch.tensor(45.5)},
               path)
    checkpoint = load_checkpoint(path)
    assert checkpoint.spec == ModelSpec("imagenet_resnet", "resnet50", CLASSES, "linear")
    model = build_model_from_checkpoint(checkpoint)
    with torch.no_grad():
        assert torch.allclose(model(images()).logits, net(images()), rtol=1e-4, atol=1e-3)

    lws = tmp_path / "mislas_stage2.pth.tar"  # train_stage2.py adds the learnable weight scaling
    torch.save({"state_dict_model": prefixed(trunk, "module."), "state_dict_classifier": prefixed(prefixed(head, "fc."), "module."),
                "state_dict_lws_model": {"module.learned_norm": torch.full((1, CLASSES), 2.0)}}, lws)
    assert load_checkpoint(lws).spec.head == "lws"
    with torch.no_grad():
        assert torch.allclose(build_model_from_checkpoint(load_checkpoint(lws))(images()).logits, 2 * net(images()),
                              rtol=1e-4, atol=1e-3)


def test_decoupling_networks_with_lws_scales_load(tmp_path):
    net = torchvision_resnet("resnext50_32x4d")
    trunk = {k: v for k, v in net.state_dict().items() if not k.startswith("fc.")}
    classifier = {k: v for k, v in net.state_dict().items() if k.startswith("fc.")}
    scales = torch.linspace(0.5, 1.5, CLASSES)
    path = tmp_path / "resnext50_lws_uni2bal.pth"  # run_networks.py save_model: state_dict_best of each network
    torch.save({"epoch": 5, "best_epoch": 5, "state_dict_best": {
        "feat_model": prefixed(trunk, "module."),
        "classifier": prefixed({**classifier, "scales": scales}, "module.")}, "best_acc": 0.499}, path)
    checkpoint = load_checkpoint(path)
    assert checkpoint.spec == ModelSpec("imagenet_resnet", "resnext50_32x4d", CLASSES, "lws")
    with torch.no_grad():
        expected = net(images()) * scales
        assert torch.allclose(build_model_from_checkpoint(checkpoint)(images()).logits, expected, rtol=1e-4, atol=1e-3)


def test_paco_imagenet_moco_wrapper_loads_as_the_momentum_contrast_family(tmp_path):
    net = torchvision_resnet("resnet10", num_classes=128)
    width = net.fc.in_features
    net.fc = nn.Sequential(nn.Linear(width, width), nn.BatchNorm1d(width), nn.ReLU(), net.fc)  # moco/builder.py, mlp
    encoder = net.state_dict()
    linear = nn.Linear(width, CLASSES)
    state = {**prefixed(encoder, "encoder_q."), **prefixed(encoder, "encoder_k."),
             **prefixed(linear.state_dict(), "linear."), **prefixed(linear.state_dict(), "linear_k."),
             "queue": torch.randn(8192, 128), "queue_l": torch.randint(0, CLASSES, (8192,)),
             "queue_ptr": torch.zeros(1, dtype=torch.long)}
    path = tmp_path / "paco_r10.pth.tar"
    torch.save({"epoch": 400, "arch": "resnet10", "state_dict": prefixed(state, "module.")}, path)
    checkpoint = load_checkpoint(path)
    assert checkpoint.spec == ModelSpec("momentum_contrast", "resnet10", CLASSES, "linear",
                                        {"proj_dim": 128, "queue_size": 8192})
    model = build_model_from_checkpoint(checkpoint)
    net.fc = nn.Identity()  # the official forward hook reads the pooled feature before the projection
    with torch.no_grad():
        assert torch.allclose(model(images()).logits, linear(net.eval()(images())), rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("arch", ["resnet10", "resnext50_32x4d"])
def test_ride_imagenet_backbone_layout_is_recognised_with_its_reduced_experts(tmp_path, arch):
    spec = ModelSpec("multi_expert", arch, CLASSES, "cosine",
                     {"experts": 3, "reduce_dimension": True, "router": True, "top_choices": 5})
    model = create_model(spec).eval()
    keys = list(model.state_dict())
    # the official module names (model/fb_resnets/RIDEResNeXt.py, EAResNet.py)
    assert {"conv1.weight", "layer2.0.conv1.weight", "layer3s.2.0.conv1.weight", "layer4s.0.0.downsample.0.weight",
            "linears.2.weight", "expert_help_pred_hidden_fcs.1.weight", "expert_help_pred_fc.weight"} <= set(keys)
    width = model.linears[0].weight.shape[0]
    assert width == {"resnet10": 384, "resnext50_32x4d": 1536}[arch]  # planes 192 / 384, as reduce_dimension
    path = tmp_path / "ride.pth"
    torch.save({"arch": "ResNeXt50EAModel", "epoch": 5, "state_dict": prefixed(model.state_dict(), "backbone.")}, path)
    checkpoint = load_checkpoint(path)
    assert checkpoint.spec.family == "multi_expert" and checkpoint.spec.arch == arch
    assert checkpoint.spec.options == {"reduce_dimension": True, "experts": 3, "router": True, "top_choices": 5}
    with torch.no_grad():
        loaded = build_model_from_checkpoint(checkpoint)
        assert torch.allclose(loaded(images()).logits, model(images()).logits, rtol=1e-4, atol=1e-3)


def test_torchvision_weights_start_the_trunk_of_another_head_or_of_pacos_encoders(tmp_path):
    net = torchvision_resnet("resnet10", num_classes=1000)
    path = tmp_path / "resnet10-imagenet.pth"
    torch.save(net.state_dict(), path)  # torchvision's weight files are plain state dicts with fc
    checkpoint = load_checkpoint(path)
    assert checkpoint.spec == ModelSpec("imagenet_resnet", "resnet10", 1000, "linear")
    for spec in (ModelSpec("imagenet_resnet", "resnet10", CLASSES),
                 ModelSpec("momentum_contrast", "resnet10", CLASSES, options={"proj_dim": 16, "queue_size": 32})):
        model = create_model(spec)
        assert is_trunk_file(checkpoint, model)
        note = load_trunk_into(model, checkpoint)
        state = model.state_dict()
        for prefix in model.trunk_prefixes:
            assert torch.equal(state[prefix + "layer4.0.conv2.weight"], net.state_dict()["layer4.0.conv2.weight"])
        assert "linear" in note and "start fresh" in note
    assert not is_trunk_file(checkpoint, create_model(ModelSpec("imagenet_resnet", "resnet10", 1000)))


def test_an_unbuilt_imagenet_depth_is_named(tmp_path):
    from models import UnrecognisedWeights

    net = ResNet(Bottleneck, [3, 4, 23, 3], num_classes=CLASSES)  # ResNet-101
    with pytest.raises(UnrecognisedWeights, match=r"Bottleneck \[3, 4, 23, 3\].*builds resnet10"):
        recognise({("linear." + k[3:] if k.startswith("fc.") else k): v for k, v in net.state_dict().items()})
