"""Issue 9's benchmarks: gpt-mini beside PyTorch, seq2seq with/without attention, the
fortunes classifier beside PyTorch, word2vec neighbours. Each prints a Markdown block
with the command that made it (for BENCHMARKS.md).

- ``gpt-mini``: layerwise and the same architecture in torch.nn (bench/transformer_twins.py),
  from the same initial weights, on the same batches (same seed, same steps, Adam, gradient
  norm clipped at 1): validation loss on the held-out last 10% of the corpus at regular
  steps, the relative gap, then a sample from the layerwise model.
- ``seq2seq``: GRU encoder-decoder without attention, with attention, and a transformer on
  the same generated task; exact-match accuracy by input length.
- ``classifier``: which fortunes file a quote comes from, layerwise and torch twin from the
  same weights and batches; test accuracy.
- ``word2vec``: skip-gram with negative sampling on the fortunes; nearest neighbours.

    python bench/transformers.py                                  # all four (~40 min)
    python bench/transformers.py --only gpt-mini --steps 2000
    python bench/transformers.py --smoke                          # seconds, tiny settings
"""
import argparse
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from transformer_twins import TorchGPTMini, TorchTextClassifier, load_twin  # noqa: E402

import layerwise as lw  # noqa: E402
from layerwise import nn, optim  # noqa: E402
from layerwise.models.generation import sample  # noqa: E402
from layerwise.models.gpt import GPTMini  # noqa: E402
from layerwise.models.text_classifier import TransformerClassifier  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", default="gpt-mini,seq2seq,classifier,word2vec")
    p.add_argument("--text", default="fortunes")
    p.add_argument("--steps", type=int, default=2000, help="gpt-mini training steps")
    p.add_argument("--eval-every", type=int, default=500)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--block", type=int, default=128)
    p.add_argument("--d-model", type=int, default=128)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seq2seq-task", default="reverse")
    p.add_argument("--seq2seq-max-length", type=int, default=30)
    p.add_argument("--seq2seq-samples", type=int, default=30000)
    p.add_argument("--seq2seq-epochs", type=int, default=8)
    p.add_argument("--classifier-epochs", type=int, default=10)
    p.add_argument("--word2vec-epochs", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--smoke", action="store_true", help="tiny settings to check the script")
    args = p.parse_args(argv)
    if args.smoke:
        args.steps, args.eval_every, args.batch, args.block = 6, 3, 4, 16
        args.d_model, args.layers, args.heads = 16, 1, 2
        args.seq2seq_samples, args.seq2seq_epochs, args.seq2seq_max_length = 300, 1, 8
        args.classifier_epochs, args.word2vec_epochs = 1, 1
    return args


ARGS = parse_args()
torch.set_num_threads(os.cpu_count())


def command():
    return "python bench/transformers.py " + " ".join(sys.argv[1:])


# ------------------------------------------------------------------ gpt-mini
def gpt_mini():
    from layerwise.train.run_transformer import _read_text, language_model_data
    config = dict(text=ARGS.text, limit=200_000 if ARGS.smoke else None, val_split=0.1,
                  tokenizer_kind="char", vocab_size=None, min_count=1, block_size=ARGS.block,
                  batch_size=ARGS.batch, seed=ARGS.seed, model_kwargs={})
    tokenizer, train, val = language_model_data(config, _read_text(config))
    lw.manual_seed(ARGS.seed)
    ours = GPTMini(len(tokenizer), ARGS.block, ARGS.layers, ARGS.heads, ARGS.d_model,
                   dropout=ARGS.dropout)
    torch.manual_seed(ARGS.seed)
    twin = load_twin(TorchGPTMini(len(tokenizer), ARGS.block, ARGS.layers, ARGS.heads,
                                  ARGS.d_model, dropout=ARGS.dropout), ours)
    opt_lw = optim.Adam(ours.parameters(), lr=ARGS.lr)
    opt_torch = torch.optim.Adam(twin.parameters(), lr=ARGS.lr)
    rows, wall = [], {"layerwise": 0.0, "torch": 0.0}
    val_batches = list(val)[:4] if ARGS.smoke else list(val)

    def val_loss():
        ours.eval(), twin.eval()
        total_lw = total_torch = 0.0
        with lw.no_grad(), torch.no_grad():
            for x, y in val_batches:
                total_lw += lw.nn.functional.cross_entropy(
                    ours(x).reshape(-1, len(tokenizer)), y.reshape(-1)).item() * y.data.size
                logits = twin(torch.from_numpy(x.data))
                total_torch += torch.nn.functional.cross_entropy(
                    logits.reshape(-1, len(tokenizer)), torch.from_numpy(y.data).reshape(-1)
                ).item() * y.data.size
        ours.train(), twin.train()
        count = sum(y.data.size for _, y in val_batches)
        return total_lw / count, total_torch / count

    step, epoch = 0, 0
    while step < ARGS.steps:
        train.set_epoch(epoch)
        for x, y in train:
            start = time.perf_counter()
            loss = lw.nn.functional.cross_entropy(ours(x).reshape(-1, len(tokenizer)), y.reshape(-1))
            opt_lw.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(ours.parameters(), 1.0)
            opt_lw.step()
            middle = time.perf_counter()
            t_loss = torch.nn.functional.cross_entropy(
                twin(torch.from_numpy(x.data)).reshape(-1, len(tokenizer)),
                torch.from_numpy(y.data).reshape(-1))
            opt_torch.zero_grad()
            t_loss.backward()
            torch.nn.utils.clip_grad_norm_(twin.parameters(), 1.0)
            opt_torch.step()
            wall["layerwise"] += middle - start
            wall["torch"] += time.perf_counter() - middle
            step += 1
            if step % ARGS.eval_every == 0 or step == ARGS.steps:
                a, b = val_loss()
                rows.append((step, loss.item(), t_loss.item(), a, b))
                print(f"  step {step}: validation loss layerwise {a:.4f}, PyTorch {b:.4f}",
                      file=sys.stderr, flush=True)
            if step == ARGS.steps:
                break
        epoch += 1
    text = sample(ours, tokenizer, "The ", 300, temperature=0.8, top_k=40, seed=ARGS.seed)
    print(f"\n### gpt-mini on {ARGS.text} (char tokenizer, {len(tokenizer)} symbols), beside "
          f"PyTorch\n\n{ARGS.layers} layers, {ARGS.heads} heads, d_model {ARGS.d_model}, block "
          f"{ARGS.block}, dropout {ARGS.dropout}, batch {ARGS.batch}, Adam lr {ARGS.lr}, clip 1; "
          f"same initial weights and batches; {train.tokens:,} training characters per epoch, "
          f"validation on the held-out last 10% ({val.tokens:,} characters)\n")
    print("| step | train loss (lw / torch) | validation loss layerwise | validation loss "
          "PyTorch | gap | bits per char (lw) |\n|---|---|---|---|---|---|")
    for step, tl, tt, a, b in rows:
        print(f"| {step} | {tl:.3f} / {tt:.3f} | {a:.4f} | {b:.4f} | {100 * (a - b) / b:+.2f}% | "
              f"{a / math.log(2):.3f} |")
    print(f"\nTraining time: layerwise {wall['layerwise']:.0f} s, PyTorch {wall['torch']:.0f} s "
          f"(ratio {wall['torch'] / max(wall['layerwise'], 1e-9):.2f}).\n\nSample (layerwise, "
          f"prompt \"The \", temperature 0.8, top-k 40):\n\n```\nThe {text}\n```\n\n"
          f"Command: `{command()}`")


# ------------------------------------------------------------------ seq2seq
def seq2seq():
    from layerwise.data.synthetic_tasks import CharCodec, Seq2SeqData, make_pairs
    from layerwise.models import get_model
    from layerwise.train.run_transformer import exact_match_by_length, seq2seq_loss
    task, top = ARGS.seq2seq_task, ARGS.seq2seq_max_length
    train_pairs = make_pairs(task, ARGS.seq2seq_samples, 1, top, seed=ARGS.seed)
    test_pairs = make_pairs(task, max(200, ARGS.seq2seq_samples // 10), 1, top, seed=ARGS.seed + 1)
    codec = CharCodec.for_pairs(train_pairs + test_pairs)
    train, test = Seq2SeqData(train_pairs, codec), Seq2SeqData(test_pairs, codec)
    step = max(1, top // 6)
    buckets = [(a, min(a + step - 1, top)) for a in range(1, top + 1, step)]
    results = {}
    for arch in ("gru", "gru-attention", "transformer"):
        lw.manual_seed(ARGS.seed)
        model = get_model("seq2seq", vocab_size=len(codec), arch=arch, hidden_size=128,
                          d_model=128, nhead=4, num_layers=2, dim_feedforward=256, dropout=0.1)
        opt = optim.Adam(model.parameters(), lr=1e-3)
        start = time.perf_counter()
        for epoch in range(ARGS.seq2seq_epochs):
            rng = np.random.default_rng((ARGS.seed, epoch))
            for src, dec, tgt in train.batches(64, shuffle=True, rng=rng):
                loss = seq2seq_loss(model(src, dec), lw.tensor(tgt))
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
            print(f"  {arch} epoch {epoch + 1}: loss {loss.item():.4f}", file=sys.stderr, flush=True)
        results[arch] = exact_match_by_length(model, test, buckets=buckets)
        results[arch]["seconds"] = time.perf_counter() - start
    print(f"\n### seq2seq: {task} of digit strings (lengths 1-{top}), exact match by input length"
          f"\n\n{len(train):,} training pairs, {ARGS.seq2seq_epochs} epochs, batch 64, Adam 1e-3; "
          f"GRU hidden 128 (Luong attention for gru-attention); transformer d_model 128, 2+2 "
          f"layers, 4 heads; greedy decoding on {len(test):,} fresh pairs\n")
    archs = list(results)
    print("| input length | " + " | ".join(archs) + " |\n|---|" + "---|" * len(archs))
    for i, (lo, hi) in enumerate(buckets):
        cells = [f"{results[a]['by_length'][i][2]:.1%}" for a in archs]
        print(f"| {lo}-{hi} | " + " | ".join(cells) + " |")
    print("| **all** | " + " | ".join(f"**{results[a]['overall']:.1%}**" for a in archs) + " |")
    print("| training time | " + " | ".join(f"{results[a]['seconds']:.0f} s" for a in archs) +
          f" |\n\nCommand: `{command()}`")


# ------------------------------------------------------------------ classifier
def classifier():
    from layerwise.train.run_transformer import FORTUNE_CATEGORIES, fortune_classification
    tokenizer, shift, (x_train, y_train), (x_test, y_test) = fortune_classification(
        FORTUNE_CATEGORIES, "word", 2, None, 128, seed=ARGS.seed)
    if ARGS.smoke:
        x_train, y_train = x_train[:256], y_train[:256]
    options = dict(d_model=64, nhead=4, num_layers=2, dim_feedforward=128, dropout=0.1,
                   max_len=128)
    lw.manual_seed(ARGS.seed)
    ours = TransformerClassifier(len(tokenizer) + shift, len(FORTUNE_CATEGORIES), **options)
    twin = load_twin(TorchTextClassifier(len(tokenizer) + shift, len(FORTUNE_CATEGORIES),
                                         **options), ours)
    opt_lw, opt_torch = optim.Adam(ours.parameters(), 5e-4), torch.optim.Adam(twin.parameters(), 5e-4)
    for epoch in range(ARGS.classifier_epochs):
        order = np.random.default_rng((ARGS.seed, epoch)).permutation(len(x_train))
        for k in range(0, len(order), 32):
            idx = order[k:k + 32]
            loss = lw.nn.functional.cross_entropy(ours(x_train[idx]), lw.tensor(y_train[idx]))
            opt_lw.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(ours.parameters(), 1.0)
            opt_lw.step()
            t_loss = torch.nn.functional.cross_entropy(twin(torch.from_numpy(x_train[idx])),
                                                       torch.from_numpy(y_train[idx]))
            opt_torch.zero_grad()
            t_loss.backward()
            torch.nn.utils.clip_grad_norm_(twin.parameters(), 1.0)
            opt_torch.step()
        print(f"  classifier epoch {epoch + 1}: loss {loss.item():.4f} / {t_loss.item():.4f}",
              file=sys.stderr, flush=True)
    ours.eval(), twin.eval()
    with lw.no_grad(), torch.no_grad():
        acc_lw = float((ours(x_test).data.argmax(1) == y_test).mean())
        acc_torch = float((twin(torch.from_numpy(x_test)).argmax(1).numpy() == y_test).mean())
    majority = np.bincount(y_test).max() / len(y_test)
    print(f"\n### Text classifier: which fortunes file a quote comes from\n\nFiles: "
          f"{', '.join(FORTUNE_CATEGORIES)}; {len(x_train):,} training quotes, {len(x_test):,} "
          f"test; word tokenizer ({len(tokenizer):,} words seen twice or more); transformer "
          f"encoder d_model 64, 2 layers, 4 heads, masked mean pooling; {ARGS.classifier_epochs} "
          f"epochs, batch 32, Adam 5e-4; same initial weights and batches\n")
    print(f"| | test accuracy |\n|---|---|\n| layerwise | **{acc_lw:.2%}** |\n| PyTorch | "
          f"{acc_torch:.2%} |\n| majority class | {majority:.2%} |\n\nCommand: `{command()}`")


# ------------------------------------------------------------------ word2vec
def word2vec():
    from layerwise.text import Word2Vec, load_corpus
    text = load_corpus(ARGS.text)
    if ARGS.smoke:
        text = text[:200_000]
    start = time.perf_counter()
    model = Word2Vec(vector_size=100, window=5, negative=5, min_count=5,
                     epochs=ARGS.word2vec_epochs, seed=ARGS.seed).fit(text)
    seconds = time.perf_counter() - start
    print(f"\n### word2vec (skip-gram, negative sampling) on {ARGS.text}\n\n{len(model.vocab):,} "
          f"words (seen 5+ times), 100 dimensions, window 5, 5 negatives, {ARGS.word2vec_epochs} "
          f"epochs ({seconds:.0f} s); loss per epoch "
          f"{', '.join(f'{v:.3f}' for v in model.losses)}\n")
    print("| word | nearest neighbours (cosine) |\n|---|---|")
    for word in ("man", "woman", "love", "computer", "money", "time", "god", "war", "eat"):
        if word in model:
            print(f"| {word} | " + ", ".join(f"{w} ({c:.2f})" for w, c in
                                           model.most_similar(word, 6)) + " |")
    for a, b, c in (("man", "woman", "king"), ("day", "night", "sun")):
        if all(w in model for w in (a, b, c)):
            best = ", ".join(w for w, _ in model.analogy(a, b, c, 3))
            print(f"\n{a} : {b} :: {c} : {best}")
    print(f"\nCommand: `{command()}`")


def main():
    started = time.time()
    sections = {"gpt-mini": gpt_mini, "seq2seq": seq2seq, "classifier": classifier,
                "word2vec": word2vec}
    for name in ARGS.only.split(","):
        sections[name]()
    print(f"\n({time.time() - started:.0f} s in all)")


if __name__ == "__main__":
    main()
