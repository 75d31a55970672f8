"""How fast do layerwise and PyTorch part when they train the same tanh RNN? (issue 8)

The rnn-classifier (one tanh RNN layer of 128 units over 28 steps of sequential
Fashion-MNIST, Adam 1e-3, batch 64) is trained in both frameworks from the same initial
weights on the same batches, step by step, and the largest difference between their
weights is printed every ``--every`` steps, in float32 and in float64. If the two
computed the same function, the float64 runs stay together to ~1e-12 while float32
rounding (1e-7 per step) grows as fast as the training dynamics amplify it.

    python bench/rnn_divergence.py                  # 1,000 steps per dtype, about 2 min
    python bench/rnn_divergence.py --cell lstm
"""
import argparse
import os
import sys

import harness  # bench/ is on sys.path when a script here runs; imports no numpy

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("--cell", default="rnn", choices=["rnn", "lstm", "gru"])
p.add_argument("--steps", type=int, default=1000)
p.add_argument("--every", type=int, default=100)
p.add_argument("--seed", type=int, default=0)
p.add_argument("--threads", type=int, default=os.cpu_count())
ARGS = p.parse_args()
harness.use_threads(ARGS.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_sequence_models  # noqa: E402

import layerwise as lw  # noqa: E402
from layerwise import nn, optim  # noqa: E402
from layerwise.data import DataLoader, get_dataset  # noqa: E402
from layerwise.models import get_model  # noqa: E402

torch.set_num_threads(ARGS.threads)


def largest_difference(model, twin):
    theirs = {k: v.detach().numpy() for k, v in twin.state_dict().items()}
    return max(float(np.abs(v.numpy() - theirs[k]).max()) for k, v in model.state_dict().items())


def run(dtype):
    kwargs = dict(input_size=28, hidden_size=128, num_layers=1, num_classes=10, cell=ARGS.cell)
    lw.manual_seed(ARGS.seed)
    model = get_model("rnn-classifier", **kwargs)
    twin = torch_sequence_models.twin("rnn-classifier", model, **kwargs)
    if dtype == np.float64:
        model.double()
        twin.double()
    opt, topt = optim.Adam(model.parameters(), lr=1e-3), torch.optim.Adam(twin.parameters(), lr=1e-3)
    train = get_dataset("fashion-mnist", train=True)
    loader = DataLoader(train, 64, shuffle=True, seed=ARGS.seed, as_tensors=False)
    rows, step = [], 0
    while step < ARGS.steps:
        for x, y in loader:
            x = x.astype(dtype)
            loss = nn.functional.cross_entropy(model(lw.tensor(x)), lw.tensor(y))
            opt.zero_grad()
            loss.backward()
            opt.step()
            tloss = torch.nn.functional.cross_entropy(twin(torch.from_numpy(x)), torch.from_numpy(y))
            topt.zero_grad()
            tloss.backward()
            topt.step()
            step += 1
            if step % ARGS.every == 0 or step == 1:
                rows.append((step, loss.item(), tloss.item(), largest_difference(model, twin)))
            if step == ARGS.steps:
                break
    return rows


def main():
    print(f"### {ARGS.cell} rnn-classifier, layerwise vs PyTorch from the same start, seed {ARGS.seed}\n")
    print("| dtype | step | loss (layerwise) | loss (PyTorch) | largest weight difference |")
    print("|---|---|---|---|---|")
    for dtype in (np.float64, np.float32):
        for step, loss, tloss, diff in run(dtype):
            print(f"| {np.dtype(dtype).name} | {step} | {loss:.6f} | {tloss:.6f} | {diff:.2e} |",
                  flush=True)
    print(f"\nCommand: `python bench/rnn_divergence.py {' '.join(sys.argv[1:])}`".rstrip())


if __name__ == "__main__":
    main()
