"""GPT-2 (Radford et al., 2019) from a Hugging Face checkpoint, run in layerwise.

The notes end by generating text with the pre-trained ``gpt2`` of Hugging Face
Transformers; with the checkpoint's files on disk (``config.json``, ``model.safetensors``,
``vocab.json``, ``merges.txt``) the same runs here, offline, without torch:

    from layerwise.models.gpt2 import load_gpt2
    model, tokenizer = load_gpt2("path/to/gpt2")
    generator = text_generation("path/to/gpt2")
    generator("Hello, I'm a language model,", max_length=30, num_return_sequences=2)

or ``layerwise generate path/to/gpt2 --prompt "Hello, I'm a language model,"``.

The architecture is a pre-norm decoder-only transformer: h = wte[token] + wpe[position];
per block h += c_proj(attention(ln_1(h))) (causal, n_head heads), h += MLP(ln_2(h)) with
MLP(x) = c_proj(gelu_tanh(c_fc(x))); logits = ln_f(h) wteᵀ (``lm_head`` tied to ``wte``).
Module and key names are Hugging Face's (``transformer.h.0.attn.c_attn.weight``, ...).
Its ``Conv1D`` layers store weights as (in, out) — the transpose of ``nn.Linear`` — and
compute y = x W + b; the loader keeps that layout. Old checkpoints' keys without the
``transformer.`` prefix and the causal-mask buffers (``attn.bias``, ``attn.masked_bias``)
are accepted; any other missing or unexpected key is an error that lists them.
"""
import json
import math
from pathlib import Path

import numpy as np

from .. import nn
from ..autograd.grad_mode import no_grad
from ..autograd.ops import transpose
from ..autograd.tensor import Tensor
from ..io.safetensors_io import CheckpointError, load_file
from ..nn import functional as F
from ..nn.functional.attention import causal_mask, multi_head_attention_core
from .gpt import KeyValueCache

ACTIVATIONS = {"gelu_new": lambda x: F.gelu(x, approximate="tanh"),
               "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
               "gelu": F.gelu, "relu": F.relu}
DEFAULTS = dict(vocab_size=50257, n_positions=1024, n_embd=768, n_layer=12, n_head=12,
                n_inner=None, activation_function="gelu_new", resid_pdrop=0.1, embd_pdrop=0.1,
                attn_pdrop=0.1, layer_norm_epsilon=1e-5, scale_attn_weights=True,
                scale_attn_by_inverse_layer_idx=False, tie_word_embeddings=True,
                eos_token_id=50256, bos_token_id=50256)


class Conv1D(nn.Module):
    """Hugging Face's GPT-2 "Conv1D": y = x W + b, weight (in_features nx, out_features nf)."""

    def __init__(self, nf, nx):
        super().__init__()
        self.nf = nf
        self.weight = nn.Parameter(np.empty((nx, nf), np.float32))
        self.bias = nn.Parameter(np.zeros(nf, np.float32))
        nn.init.normal_(self.weight, 0.0, 0.02)

    def forward(self, x):
        return F.linear(x, transpose(self.weight, 0, 1), self.bias)


class GPT2Attention(nn.Module):
    def __init__(self, config, layer_idx):
        super().__init__()
        self.embed_dim, self.num_heads = config["n_embd"], config["n_head"]
        if self.embed_dim % self.num_heads:
            raise ValueError(f"GPT2Attention: n_embd must be divisible by n_head, got "
                             f"n_embd={self.embed_dim} and n_head={self.num_heads}")
        self.c_attn = Conv1D(3 * self.embed_dim, self.embed_dim)
        self.c_proj = Conv1D(self.embed_dim, self.embed_dim)
        self.attn_dropout = nn.Dropout(config["attn_pdrop"])
        self.resid_dropout = nn.Dropout(config["resid_pdrop"])
        head_dim = self.embed_dim // self.num_heads
        self.scale = 1.0 / math.sqrt(head_dim) if config["scale_attn_weights"] else 1.0
        if config["scale_attn_by_inverse_layer_idx"]:
            self.scale /= layer_idx + 1

    def forward(self, x, cache=None, index=0):
        qkv = self.c_attn(x)                                    # (N, T, 3E): [Q K V]
        length = x.shape[1]
        dropout = self.attn_dropout.p if self.training else 0.0
        if cache is None:
            mask = Tensor(causal_mask(length, length, x.dtype))
            out, _ = multi_head_attention_core(qkv, None, None, mask, self.num_heads,
                                               batch_first=True, scale=self.scale,
                                               dropout_p=dropout)
        else:
            e, offset, data = self.embed_dim, cache.length, qkv.data
            keys, values = cache.append(index, data[..., e:2 * e], data[..., 2 * e:])
            mask = None if length == 1 else Tensor(
                causal_mask(length, offset + length, x.dtype, offset))
            out, _ = multi_head_attention_core(Tensor(data[..., :e]), Tensor(keys),
                                               Tensor(values), mask, self.num_heads,
                                               batch_first=True, scale=self.scale)
        return self.resid_dropout(self.c_proj(out))


