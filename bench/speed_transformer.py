"""Transformer speed of layerwise beside PyTorch, as ratios (to merge into speed.py).

- ``layer``: one training step of ``nn.TransformerEncoderLayer`` (batch 32, sequence 128,
  d_model 256, 4 heads, feed-forward 2048, dropout 0.1, batch_first; forward, mean-square
  loss, backward, Adam step), the same weights and input in both frameworks;
- ``generate``: gpt-mini (4 layers, d_model 128, 4 heads, block 256) greedily writing
  ``--new-tokens`` tokens after a ``--prompt-tokens``-token prompt, with and without the
  key/value cache, beside the same model in torch.nn (cached: the same incremental
  step written with torch ops; uncached: re-running the prefix), as tokens/s.

Timed in ~1 s blocks, layerwise and PyTorch interleaved (``harness.compare``), fresh
models per repeat, the same number of threads; ratio = layerwise's throughput over
PyTorch's (> 1: layerwise is faster), the median of the per-pair ratios. ``--profile``
shows where layerwise's layer step spends its time, part by part.

    python bench/speed_transformer.py                                   # layer + generate
    python bench/speed_transformer.py --phases layer --profile
    python bench/speed_transformer.py --seconds 0.3 --repeats 2 --batch 4 --seq-len 32 \\
        --new-tokens 8                                                   # smoke test
"""
import argparse
import os
import sys
import time


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--phases", default="layer,generate", help="comma list of layer, generate")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seq-len", type=int, default=128)
    p.add_argument("--d-model", type=int, default=256)
    p.add_argument("--nhead", type=int, default=4)
    p.add_argument("--dim-feedforward", type=int, default=2048)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--prompt-tokens", type=int, default=32)
    p.add_argument("--new-tokens", type=int, default=64)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--seconds", type=float, default=1.0, help="length of one timed block")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--profile", action="store_true", help="time layerwise's parts too")
    return p.parse_args(argv)


ARGS = parse_args()
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)
os.environ["LAYERWISE_NUM_THREADS"] = str(ARGS.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from transformer_twins import TorchGPTMini, load_twin, torch_generate  # noqa: E402

import layerwise as lw  # noqa: E402
from layerwise import nn, optim  # noqa: E402
from layerwise.models.generation import generate_ids  # noqa: E402
from layerwise.models.gpt import GPTMini  # noqa: E402

torch.set_num_threads(ARGS.threads)


def layer_step(framework, seed=0):
    """A fresh encoder layer (same weights in both frameworks) and its training step."""
    lw.manual_seed(seed)
    options = dict(dim_feedforward=ARGS.dim_feedforward, dropout=ARGS.dropout, batch_first=True)
    ours = nn.TransformerEncoderLayer(ARGS.d_model, ARGS.nhead, **options)
    x = np.random.default_rng(seed).standard_normal(
        (ARGS.batch, ARGS.seq_len, ARGS.d_model)).astype(np.float32)
    if framework == "torch":
        module = torch.nn.TransformerEncoderLayer(ARGS.d_model, ARGS.nhead, **options)
        module.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                                for k, v in ours.state_dict().items()})
        tensor, opt = torch.from_numpy(x), torch.optim.Adam(module.parameters(), lr=1e-4)
    else:
        module, tensor, opt = ours, lw.tensor(x), optim.Adam(ours.parameters(), lr=1e-4)

    def step():
        opt.zero_grad()
        y = module(tensor)
        (y * y).mean().backward()
        opt.step()
    return step


GPT = dict(vocab_size=96, block_size=256, n_layer=4, n_head=4, d_model=128, dropout=0.0)


def generation_step(framework, use_cache, seed=0):
    lw.manual_seed(seed)
    model = GPTMini(**GPT).eval()
    prompt = np.random.default_rng(seed).integers(0, GPT["vocab_size"], ARGS.prompt_tokens).tolist()
    if framework == "torch":
        twin = load_twin(TorchGPTMini(GPT["vocab_size"], GPT["block_size"], GPT["n_layer"],
                                      GPT["n_head"], GPT["d_model"], dropout=0.0), model).eval()
        return lambda: torch_generate(twin, prompt, ARGS.new_tokens, use_cache)
    return lambda: list(generate_ids(model, prompt, ARGS.new_tokens, temperature=0,
                                     use_cache=use_cache))


def best_ms(fn, repeats=5):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * min(times)


