"""Operations on whole vector spaces: align, combine, reduce, debias."""

from veclift.vectors.ops.align import AlignmentReport, align, read_dictionary
from veclift.vectors.ops.combine import CombineReport, combine, is_normalized
from veclift.vectors.ops.debias import DebiasReport, bias_direction, debias, direct_bias, weat
from veclift.vectors.ops.reduce import ReduceReport, all_but_the_top, reduce

__all__ = [
    "AlignmentReport",
    "CombineReport",
    "DebiasReport",
    "ReduceReport",
    "align",
    "all_but_the_top",
    "bias_direction",
    "combine",
    "debias",
    "direct_bias",
    "is_normalized",
    "read_dictionary",
    "reduce",
    "weat",
]
