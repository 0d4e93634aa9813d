"""Word-level vectors from a sub-word encoder: pooling over sub-tokens, windows for long sentences,
and a mix of the last hidden layers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch

from veclift.contextual.backbone import Backbone
from veclift.errors import VecliftError

POOLINGS = ("first", "mean", "last")


@dataclass(frozen=True)
class PoolingOptions:
    """How sub-token states become one vector per word.

    ``pooling``: which sub-tokens of a word give its vector (first, mean or last);
    ``layers``: average of the last k hidden layers (all of them in an encoder of fewer);
    ``max_length``: window size in sub-tokens, special tokens included (None: the encoder's limit);
    ``stride``: sub-tokens shared by neighbouring windows; ``batch_size``: windows per encoder call."""

    pooling: str = "first"
    layers: int = 1
    max_length: int | None = None
    stride: int = 64
    batch_size: int = 32

    def __post_init__(self) -> None:
        if self.pooling not in POOLINGS:
            raise VecliftError(f"unknown sub-token pooling {self.pooling!r}; use one of {', '.join(POOLINGS)}")
        if self.layers < 1:
            raise VecliftError(f"layers must be at least 1, got {self.layers}")
        if self.stride < 0 or self.batch_size < 1:
            raise VecliftError("stride must be >= 0 and batch_size >= 1")

    def to_dict(self) -> dict:
        return asdict(self)


def plan_windows(piece_counts: Sequence[int], budget: int, stride: int) -> list[tuple[int, int]]:
    """Split a sentence into word ranges [start, end) of at most ``budget`` sub-tokens, neighbours
    sharing up to ``stride`` sub-tokens of whole words. A word longer than the budget sits alone."""
    n = len(piece_counts)
    windows: list[tuple[int, int]] = []
    start = 0
    while start < n:
        end, total = start, 0
        while end < n and total + piece_counts[end] <= budget:
            total += piece_counts[end]
            end += 1
        end = max(end, start + 1)
        windows.append((start, end))
        if end == n:
            break
        next_start, shared = end, 0
        while next_start - 1 > start and shared + piece_counts[next_start - 1] <= stride:
            next_start -= 1
            shared += piece_counts[next_start]
        start = next_start
    return windows


def assign_windows(piece_counts: Sequence[int], windows: Sequence[tuple[int, int]]) -> list[int]:
    """For each word, the window in which it has the most context on its narrower side, ties going to
    the longer window, then the earlier one (the rule BERT uses for overlapping document spans)."""
    starts = [0]
    for count in piece_counts:
        starts.append(starts[-1] + count)
    best = [-1] * len(piece_counts)
    best_context = [-1.0] * len(piece_counts)
    for w, (lo, hi) in enumerate(windows):
        for word in range(lo, hi):
            context = min(starts[word] - starts[lo], starts[hi] - starts[word + 1]) \
                + 0.01 * (starts[hi] - starts[lo])
            if context > best_context[word]:
                best[word], best_context[word] = w, context
    return best


def _piece_counts(backbone: Backbone, sentences: Sequence[Sequence[str]]) -> list[list[int]]:
    encoding = backbone.tokenizer(
        [list(s) for s in sentences], is_split_into_words=True, add_special_tokens=False
    )
    counts = []
    for i, sentence in enumerate(sentences):
        per_word = [0] * len(sentence)
        for word_id in encoding.word_ids(i):
            if word_id is not None:
                per_word[word_id] += 1
        counts.append(per_word)
    return counts


def _clean(backbone: Backbone, sentences: Sequence[Sequence[str]]) -> tuple[list[list[str]], list[list[int]]]:
    """Words the tokenizer drops entirely (control characters, empty strings) become the unknown token."""
    counts = _piece_counts(backbone, sentences)
    unk = backbone.tokenizer.unk_token or "?"
    cleaned = [[w if c else unk for w, c in zip(s, cs)] for s, cs in zip(sentences, counts)]
    if any(0 in cs for cs in counts):
        counts = _piece_counts(backbone, cleaned)
    return cleaned, counts


def _hidden(backbone: Backbone, batch: dict, layers: int) -> torch.Tensor:
    if layers == 1:
        return backbone.model(**batch).last_hidden_state
    states = backbone.model(**batch, output_hidden_states=True).hidden_states
    return torch.stack(states[-min(layers, len(states) - 1) :]).mean(0)  # an encoder of fewer layers: all of them


def encode_words(
    backbone: Backbone, sentences: Sequence[Sequence[str]], options: PoolingOptions = PoolingOptions()
) -> tuple[torch.Tensor, list[int]]:
    """Encode tokenised sentences; returns (word vectors of all sentences stacked, (total_words, dim)),
    and the offsets (n_sentences + 1) of each sentence's rows. Gradients flow when enabled."""
    tokenizer = backbone.tokenizer
    max_length = options.max_length or backbone.max_length
    budget = max_length - tokenizer.num_special_tokens_to_add(pair=False)
    if budget < 1:
        raise VecliftError(f"window length {max_length} leaves no room for words")
    cleaned, counts = _clean(backbone, sentences)

    offsets = [0]
    for sentence in cleaned:
        offsets.append(offsets[-1] + len(sentence))
    # windows: (sentence index, first word, words in the window, rows they fill)
    windows: list[tuple[int, int, list[str], list[int]]] = []
    for i, (sentence, piece_counts) in enumerate(zip(cleaned, counts)):
        spans = plan_windows(piece_counts, budget, min(options.stride, budget - 1))
        owner = assign_windows(piece_counts, spans)
        for w, (lo, hi) in enumerate(spans):
            targets = [offsets[i] + word if owner[word] == w else -1 for word in range(lo, hi)]
            windows.append((i, lo, sentence[lo:hi], targets))
    # Similar lengths batched together waste less on padding.
    windows.sort(key=lambda item: sum(counts[item[0]][item[1]:item[1] + len(item[2])]))

    device = next(backbone.model.parameters()).device
    out = torch.zeros(offsets[-1], backbone.dim, device=device)
    for b in range(0, len(windows), options.batch_size):
        chunk = windows[b:b + options.batch_size]
        batch = tokenizer(
            [words for _, _, words, _ in chunk], is_split_into_words=True, padding=True,
            truncation=True, max_length=max_length, return_tensors="pt",
        ).to(device)
        hidden = _hidden(backbone, dict(batch), options.layers)
        rows, positions, weights = _selection(batch, chunk, options.pooling)
        picked = hidden.reshape(-1, hidden.shape[-1])[positions] * weights.to(device)[:, None]
        out = out.index_add(0, rows.to(device), picked.to(out.dtype))
    return out, offsets


def _selection(batch, chunk, pooling: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Which sub-token states (flat positions in the batch) feed which output rows, with what weight."""
    seq_len = batch["input_ids"].shape[1]
    rows: list[int] = []
    positions: list[int] = []
    weights: list[float] = []
    for k, (_, _, words, targets) in enumerate(chunk):
        pieces: dict[int, list[int]] = {}
        for p, word_id in enumerate(batch.word_ids(k)):
            if word_id is not None:
                pieces.setdefault(word_id, []).append(k * seq_len + p)
        for word_id, target in enumerate(targets):
            if target < 0:
                continue
            if word_id not in pieces:
                raise VecliftError(f"the tokenizer produced no sub-tokens for the word {words[word_id]!r}")
            chosen = pieces[word_id]
            if pooling == "first":
                chosen = chosen[:1]
            elif pooling == "last":
                chosen = chosen[-1:]
            rows.extend([target] * len(chosen))
            positions.extend(chosen)
            weights.extend([1.0 / len(chosen)] * len(chosen))
    return torch.tensor(rows, dtype=torch.long), torch.tensor(positions, dtype=torch.long), torch.tensor(weights)
