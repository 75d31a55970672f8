"""The GPT-2 loader against Hugging Face ``transformers`` on a tiny, randomly initialized
GPT-2 saved in the test (no download): same logits, same greedy tokens, its BPE files,
old-style keys, and clear errors for missing or unexpected keys."""
import json

import numpy as np
import pytest

import layerwise as lw
from layerwise.io import CheckpointError
from layerwise.io.safetensors_io import load_file, save_file
from layerwise.models.generation import generate_ids
from layerwise.models.gpt2 import GPT2LMHeadModel, load_gpt2, text_generation
from tests.helpers import assert_close

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")
tokenizers = pytest.importorskip("tokenizers")

TEXT = ("It was the best of times, it was the worst of times, it was the age of wisdom, "
        "it was the age of foolishness, it was the epoch of belief. ") * 30


@pytest.fixture(scope="module")
def gpt2_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tiny-gpt2")
    corpus = directory / "corpus.txt"
    corpus.write_text(TEXT, encoding="utf-8")
    bpe = tokenizers.ByteLevelBPETokenizer()
    bpe.train([str(corpus)], vocab_size=300, min_frequency=2,
              special_tokens=["<|endoftext|>"], show_progress=False)
    bpe.save_model(str(directory))
    vocab_size = bpe.get_vocab_size()
    torch.manual_seed(0)
    config = transformers.GPT2Config(n_layer=2, n_head=2, n_embd=32, vocab_size=vocab_size,
                                     n_positions=64, initializer_range=0.2,
                                     bos_token_id=0, eos_token_id=0)
    model = transformers.GPT2LMHeadModel(config).eval()
    model.save_pretrained(str(directory), safe_serialization=True)
    return directory, model, bpe


def test_same_logits_as_transformers(gpt2_dir):
    directory, reference, _ = gpt2_dir
    model = GPT2LMHeadModel.from_pretrained(directory)
    assert model.lm_head.weight is model.transformer.wte.weight
    ids = np.random.default_rng(0).integers(0, reference.config.vocab_size, (2, 20))
    with torch.no_grad():
        expected = reference(torch.tensor(ids)).logits
    assert_close(model(lw.tensor(ids)), expected, atol=1e-4, rtol=1e-4)
    cache = model.new_cache(2)
    first = model.forward_cached(ids[:, :12], cache).data
    rest = [model.forward_cached(ids[:, t:t + 1], cache).data for t in range(12, 20)]
    assert_close(np.concatenate([first] + rest, axis=1), expected, atol=1e-4, rtol=1e-4)


def test_greedy_generation_yields_transformers_tokens(gpt2_dir):
    directory, reference, _ = gpt2_dir
    model, tokenizer = load_gpt2(directory)
    prompt = tokenizer.encode("it was the age of")
    with torch.no_grad():
        expected = reference.generate(torch.tensor(prompt[None]), max_new_tokens=25,
                                      do_sample=False, pad_token_id=0, eos_token_id=None)
    expected = expected[0, len(prompt):].tolist()
    assert list(generate_ids(model, prompt, 25, temperature=0)) == expected
    assert list(generate_ids(model, prompt, 25, temperature=0, use_cache=False)) == expected
    assert len(set(expected)) > 1


def test_tokenizer_of_the_directory_encodes_like_tokenizers(gpt2_dir):
    directory, _, bpe = gpt2_dir
    _, tokenizer = load_gpt2(directory)
    for text in ("It was the best of times!", "  wisdom,foolishness\n\nbelief 42 é"):
        assert tokenizer.encode(text).tolist() == bpe.encode(text).ids
    generator = text_generation(directory)
    out = generator("it was", max_length=10, num_return_sequences=2, seed=0)
    assert len(out) == 2 and all(o["generated_text"].startswith("it was") for o in out)


def test_original_checkpoint_layout_loads(gpt2_dir, tmp_path):
    """The hub's gpt2 files have keys without 'transformer.' and causal-mask buffers."""
    directory, reference, _ = gpt2_dir
    arrays, _ = load_file(directory / "model.safetensors")
    old = {k.replace("transformer.", ""): v for k, v in arrays.items()}
    for i in range(2):
        old[f"h.{i}.attn.bias"] = np.tril(np.ones((1, 1, 64, 64), np.float32))
    save_file(old, tmp_path / "model.safetensors")
    (tmp_path / "config.json").write_text((directory / "config.json").read_text())
    model = GPT2LMHeadModel.from_pretrained(tmp_path)
    ids = np.arange(10)[None]
    with torch.no_grad():
        expected = reference(torch.tensor(ids)).logits
    assert_close(model(ids), expected, atol=1e-4, rtol=1e-4)


def test_missing_or_unexpected_keys_are_named(gpt2_dir, tmp_path):
    directory, _, _ = gpt2_dir
    arrays, _ = load_file(directory / "model.safetensors")
    del arrays["transformer.h.1.mlp.c_fc.weight"]
    arrays["transformer.h.2.ln_1.weight"] = np.ones(32, np.float32)
    save_file(arrays, tmp_path / "model.safetensors")
    (tmp_path / "config.json").write_text((directory / "config.json").read_text())
    with pytest.raises(CheckpointError, match=r"missing keys \['transformer.h.1.mlp.c_fc.weight'\]"
                                              r", unexpected keys \['transformer.h.2.ln_1.weight'\]"):
        GPT2LMHeadModel.from_pretrained(tmp_path)
    config = json.loads((directory / "config.json").read_text())
    config["model_type"] = "bert"
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="model_type is 'bert', not 'gpt2'"):
        GPT2LMHeadModel.from_pretrained(tmp_path)
    with pytest.raises(CheckpointError, match="no config.json"):
        GPT2LMHeadModel.from_pretrained(tmp_path / "nowhere")


def test_layerwise_generate_runs_a_gpt2_directory(gpt2_dir, capsys):
    from layerwise.cli import main
    directory, _, _ = gpt2_dir
    assert main(["generate", str(directory), "--prompt", "it was", "--length", "8",
                 "--temperature", "0"]) == 0
    greedy = capsys.readouterr().out
    assert main(["generate", str(directory), "--prompt", "it was", "--length", "8",
                 "--temperature", "0", "--no-cache"]) == 0
    assert capsys.readouterr().out == greedy and greedy.startswith("it was")
