"""ONNX export: every architecture family runs in onnxruntime with layerwise's outputs."""
import numpy as np
import pytest

import layerwise as lw
from layerwise import nn
from layerwise.io import ExportError, check_onnx, export_onnx, run_onnx, to_onnx
from tests.io.zoo_cases import CASES

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

FAMILIES = ["lenet5", "alexnet", "zfnet", "vgg11_bn", "vgg11_cifar", "googlenet", "resnet18",
            "resnet20", "densenet_bc", "densenet121"]


def _with_statistics(model, shape, seed=0):
    """Batch-norm running statistics away from 0 and 1, so eval mode is a real test."""
    for name, buffer in model.named_buffers():
        if name.endswith("running_mean"):
            buffer.data[...] = np.random.default_rng(seed).normal(0, 0.1, buffer.data.shape)
        elif name.endswith("running_var"):
            buffer.data[...] = np.random.default_rng(seed).uniform(0.5, 2, buffer.data.shape)
    return model


@pytest.mark.parametrize("name", FAMILIES)
def test_onnx_round_trip_through_onnxruntime(name, tmp_path):
    build, _, shape = CASES[name]
    model = _with_statistics(build(), shape)
    path = export_onnx(model, tmp_path / f"{name}.onnx", input_size=shape)
    # a batch of 3 although the example had 1: the batch axis is dynamic
    x = np.random.default_rng(1).standard_normal((3,) + shape).astype(np.float32)
    model.eval()
    with lw.no_grad():
        expected = model(lw.tensor(x)).data
    got = run_onnx(path, x)[0]
    scale = np.abs(expected).max()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5 * scale)


def test_graph_names_follow_the_state_dict():
    model = CASES["resnet20"][0]()
    proto = to_onnx(model, input_size=(1, 16, 16))
    weights = {init.name for init in proto.graph.initializer}
    assert {"conv1.weight", "layer2.0.bn1.running_var", "fc.weight"} <= weights
    ops = {node.op_type for node in proto.graph.node}
    assert {"Conv", "BatchNormalization", "Relu", "Add", "Slice", "Pad", "GlobalAveragePool",
            "Flatten", "Gemm"} <= ops
    assert [i.name for i in proto.graph.input] == ["input"]
    assert [o.name for o in proto.graph.output] == ["output"]
    assert model.training  # the export ran in eval mode and restored training mode


@pytest.mark.parametrize("layers, size", [
    (lambda: [nn.Conv2d(2, 4, 3, padding="same"), nn.LeakyReLU(0.2), nn.AvgPool2d(3, 2, 1),
              nn.LocalResponseNorm(3), nn.AdaptiveAvgPool2d((3, 2)), nn.Flatten(),
              nn.Linear(24, 5), nn.GELU(), nn.Dropout(0.3), nn.LogSoftmax(dim=1)], 11),
    (lambda: [nn.Conv2d(2, 3, 3, stride=2, dilation=2), nn.ELU(), nn.SumPool2d(2),
              nn.Unflatten(1, (3, 1)), nn.Flatten(1, 2), nn.ReLU6(), nn.AdaptiveMaxPool2d(1),
              nn.GlobalAvgPool2d(), nn.Softmax(dim=-1)], 11),
    # ceil mode with a last window past the input: 12 -> 6 windows of 3 with stride 2
    (lambda: [nn.Conv2d(2, 4, 1), nn.MaxPool2d(3, 2, ceil_mode=True), nn.BatchNorm2d(4),
              nn.Sigmoid(), nn.Flatten(), nn.Linear(144, 3, bias=False), nn.Tanh()], 12),
])
def test_sequential_layers(layers, size):
    model = _with_statistics(nn.Sequential(*layers()), None)
    shape = (2, size, size)
    assert check_onnx(model, to_onnx(model, input_size=shape), input_size=shape) < 1e-4


class NumpyOnly(nn.Module):
    def forward(self, x):
        return lw.tensor(np.sort(x.data, axis=-1))


def test_unsupported_layers_are_named():
    with pytest.raises(ExportError, match=r"no exporter for layer '1' \(NumpyOnly\)"):
        to_onnx(nn.Sequential(nn.Conv2d(1, 2, 3), NumpyOnly()), input_size=(1, 8, 8))
    with pytest.raises(ExportError, match="even size"):
        to_onnx(nn.Sequential(nn.LocalResponseNorm(4)), input_size=(6, 4, 4))
    with pytest.raises(ValueError, match="example input or input_size"):
        to_onnx(nn.Sequential(nn.ReLU()))
