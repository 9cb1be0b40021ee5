#!/usr/bin/env python3
"""The same Llama-style decoder written independently in PyTorch (float64), used by
torch.test.ts to check the engine's logits and gradients. Reads a JSON job from argv[1]
(config, named weights in HF layout [out, in], ids, targets, weights) and prints JSON:
logits and the gradient of every parameter of the weighted mean cross-entropy."""
import json, math, sys

import torch
import torch.nn.functional as F

job = json.load(open(sys.argv[1]))
c = job["config"]
D, H, KH, V = c["dim"], c["nHeads"], c["nKvHeads"], c["vocabSize"]
HD = D // H
B, T = job["batch"], job["T"]
W = {k: torch.tensor(v, dtype=torch.float64).reshape(job["shapes"][k]).requires_grad_() for k, v in job["params"].items()}


def rms(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + c["normEps"]) * w


def rope(x):  # x: B, heads, T, HD
    half = HD // 2
    freq = 1.0 / (c["ropeTheta"] ** (torch.arange(half, dtype=torch.float32) / half))
    ang = (torch.arange(T, dtype=torch.float32)[:, None] * freq[None, :]).double()
    cos, sin = ang.cos(), ang.sin()
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], -1)


ids = torch.tensor(job["ids"]).reshape(B, T)
x = W["model.embed_tokens.weight"][ids]
mask = torch.ones(T, T).tril() == 0
for l in range(c["nLayers"]):
    p = f"model.layers.{l}."
    h = rms(x, W[p + "input_layernorm.weight"])
    q = (h @ W[p + "self_attn.q_proj.weight"].T).view(B, T, H, HD).transpose(1, 2)
    k = (h @ W[p + "self_attn.k_proj.weight"].T).view(B, T, KH, HD).transpose(1, 2)
    v = (h @ W[p + "self_attn.v_proj.weight"].T).view(B, T, KH, HD).transpose(1, 2)
    q, k = rope(q), rope(k)
    k = k.repeat_interleave(H // KH, dim=1)
    v = v.repeat_interleave(H // KH, dim=1)
    att = ((q @ k.transpose(-1, -2)) / math.sqrt(HD)).masked_fill(mask, float("-inf")).softmax(-1)
    y = (att @ v).transpose(1, 2).reshape(B, T, D)
    x = x + y @ W[p + "self_attn.o_proj.weight"].T
    h = rms(x, W[p + "post_attention_layernorm.weight"])
    g = F.silu(h @ W[p + "mlp.gate_proj.weight"].T) * (h @ W[p + "mlp.up_proj.weight"].T)
    x = x + g @ W[p + "mlp.down_proj.weight"].T
head = W.get("lm_head.weight", W["model.embed_tokens.weight"])
logits = rms(x, W["model.norm.weight"]) @ head.T
wts = torch.tensor(job["weights"], dtype=torch.float64)
nll = F.cross_entropy(logits.reshape(-1, V), torch.tensor(job["targets"]), reduction="none")
loss = (nll * wts).sum() / wts.abs().sum()
loss.backward()
print(json.dumps({
    "loss": loss.item(),
    "logits": logits.detach().reshape(-1).tolist(),
    "grads": {k: t.grad.reshape(-1).tolist() for k, t in W.items()},
}))
