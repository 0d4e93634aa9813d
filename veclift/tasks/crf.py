"""Linear-chain CRF for training: forward algorithm (log-partition) and path scores, vectorised over
the batch; decoding (Viterbi, forward-backward) is in `veclift.tasks.decoding`, in NumPy.

Written here rather than taken from pytorch-crf/torchcrf: a few dozen lines, no extra dependency,
and masks for padded batches with any sequence order (checked against brute force in the tests).
"""

from __future__ import annotations

import torch
from torch import nn

DISALLOWED = -1e4
"""The emission score a tag outside a partial target gets: exp(-1e4) is 0 in float32."""


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

    def nll(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor,
            allowed: torch.Tensor | None = None) -> torch.Tensor:  # fmt: skip
        """Negative log-likelihood per sequence -> (B,). With ``allowed`` (B, T, L) bool, partial targets:
        minus the log-probability of all the paths through the allowed tags (``tags`` unused); a token
        allowed one tag only is a plain target."""
        if allowed is None:
            return self.log_partition(emissions, mask) - self.score(emissions, tags, mask)
        kept = emissions.masked_fill(~allowed, DISALLOWED)  # finite: an all-masked step keeps its gradient finite
        return self.log_partition(emissions, mask) - self.log_partition(kept, mask)

    def weights(self) -> dict:
        """The CRF's parameters as NumPy arrays, for `veclift.tasks.decoding.Decoder`."""
        return {"transitions": self.transitions.detach().numpy(), "start": self.start.detach().numpy(),
                "end": self.end.detach().numpy()}