def profile():
    """Where a layerwise encoder-layer training step's time goes (best of 5, ms)."""
    import layerwise.nn.functional as F
    from layerwise.nn.functional.attention import multi_head_attention_core
    n, t, e, f = ARGS.batch, ARGS.seq_len, ARGS.d_model, ARGS.dim_feedforward
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n * t, e)).astype(np.float32)
    w_in, w_out = rng.standard_normal((3 * e, e)).astype(np.float32), \
        rng.standard_normal((e, e)).astype(np.float32)
    w1, w2 = rng.standard_normal((f, e)).astype(np.float32), \
        rng.standard_normal((e, f)).astype(np.float32)
    hidden = rng.standard_normal((n * t, f)).astype(np.float32)
    gemms = {"in_proj": (x, w_in), "out_proj": (x, w_out), "linear1": (x, w1),
             "linear2": (hidden, w2)}
    rows = {}
    for name, (a, w) in gemms.items():
        g = rng.standard_normal((a.shape[0], w.shape[0])).astype(np.float32)
        rows[f"{name} GEMMs (forward + 2 backward)"] = best_ms(
            lambda a=a, w=w, g=g: (a @ w.T, g @ w, g.T @ a))
    qkv = lw.tensor(rng.standard_normal((n, t, 3 * e)).astype(np.float32), requires_grad=True)

    def attention():
        out, _ = multi_head_attention_core(qkv, None, None, None, ARGS.nhead, True,
                                           dropout_p=ARGS.dropout)
        out.backward(lw.ones_like(out))
    rows["attention core (softmax(QKᵀ)V, dropout; fwd + bwd)"] = best_ms(attention)
    h = lw.tensor(hidden, requires_grad=True)

    def act_dropout():
        y = F.activation_dropout(h, "relu", ARGS.dropout)
        y.backward(lw.ones_like(y))
    rows["ReLU + dropout on (tokens, ff) (fwd + bwd)"] = best_ms(act_dropout)
    xt = lw.tensor(x, requires_grad=True)
    norm = nn.LayerNorm(e)

    def layer_norms():
        for _ in range(2):
            y = norm(xt)
            y.backward(lw.ones_like(y))
    rows["2 LayerNorms (fwd + bwd)"] = best_ms(layer_norms)

    def residual_dropouts():
        for _ in range(2):
            y = F.dropout(xt, ARGS.dropout) + xt
            y.backward(lw.ones_like(y))
    rows["2 residual dropouts + adds (fwd + bwd)"] = best_ms(residual_dropouts)
    total = best_ms(layer_step("layerwise"))
    print(f"\nWhere layerwise's encoder-layer training step goes (batch {n}, seq {t}, d_model "
          f"{e}, ff {f}; best of 5, ms, each part alone):\n")
    print("| part | ms |\n|---|---|")
    for name, ms in rows.items():
        print(f"| {name} | {ms:.1f} |")
    print(f"| sum of the parts | {sum(rows.values()):.1f} |")
    print(f"| whole step (with Adam, graph, copies) | {total:.1f} |")


def main():
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    started = time.time()
    phases = ARGS.phases.split(",")
    print(f"{ARGS.threads} threads; NumPy {np.__version__}, PyTorch {torch.__version__}\n")
    print("| benchmark | layerwise | PyTorch | ratio | pairs (min-max) |")
    print("|---|---|---|---|---|")

    def row(name, unit, scale, result):
        line = (f"| {name} | {result['a'] * scale:,.1f} {unit} | {result['b'] * scale:,.1f} "
                f"{unit} | **{result['ratio']:.2f}** | {min(result['ratios']):.2f}-"
                f"{max(result['ratios']):.2f} |")
        if result["loaded"]:
            line += f" ({result['loaded']} blocks still under foreign load)"
        print(line, flush=True)
    if "layer" in phases:
        r = harness.compare(lambda: (layer_step("layerwise"), layer_step("torch")),
                            ARGS.repeats, ARGS.seconds, log=log)
        row(f"TransformerEncoderLayer train step (batch {ARGS.batch}, seq {ARGS.seq_len}, "
            f"d_model {ARGS.d_model}, {ARGS.nhead} heads, ff {ARGS.dim_feedforward})",
            "steps/s", 1, r)
    if "generate" in phases:
        for use_cache in (True, False):
            r = harness.compare(lambda: (generation_step("layerwise", use_cache),
                                         generation_step("torch", use_cache)),
                                ARGS.repeats, ARGS.seconds, log=log)
            row(f"gpt-mini greedy generation, {'with' if use_cache else 'without'} KV cache "
                f"({ARGS.new_tokens} tokens after {ARGS.prompt_tokens})", "tokens/s",
                ARGS.new_tokens, r)
    if ARGS.profile:
        profile()
    print(f"\n({time.time() - started:.0f} s; command: python bench/speed_transformer.py "
          f"{' '.join(sys.argv[1:])})")


if __name__ == "__main__":
    main()
