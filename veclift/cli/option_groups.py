"""Options declared once as a group and handed to a command as one dict (e.g. a trainer's hyperparameters)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable

import typer

# name -> (type, typer option); the names are those of the keyword arguments the values are meant for
Options = dict[str, tuple[object, typer.models.OptionInfo]]


def with_options(options: Options) -> Callable[[Callable], Callable]:
    """Give a command the ``options`` (listed after its arguments) and pass it their values as one dict,
    its keyword-only parameter ``options``."""

    def decorate(command: Callable) -> Callable:
        own = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
               for p in inspect.signature(command, eval_str=True).parameters.values() if p.name != "options"]  # fmt: skip
        added = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=kind)
                 for name, (kind, option) in options.items()]  # fmt: skip
        arguments = sum(isinstance(p.default, typer.models.ArgumentInfo) for p in own)

        @functools.wraps(command)
        def run(**values):
            return command(options={name: values.pop(name) for name in options}, **values)

        run.__signature__ = inspect.Signature([*own[:arguments], *added, *own[arguments:]])
        return run

    return decorate
