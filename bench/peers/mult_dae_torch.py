#!/usr/bin/env python3
"""Mult-DAE (Liang et al. 2018) in PyTorch: the peer that bench/train.ts compares against.

Written the way a PyTorch user would: dense float32 batch tensors, nn.Linear layers, autograd,
torch.optim.Adam. Reads the same CSR data the TypeScript bench trained on (written by bench/train.ts)
and prints ONE JSON line: seconds per epoch and the final loss.

usage: mult_dae_torch.py DATA_PREFIX --epochs N --batch-size B --hidden 600 --dim 200 --threads 2
  DATA_PREFIX.json holds {"users", "items"}; DATA_PREFIX.indptr / .indices are int32 little-endian.
"""
import argparse
import json
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class MultDAE(nn.Module):
    def __init__(self, items, hidden, dim, dropout):
        super().__init__()
        dims = [items, *hidden, dim, *reversed(hidden), items]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        h = self.drop(F.normalize(x))
        for i, layer in enumerate(self.layers):
            h = layer(h)
            if i != len(self.layers) - 1:
                h = torch.tanh(h)
        return h


def dense_batch(indptr, indices, users, items):
    """Rows of a CSR matrix as a dense float32 tensor, vectorised (no per-row Python)."""
    starts = indptr[users]
    lengths = indptr[users + 1] - starts
    rows = np.repeat(np.arange(len(users)), lengths)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths) + np.repeat(starts, lengths)
    x = torch.zeros(len(users), items)
    x[torch.from_numpy(rows), torch.from_numpy(indices[offsets].astype(np.int64))] = 1.0
    return x


def main():
    p = argparse.ArgumentParser()
    p.add_argument("data")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=500)
    p.add_argument("--hidden", type=int, nargs="*", default=[600])
    p.add_argument("--dim", type=int, default=200)
    p.add_argument("--dropout", type=float, default=0.5)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    meta = json.load(open(args.data + ".json"))
    indptr = np.fromfile(args.data + ".indptr", dtype="<i4").astype(np.int64)
    indices = np.fromfile(args.data + ".indices", dtype="<i4")
    users, items = meta["users"], meta["items"]

    model = MultDAE(items, args.hidden, args.dim, args.dropout)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    epoch_seconds, loss_value = [], None
    for _ in range(args.epochs):
        start = time.perf_counter()
        model.train()
        order = rng.permutation(users)
        total = 0.0
        for b in range(0, users, args.batch_size):
            x = dense_batch(indptr, indices, order[b:b + args.batch_size], items)
            opt.zero_grad()
            logits = model(x)
            loss = -(F.log_softmax(logits, 1) * x).sum(1).mean()
            loss.backward()
            opt.step()
            total += loss.item() * x.shape[0]
        epoch_seconds.append(time.perf_counter() - start)
        loss_value = total / users
    print(json.dumps({
        "peer": "pytorch",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "epochs": args.epochs,
        "seconds_per_epoch": epoch_seconds,
        "loss": loss_value,
    }))


if __name__ == "__main__":
    main()
