"""Upsampling layers (PyTorch's ``nn.Upsample``, ``nn.UpsamplingNearest2d``,
``nn.UpsamplingBilinear2d``): fixed, parameter-free resizing, e.g. in a decoder before a
convolution ("resize-convolution", the alternative to transposed convolutions)."""
from .functional.upsampling import interpolate
from .module import Module

__all__ = ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"]


class Upsample(Module):
    """Resize (N, C, H, W) inputs to ``size`` or by ``scale_factor`` (see ``F.interpolate``).

    mode: 'nearest' (default), 'nearest-exact' or 'bilinear' (with ``align_corners``).
    """

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.size, self.mode, self.align_corners = size, mode, align_corners
        self.scale_factor = float(scale_factor) if isinstance(scale_factor, (int, float)) \
            else (tuple(float(f) for f in scale_factor) if scale_factor else None)
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                           self.recompute_scale_factor, _name=type(self).__name__)

    def extra_repr(self):
        where = f"size={self.size}" if self.size is not None else \
            f"scale_factor={self.scale_factor}"
        return f"{where}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """``Upsample(size, scale_factor, mode='nearest')``."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """``Upsample(size, scale_factor, mode='bilinear', align_corners=True)``."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
