"""Linear-chain CRF: forward algorithm (log-partition) and batched Viterbi, vectorised over the batch.

Written here rather than taken from pytorch-crf/torchcrf: a few dozen lines, no extra dependency,
and masks for padded batches with any sequence order (checked against brute force in the tests).
"""

from __future__ import annotations

import torch
from torch import nn


class CRF(nn.Module):
    """Scores ``start[y0] + sum_t emit[t, y_t] + sum_t trans[y_{t-1}, y_t] + end[y_last]``."""

    def __init__(self, n_tags: int):
        super().__init__()
        self.n_tags = n_tags
        self.transitions = nn.Parameter(torch.zeros(n_tags, n_tags))  # [from, to]
        self.start = nn.Parameter(torch.zeros(n_tags))
        self.end = nn.Parameter(torch.zeros(n_tags))

    def log_partition(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """log Z per sequence: (B, T, L) emissions, (B, T) mask with mask[:, 0] true -> (B,)."""
        alpha = self.start + emissions[:, 0]
        for t in range(1, emissions.shape[1]):
            step = torch.logsumexp(alpha[:, :, None] + self.transitions, dim=1) + emissions[:, t]
            alpha = torch.where(mask[:, t, None], step, alpha)
        return torch.logsumexp(alpha + self.end, dim=1)

    def score(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Unnormalised score of the given tag sequences -> (B,)."""
        m = mask.to(emissions.dtype)
        emit = emissions.gather(2, tags[..., None]).squeeze(2)
        total = self.start[tags[:, 0]] + (emit * m).sum(1)
        total = total + (self.transitions[tags[:, :-1], tags[:, 1:]] * m[:, 1:]).sum(1)
        last = tags.gather(1, (mask.sum(1) - 1).clamp(min=0)[:, None]).squeeze(1)
        return total + self.end[last]

    def nll(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Negative log-likelihood per sequence -> (B,)."""
        return self.log_partition(emissions, mask) - self.score(emissions, tags, mask)

    @torch.no_grad()
    def viterbi(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Best tag sequences (B, T); positions beyond each length hold arbitrary tags."""
        score = self.start + emissions[:, 0]
        history = []
        for t in range(1, emissions.shape[1]):
            best, index = (score[:, :, None] + self.transitions).max(dim=1)
            score = torch.where(mask[:, t, None], best + emissions[:, t], score)
            history.append(index)
        current = (score + self.end).argmax(dim=1)
        lengths = mask.sum(1)
        path = torch.empty(mask.shape, dtype=torch.long)
        for t in range(emissions.shape[1] - 1, -1, -1):
            path[:, t] = current
            if t > 0:
                previous = history[t - 1].gather(1, current[:, None]).squeeze(1)
                current = torch.where(t < lengths, previous, current)
        return path
