"""What chunking the batch-major convolution over the cores buys, layer by layer.

For the convolution layers of LeNet-5 and the seed CNNs, at batch 64 and 256: the
forward pass alone (inference) and forward + both backward passes (training) of
``conv_batched.BatchedGemmConv``, run three ways in one process, interleaved in ~1 s
blocks (``harness.compare``, median of per-pair ratios, blocks under foreign load redone):

- chunked: the default, ~2 MB of columns per chunk, chunks spread over the cores with
  the BLAS single-threaded (``conv_batched.over_images``);
- whole batch: one chunk, the BLAS multi-threaded for each image's product (the
  previous implementation's schedule);
- PyTorch 2.13's ``conv2d`` (oneDNN), same shapes and threads.

    python bench/conv_chunks.py
    python bench/conv_chunks.py --repeats 3 --seconds 0.5
"""
import argparse
import os
import sys

import harness


def parse_args():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--seconds", type=float, default=1.0)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--phases", default="infer,train")
    p.add_argument("--layers", default="", help="comma list of layer-name substrings")
    return p.parse_args()


ARGS = parse_args()
harness.use_threads(ARGS.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402

from layerwise.backend import conv_batched  # noqa: E402

torch.set_num_threads(ARGS.threads)

# name, C, H (=W), O, kernel, padding
LAYERS = [("lenet5 conv1", 1, 28, 6, 5, 2), ("lenet5 conv2", 6, 14, 16, 5, 0),
          ("seed004 conv1", 1, 28, 16, 3, 1), ("seed004 conv2", 16, 14, 32, 3, 1),
          ("seed003 conv1", 1, 28, 32, 5, 2), ("seed003 conv2", 32, 14, 64, 5, 2)]


def layerwise_pass(x, w, b, pad, phase, chunk_bytes):
    geometry = ((1, 1), ((pad, pad), (pad, pad)), (1, 1), 1)
    g = np.ones((x.shape[0], w.shape[0], x.shape[2] + 2 * pad - w.shape[2] + 1,
                 x.shape[3] + 2 * pad - w.shape[3] + 1), x.dtype)

    def step():
        saved, conv_batched.CHUNK_BYTES = conv_batched.CHUNK_BYTES, chunk_bytes
        try:
            conv = conv_batched.BatchedGemmConv(x, w, *geometry,
                                                for_backward=phase == "train")
            conv.forward(b)
            if phase == "train":
                conv.backward(g)
            conv.release()
        finally:
            conv_batched.CHUNK_BYTES = saved
    return step


def torch_pass(x, w, b, pad, phase):
    xt, wt, bt = (torch.from_numpy(a.copy()) for a in (x, w, b))
    if phase == "train":
        xt.requires_grad_(True)
        wt.requires_grad_(True)
        bt.requires_grad_(True)

        def step():
            torch.nn.functional.conv2d(xt, wt, bt, padding=pad).sum().backward()
        return step

    def infer():
        with torch.no_grad():
            torch.nn.functional.conv2d(xt, wt, bt, padding=pad)
    return infer


def main():
    print(f"threads: {ARGS.threads}; chunk: {conv_batched.CHUNK_BYTES >> 20} MB of columns\n")
    print("| layer | batch | phase | chunked / whole batch | chunked / PyTorch |")
    print("|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    for name, c, h, o, k, pad in LAYERS:
        if ARGS.layers and not any(part in name for part in ARGS.layers.split(",")):
            continue
        for batch in (64, 256):
            x = rng.standard_normal((batch, c, h, h)).astype(np.float32)
            w = (rng.standard_normal((o, c, k, k)) * 0.1).astype(np.float32)
            b = rng.standard_normal(o).astype(np.float32)
            for phase in ARGS.phases.split(","):
                chunked = layerwise_pass(x, w, b, pad, phase, conv_batched.CHUNK_BYTES)
                whole = layerwise_pass(x, w, b, pad, phase, 1 << 40)
                reference = torch_pass(x, w, b, pad, phase)
                kw = dict(repeats=ARGS.repeats, seconds=ARGS.seconds)
                vs_whole = harness.compare(lambda: (chunked, whole), **kw)["ratio"]
                vs_torch = harness.compare(lambda: (chunked, reference), **kw)["ratio"]
                print(f"| {name} | {batch} | {phase} | {vs_whole:.2f} | {vs_torch:.2f} |",
                      flush=True)
    print(f"\n(command: python bench/conv_chunks.py {' '.join(sys.argv[1:])})")


if __name__ == "__main__":
    main()