class GPT2MLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        inner = config["n_inner"] or 4 * config["n_embd"]
        self.c_fc = Conv1D(inner, config["n_embd"])
        self.c_proj = Conv1D(config["n_embd"], inner)
        if config["activation_function"] not in ACTIVATIONS:
            raise ValueError(f"GPT2MLP: activation_function {config['activation_function']!r} "
                             f"is not supported (use one of {', '.join(ACTIVATIONS)})")
        self.act = ACTIVATIONS[config["activation_function"]]
        self.dropout = nn.Dropout(config["resid_pdrop"])

    def forward(self, x):
        return self.dropout(self.c_proj(self.act(self.c_fc(x))))


class GPT2Block(nn.Module):
    def __init__(self, config, layer_idx):
        super().__init__()
        eps = config["layer_norm_epsilon"]
        self.ln_1 = nn.LayerNorm(config["n_embd"], eps=eps)
        self.attn = GPT2Attention(config, layer_idx)
        self.ln_2 = nn.LayerNorm(config["n_embd"], eps=eps)
        self.mlp = GPT2MLP(config)

    def forward(self, x, cache=None, index=0):
        x = x + self.attn(self.ln_1(x), cache, index)
        return x + self.mlp(self.ln_2(x))


class GPT2Model(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.wte = nn.Embedding(config["vocab_size"], config["n_embd"])
        self.wpe = nn.Embedding(config["n_positions"], config["n_embd"])
        for table in (self.wte, self.wpe):
            nn.init.normal_(table.weight, 0.0, 0.02)
        self.drop = nn.Dropout(config["embd_pdrop"])
        self.h = nn.ModuleList([GPT2Block(config, i) for i in range(config["n_layer"])])
        self.ln_f = nn.LayerNorm(config["n_embd"], eps=config["layer_norm_epsilon"])

    def forward(self, ids, cache=None):
        offset = 0 if cache is None else cache.length
        positions = np.arange(offset, offset + ids.shape[1], dtype=np.int64)
        x = self.drop(self.wte(ids) + self.wpe(positions))
        for index, block in enumerate(self.h):
            x = block(x, cache, index)
        if cache is not None:
            cache.length += ids.shape[1]
        return self.ln_f(x)


class GPT2LMHeadModel(nn.Module):
    """``forward(input_ids (N, T)) -> logits (N, T, vocab_size)``; Hugging Face's keys."""

    def __init__(self, config=None, **overrides):
        super().__init__()
        self.config = {**DEFAULTS, **(config or {}), **overrides}
        self.block_size = self.config["n_positions"]
        self.transformer = GPT2Model(self.config)
        self.lm_head = nn.Linear(self.config["n_embd"], self.config["vocab_size"], bias=False)
        if self.config["tie_word_embeddings"]:
            self.lm_head.weight = self.transformer.wte.weight

    def _check_ids(self, ids, offset=0):
        array = ids.data if isinstance(ids, Tensor) else np.asarray(ids)
        if array.ndim != 2:
            raise ValueError(f"GPT2LMHeadModel: expected input_ids of shape (N, T), got "
                             f"{tuple(array.shape)}")
        if offset + array.shape[1] > self.block_size:
            raise ValueError(f"GPT2LMHeadModel: {offset + array.shape[1]} positions exceed "
                             f"n_positions={self.block_size}")
        return array

    def forward(self, input_ids):
        return self.lm_head(self.transformer(self._check_ids(input_ids)))

    def new_cache(self, batch=1):
        c = self.config
        return KeyValueCache(c["n_layer"], batch, self.block_size, c["n_embd"],
                             self.transformer.wte.weight.dtype)

    @no_grad()
    def forward_cached(self, input_ids, cache):
        ids = self._check_ids(input_ids, cache.length)
        return self.lm_head(self.transformer(ids, cache))

    @classmethod
    def from_pretrained(cls, directory):
        """The model of a Hugging Face GPT-2 directory (config.json + model.safetensors)."""
        directory = Path(directory)
        config = read_config(directory)
        model = cls(config)
        model.load_hf_state_dict(read_safetensors(directory), source=directory)
        return model.eval()

    def load_hf_state_dict(self, arrays, source="checkpoint"):
        """Load Hugging Face GPT-2 weights (with or without the ``transformer.`` prefix)."""
        state, ignored = {}, (".attn.bias", ".attn.masked_bias")
        for key, value in arrays.items():
            if key.endswith(ignored):
                continue
            name = key if key.startswith(("transformer.", "lm_head.")) else "transformer." + key
            state[name] = value.astype(np.float32) if value.dtype != np.float32 else value
        own = self.state_dict()
        tied = self.config["tie_word_embeddings"]
        if tied and "lm_head.weight" not in state and "transformer.wte.weight" in state:
            state["lm_head.weight"] = state["transformer.wte.weight"]
        missing = sorted(k for k in own if k not in state)
        unexpected = sorted(k for k in state if k not in own)
        if missing or unexpected:
            c = self.config
            raise CheckpointError(
                f"GPT2LMHeadModel: the weights in {source} do not fit the config (n_layer="
                f"{c['n_layer']}, n_embd={c['n_embd']}, vocab_size={c['vocab_size']}): missing "
                f"keys {missing[:8]}{' ...' if len(missing) > 8 else ''}, unexpected keys "
                f"{unexpected[:8]}{' ...' if len(unexpected) > 8 else ''}")
        self.load_state_dict(state, strict=True)
        return self


def read_config(directory):
    path = Path(directory) / "config.json"
    if not path.is_file():
        raise CheckpointError(f"{directory}: no config.json (expected a Hugging Face GPT-2 "
                              f"directory: config.json, model.safetensors, vocab.json, merges.txt)")
    config = json.loads(path.read_text(encoding="utf-8"))
    if config.get("model_type", "gpt2") != "gpt2":
        raise CheckpointError(f"{path}: model_type is {config.get('model_type')!r}, not 'gpt2'")
    return {k: config[k] for k in DEFAULTS if k in config}


def read_safetensors(directory):
    """All tensors of ``model.safetensors`` (or of the shards a ``.index.json`` lists)."""
    directory = Path(directory)
    single, index = directory / "model.safetensors", directory / "model.safetensors.index.json"
    if single.is_file():
        return load_file(single)[0]
    if index.is_file():
        shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
        arrays = {}
        for shard in shards:
            arrays.update(load_file(directory / shard)[0])
        return arrays
    raise CheckpointError(f"{directory}: no model.safetensors (pytorch_model.bin is a pickle, "
                          f"which layerwise never loads: convert it to safetensors)")


def load_gpt2(directory):
    """(GPT2LMHeadModel in eval mode, its byte-level BPE tokenizer) of a GPT-2 directory."""
    from ..text.bpe import BPETokenizer
    return GPT2LMHeadModel.from_pretrained(directory), BPETokenizer.from_directory(directory)


def is_gpt2_directory(path):
    path = Path(path)
    return path.is_dir() and (path / "config.json").is_file() and \
        json.loads((path / "config.json").read_text()).get("model_type") == "gpt2"


def text_generation(directory):
    """A callable like Transformers' ``pipeline("text-generation", model=directory)``."""
    from .generation import generate_ids
    model, tokenizer = load_gpt2(directory)
    eos = model.config.get("eos_token_id")

    def generate(prompt, max_length=50, num_return_sequences=1, do_sample=True,
                 temperature=1.0, top_k=50, top_p=1.0, seed=None):
        ids = tokenizer.encode(prompt)
        results = []
        for k in range(num_return_sequences):
            new = list(generate_ids(model, ids, max(0, max_length - len(ids)),
                                    temperature if do_sample else 0.0, top_k, top_p,
                                    None if seed is None else seed + k, eos_id=eos))
            results.append({"generated_text": prompt + tokenizer.decode(new)})
        return results
    return generate
