#!/usr/bin/env python3
"""The same Llama-style decoder written independently in PyTorch (float64), used by the
engine's tests. Two jobs, read as JSON from argv[1]:

- torch.test.ts: config, named weights in HF layout [out, in], ids, targets, weights →
  logits and the gradient of every parameter of the weighted mean cross-entropy.
- hf-torch.test.ts ({"hf": [{"dir": DIR, "sequences": [[ids]...]}, ...]}): model directories as
  transformers reads it — config.json's HF keys and the tensors of model.safetensors, parsed
  here with nothing but json and struct — → per sequence the logits of every position and,
  for a sequence classifier (`score.weight`), the score at the last token."""
import json, math, struct, sys

import torch
import torch.nn.functional as F


def rms(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope(x, theta, T):  # x: B, heads, T, HD
    HD = x.shape[-1]
    half = HD // 2
    freq = 1.0 / (theta ** (torch.arange(half, dtype=torch.float32) / half))
    ang = (torch.arange(T, dtype=torch.float32)[:, None] * freq[None, :]).double()
    cos, sin = ang.cos(), ang.sin()
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], -1)


def forward(W, c, ids):
    """ids: [B, T] → (logits [B, T, V], final hidden state after the last norm [B, T, D])."""
    D, H, KH = c["dim"], c["nHeads"], c["nKvHeads"]
    HD = D // H
    B, T = ids.shape
    x = W["model.embed_tokens.weight"][ids]
    mask = torch.ones(T, T).tril() == 0
    for l in range(c["nLayers"]):
        p = f"model.layers.{l}."
        h = rms(x, W[p + "input_layernorm.weight"], c["normEps"])

        def proj(name):
            y = h @ W[p + f"self_attn.{name}.weight"].T
            return y + W[p + f"self_attn.{name}.bias"] if p + f"self_attn.{name}.bias" in W else y

        q = proj("q_proj").view(B, T, H, HD).transpose(1, 2)
        k = proj("k_proj").view(B, T, KH, HD).transpose(1, 2)
        v = proj("v_proj").view(B, T, KH, HD).transpose(1, 2)
        q, k = rope(q, c["ropeTheta"], T), rope(k, c["ropeTheta"], T)
        k = k.repeat_interleave(H // KH, dim=1)
        v = v.repeat_interleave(H // KH, dim=1)
        att = ((q @ k.transpose(-1, -2)) / math.sqrt(HD)).masked_fill(mask, float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, D)
        x = x + y @ W[p + "self_attn.o_proj.weight"].T
        h = rms(x, W[p + "post_attention_layernorm.weight"], c["normEps"])
        g = F.silu(h @ W[p + "mlp.gate_proj.weight"].T) * (h @ W[p + "mlp.up_proj.weight"].T)
        x = x + g @ W[p + "mlp.down_proj.weight"].T
    hidden = rms(x, W["model.norm.weight"], c["normEps"])
    head = W.get("lm_head.weight", W["model.embed_tokens.weight"])
    return hidden @ head.T, hidden


def read_safetensors(path):
    """name → float64 tensor, from the format's 8-byte header length, JSON header, raw F32."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        assert e["dtype"] == "F32", f"{name}: dtype {e['dtype']}"
        a, b = e["data_offsets"]
        t = torch.frombuffer(bytearray(data[8 + n + a : 8 + n + b]), dtype=torch.float32)
        out[name] = t.double().reshape(e["shape"])
    return out


def hf_model(job):
    d = job["dir"]
    hc = json.load(open(f"{d}/config.json"))
    assert hc["hidden_act"] == "silu" and hc.get("rope_scaling") is None
    c = {
        "dim": hc["hidden_size"],
        "nHeads": hc["num_attention_heads"],
        "nKvHeads": hc.get("num_key_value_heads") or hc["num_attention_heads"],
        "nLayers": hc["num_hidden_layers"],
        "normEps": hc["rms_norm_eps"],
        "ropeTheta": hc.get("rope_theta", 10000.0),
    }
    assert hc.get("head_dim", c["dim"] // c["nHeads"]) == c["dim"] // c["nHeads"]
    W = read_safetensors(f"{d}/model.safetensors")
    if hc.get("tie_word_embeddings"):
        W.pop("lm_head.weight", None)
    out = []
    for seq in job["sequences"]:
        logits, hidden = forward(W, c, torch.tensor([seq]))
        r = {"logits": logits[0].reshape(-1).tolist()}
        if "score.weight" in W:
            r["score"] = (hidden[0, -1] @ W["score.weight"].T).item()
        out.append(r)
    return {"architectures": hc["architectures"], "results": out}


def grad_job(job):
    c = job["config"]
    V = c["vocabSize"]
    B, T = job["batch"], job["T"]
    W = {k: torch.tensor(v, dtype=torch.float64).reshape(job["shapes"][k]).requires_grad_() for k, v in job["params"].items()}
    logits, _ = forward(W, c, torch.tensor(job["ids"]).reshape(B, T))
    wts = torch.tensor(job["weights"], dtype=torch.float64)
    nll = F.cross_entropy(logits.reshape(-1, V), torch.tensor(job["targets"]), reduction="none")
    loss = (nll * wts).sum() / wts.abs().sum()
    loss.backward()
    return {
        "loss": loss.item(),
        "logits": logits.detach().reshape(-1).tolist(),
        "grads": {k: t.grad.reshape(-1).tolist() for k, t in W.items()},
    }


job = json.load(open(sys.argv[1]))
print(json.dumps([hf_model(m) for m in job["hf"]] if "hf" in job else grad_job(job)))
