"""Pictures that explain a network and its training.

- ``explain`` / ``explain_render``: convolution and pooling step by step (text, PNG, GIF);
- ``kernels``: the classic hand-made kernels (edges, blur, sharpen, Sobel) on an image;
- ``filters``, ``feature_maps``: a trained model's filters and what its conv layers see;
- ``saliency``: saliency maps and Grad-CAM; ``receptive_field``: how far each layer sees;
- ``curves``, ``confusion``, ``mistakes``: training curves, confusion matrix, worst errors;
- ``report``: all of it for one training run, as one self-contained HTML page.
"""
from .confusion import plot_confusion_matrix  # noqa: F401
from .curves import plot_history  # noqa: F401
from .explain import explain_conv, explain_pool, format_explanation  # noqa: F401
from .explain_render import save_explanation_gif, save_explanation_png  # noqa: F401
from .feature_maps import feature_maps, plot_feature_maps  # noqa: F401
from .filters import plot_filters  # noqa: F401
from .kernels import CLASSIC_KERNELS, apply_kernel, plot_kernel_grid  # noqa: F401
from .mistakes import confident_mistakes, plot_mistakes  # noqa: F401
from .receptive_field import format_receptive_fields, receptive_fields  # noqa: F401
from .saliency import grad_cam, plot_saliency, saliency_map  # noqa: F401
