"""PyTorch twins of layerwise's transformer models: the same architecture from torch.nn,
with the same state_dict keys, so both start from the same weights (benchmarks only)."""
import numpy as np
import torch


class TorchGPTMini(torch.nn.Module):
    """gpt-mini in torch.nn (learned positions, pre-norm GELU layers, tied output)."""

    def __init__(self, vocab_size, block_size, n_layer, n_head, d_model, dim_feedforward=None,
                 dropout=0.1):
        super().__init__()
        self.block_size = block_size
        self.token_embedding = torch.nn.Embedding(vocab_size, d_model)
        self.position = torch.nn.Module()
        self.position.embedding = torch.nn.Embedding(block_size, d_model)
        self.position.dropout = torch.nn.Dropout(dropout)
        layer = torch.nn.TransformerEncoderLayer(d_model, n_head, dim_feedforward or 4 * d_model,
                                                 dropout, activation="gelu", batch_first=True,
                                                 norm_first=True)
        self.transformer = torch.nn.TransformerEncoder(layer, n_layer,
                                                       norm=torch.nn.LayerNorm(d_model),
                                                       enable_nested_tensor=False)
        self.lm_head = torch.nn.Linear(d_model, vocab_size, bias=False)
        self.lm_head.weight = self.token_embedding.weight

    def forward(self, ids):
        length = ids.shape[1]
        x = self.token_embedding(ids) + self.position.embedding(torch.arange(length))
        x = self.position.dropout(x)
        mask = torch.nn.Transformer.generate_square_subsequent_mask(length)
        return self.lm_head(self.transformer(x, mask=mask, is_causal=True))

    @torch.no_grad()
    def forward_cached(self, ids, cache):
        """Logits of new tokens after the cached positions (cache: list of [K, V] per layer)."""
        offset, length = cache["length"], ids.shape[1]
        x = self.token_embedding(ids) + self.position.embedding(
            torch.arange(offset, offset + length))
        for index, layer in enumerate(self.transformer.layers):
            attn = layer.self_attn
            h = layer.norm1(x)
            q, k, v = torch.nn.functional.linear(h, attn.in_proj_weight,
                                                 attn.in_proj_bias).chunk(3, dim=-1)
            keys, values = cache["layers"][index]
            keys[:, offset:offset + length], values[:, offset:offset + length] = k, v
            n, heads = ids.shape[0], attn.num_heads

            def split(t, steps):
                return t.reshape(n, steps, heads, -1).transpose(1, 2)
            mask = None
            if length > 1:
                mask = torch.ones(length, offset + length, dtype=torch.bool).tril(offset)
            out = torch.nn.functional.scaled_dot_product_attention(
                split(q, length), split(keys[:, :offset + length], offset + length),
                split(values[:, :offset + length], offset + length), attn_mask=mask)
            out = out.transpose(1, 2).reshape(n, length, -1)
            x = x + attn.out_proj(out)
            x = x + layer.linear2(layer.activation(layer.linear1(layer.norm2(x))))
        cache["length"] += length
        return self.lm_head(self.transformer.norm(x))

    def new_cache(self, batch=1):
        width = self.token_embedding.weight.shape[1]
        return {"length": 0, "layers": [[torch.zeros(batch, self.block_size, width),
                                         torch.zeros(batch, self.block_size, width)]
                                        for _ in self.transformer.layers]}


@torch.no_grad()
def torch_generate(model, prompt, new_tokens, use_cache=True):
    """Greedy tokens from the torch twin (same context policy as layerwise's generate_ids)."""
    model.eval()
    ids, block = list(prompt), model.block_size
    cache, start, out = None, max(0, len(ids) - block), []
    for step in range(new_tokens):
        if not use_cache:
            last = model(torch.tensor([ids[start:]]))[0, -1]
        elif cache is None:
            cache = model.new_cache()
            last = model.forward_cached(torch.tensor([ids[start:]]), cache)[0, -1]
        token = int(last.argmax())
        ids.append(token)
        out.append(token)
        if step + 1 == new_tokens:
            break
        if len(ids) - start > block:
            start, cache = len(ids) - block // 2, None
        elif use_cache:
            last = model.forward_cached(torch.tensor([[token]]), cache)[0, -1]
    return out


class TorchTextClassifier(torch.nn.Module):
    """text-classifier in torch.nn (same keys as layerwise.models.text_classifier)."""

    def __init__(self, vocab_size, num_classes, d_model=64, nhead=4, num_layers=2,
                 dim_feedforward=128, dropout=0.1, max_len=128):
        super().__init__()
        self.max_len = max_len
        self.embedding = torch.nn.Embedding(vocab_size, d_model, padding_idx=0)
        self.position = torch.nn.Module()
        self.position.embedding = torch.nn.Embedding(max_len, d_model)
        self.position.dropout = torch.nn.Dropout(dropout)
        layer = torch.nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout,
                                                 activation="gelu", batch_first=True,
                                                 norm_first=True)
        self.encoder = torch.nn.TransformerEncoder(layer, num_layers,
                                                   norm=torch.nn.LayerNorm(d_model),
                                                   enable_nested_tensor=False)
        self.classifier = torch.nn.Linear(d_model, num_classes)

    def forward(self, ids):
        ids = ids[:, :self.max_len]
        padding = ids == 0
        padding[:, 0] &= ~padding.all(dim=1)
        x = self.embedding(ids) + self.position.embedding(torch.arange(ids.shape[1]))
        h = self.encoder(self.position.dropout(x), src_key_padding_mask=padding)
        keep = (~padding).float()[:, :, None]
        return self.classifier((h * keep).sum(1) / keep.sum(1))


def load_twin(twin, model):
    """Copy a layerwise model's weights into its torch twin (strict: same keys)."""
    twin.load_state_dict({k: torch.from_numpy(np.array(v.numpy())) for k, v in
                          model.state_dict().items()}, strict=True)
    return twin
