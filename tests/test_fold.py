import torch

from engine.fold import folded_copy
from models import build_model


def test_folded_copy_computes_the_same_logits_and_leaves_the_model_alone():
    torch.manual_seed(0)
    model = build_model("resnet20", 10)
    model.train()
    model(torch.randn(16, 3, 32, 32))  # give BatchNorm non-trivial running statistics
    model.eval()
    x = torch.randn(8, 3, 32, 32)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    folded = folded_copy(model)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    torch.testing.assert_close(folded(x).logits, model(x).logits, rtol=1e-4, atol=1e-4)
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key
