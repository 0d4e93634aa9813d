"""Linear-chain CRF for training: forward algorithm (log-partition) and path scores, vectorised over
the batch; decoding (Viterbi, forward-backward) is in `veclift.tasks.decoding`, in NumPy.

Written here rather than taken from pytorch-crf/torchcrf: a few dozen lines, no extra dependency,
and masks for padded batches with any sequence order (checked against brute force in the tests).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

DISALLOWED = -1e4
"""The emission score a tag outside a partial target gets: exp(-1e4) is 0 in float32."""


class CRF(nn.Module):
    """Scores ``start[y0] + sum_t emit[t, y_t] + sum_t trans[y_{t-1}, y_t] + end[y_last]``.

    With ``constraints`` (``allowed[from][to]``, ``start_allowed[to]``, as
    `veclift.data.schemes.iob2_transitions` gives them), a forbidden transition or first tag scores
    `DISALLOWED` in training and decoding alike, as allennlp's ``allowed_transitions`` do; the mask is
    rebuilt from the labels, not saved."""

    def __init__(self, n_tags: int, constraints: tuple[Sequence[Sequence[bool]], Sequence[bool]] | None = None):
        super().__init__()
        self.n_tags = n_tags
        self.transitions = nn.Parameter(torch.zeros(n_tags, n_tags))  # [from, to]
        self.start = nn.Parameter(torch.zeros(n_tags))
        self.end = nn.Parameter(torch.zeros(n_tags))
        self.constrained = constraints is not None
        if constraints is not None:
            allowed, start_allowed = (torch.tensor(c, dtype=torch.bool) for c in constraints)
            if allowed.shape != (n_tags, n_tags) or start_allowed.shape != (n_tags,):
                raise ValueError(f"constraints must be {n_tags} x {n_tags} and {n_tags}")
            self.register_buffer("transition_mask", torch.where(allowed, 0.0, DISALLOWED), persistent=False)
            self.register_buffer("start_mask", torch.where(start_allowed, 0.0, DISALLOWED), persistent=False)

    def scores(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(transitions, start) as the model scores them: the forbidden ones at `DISALLOWED`."""
        if not self.constrained:
            return self.transitions, self.start
        return self.transitions + self.transition_mask, self.start + self.start_mask

    def log_partition(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """log Z per sequence: (B, T, L) emissions, (B, T) mask with mask[:, 0] true -> (B,)."""
        transitions, start = self.scores()
        # One unbind rather than a slice per step: each slice's backward writes a zeroed (B, T, L) tensor.
        emits, keeps = emissions.unbind(1), mask[:, :, None].unbind(1)
        alpha = start + emits[0]
        for emit, keep in zip(emits[1:], keeps[1:]):
            step = torch.logsumexp(alpha[:, :, None] + transitions, dim=1) + emit
            alpha = torch.where(keep, step, alpha)
        return torch.logsumexp(alpha + self.end, dim=1)

    def score(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Unnormalised score of the given tag sequences -> (B,)."""
        transitions, start = self.scores()
        m = mask.to(emissions.dtype)
        emit = emissions.gather(2, tags[..., None]).squeeze(2)
        total = start[tags[:, 0]] + (emit * m).sum(1)
        total = total + (transitions[tags[:, :-1], tags[:, 1:]] * m[:, 1:]).sum(1)
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
        """The CRF's scores as NumPy arrays (constraints applied), for `veclift.tasks.decoding.Decoder`."""
        transitions, start = self.scores()
        return {"transitions": transitions.detach().numpy(), "start": start.detach().numpy(),
                "end": self.end.detach().numpy()}
