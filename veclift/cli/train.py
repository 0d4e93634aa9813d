"""`veclift train TASK`: one command per registered task, its options made from the task's settings
(`veclift.tasks.settings`), reading a config file, dotted overrides and the shorthand options."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

from veclift.cli import app, click
from veclift.cli.console import err, out
from veclift.cli.options import OVERWRITE

if TYPE_CHECKING:
    from veclift.tasks.registry import Task
    from veclift.tasks.settings import Setting

EPILOG = (
    "Settings come from the --config file (`veclift init config {task}` writes one with every default), then "
    "--SECTION.KEY VALUE overrides (--trainer.lr 0.001, --model.hidden 50), then the options above; the later wins."
)


class TaskCommands(TyperGroup):
    """A group with one command per registered task, made when first asked for (so that listing
    the top-level commands imports no task)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        from veclift.tasks.registry import task_names

        return task_names()

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        from veclift.tasks.registry import get_task

        return train_command(get_task(name)) if name in self.list_commands(ctx) else None


train_app = typer.Typer(cls=TaskCommands, no_args_is_help=True,
                        help="Train a model of a task (ner, classify, ...) and write its model directory.")  # fmt: skip
app.add_typer(train_app, name="train")


def train_command(task: Task) -> click.Command:
    """The `veclift train TASK` command of ``task``: an option per setting, grouped by section."""
    from veclift.tasks.settings import task_settings

    settings = task_settings(task)

    def train(ctx: typer.Context, **values: Any) -> None:
        options = {s.key: values[_parameter_name(s)] for s in settings if values[_parameter_name(s)] is not None}
        run_training(task, ctx.args, options, **{name: values[name] for name in RUN_OPTIONS})

    train.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
        inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context),
        *(_setting_parameter(s) for s in settings),
        *(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=kind)
          for name, (kind, option) in RUN_OPTIONS.items()),
    ])  # fmt: skip
    summary = (task.config_class.__doc__ or "").strip().split("\n")[0]
    command = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    command.command(task.name, help=f"Train a {task.name} model and write its model directory. {summary}", short_help=summary,
                    epilog=EPILOG.format(task=task.name),
                    context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(train)  # fmt: skip
    return typer.main.get_command(command)


RUN_OPTIONS: dict[str, tuple[Any, Any]] = {
    "config": (Path | None, typer.Option(None, "--config", "-c", help="Training config (TOML), as `veclift init config` writes.")),
    "overwrite": (bool, OVERWRITE),
    "threads": (int | None, typer.Option(None, "--threads", min=1, help="torch threads (default: the cores other work leaves free).")),
    "quiet": (bool, typer.Option(False, "--quiet", "-q", help="No progress bar.")),
    "as_json": (bool, typer.Option(False, "--json", help="Print the training summary as one JSON object.")),
}
"""Options of the run itself, not settings of the model: name -> (type, option)."""


def _parameter_name(setting: Setting) -> str:
    return setting.key.replace(".", "__")


def _setting_parameter(setting: Setting) -> inspect.Parameter:
    """The shorthand option of ``setting``: unset (None) unless given, its default shown in the help."""
    named = setting.flags[0].split("/")[0] == f"--{setting.name.replace('_', '-')}"
    help = setting.help if named else f"{setting.help} ({setting.key})"
    limits = {name: value for name, value in (("min", setting.minimum), ("max", setting.maximum)) if value is not None}
    option = typer.Option(None, *setting.flags, help=help, show_default=_shown(setting), rich_help_panel=setting.section, **limits)
    return inspect.Parameter(_parameter_name(setting), inspect.Parameter.KEYWORD_ONLY, default=option, annotation=setting.option_type)


def _shown(setting: Setting) -> str | bool:
    """The default as the help shows it (none for unset and required settings)."""
    value = setting.default
    if value is None or setting.required:
        return False
    if isinstance(value, bool):
        on, _, off = setting.flags[0].partition("/")
        return on if value else off
    return ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)


def run_training(task: Task, extra: list[str], options: dict[str, Any], *, config: Path | None, overwrite: bool,
                 threads: int | None, quiet: bool, as_json: bool) -> None:  # fmt: skip
    """Resolve the config, train, save and report: the body of every `veclift train TASK`."""
    from veclift.atomic import check_output
    from veclift.data import subsample
    from veclift.errors import VecliftError
    from veclift.tasks.config import split_strategy
    from veclift.tasks.config_file import parse_overrides, resolve_config

    _refuse_other_tasks_options(task, extra)
    run = resolve_config(task, path=config, overrides=parse_overrides(extra), options=options)
    output, data = run.output.path, run.data
    check_output(output, overwrite=overwrite, directory=True)
    from veclift.cores import free_cores, limit_threads

    limit_threads(threads or free_cores())
    model = task.model_class(run.model)
    train_data = task.read_files(data.train, **run.reader)
    if data.max_sentences is not None:
        train_data = subsample(train_data, data.max_sentences, data.seed, stratify=task.stratify)
    dev_data = task.read_files(data.dev, **run.reader) if data.dev else None
    static, _ = split_strategy(model.config.embeddings)
    continues = getattr(model.config, "init_model", None) is not None  # the model's own rows serve
    if data.vectors is None and static not in (None, "scratch") and not continues:
        raise VecliftError(f"--embeddings {model.config.embeddings} needs --vectors (data.vectors)")
    model.fit(train_data, dev_data, vectors=data.vectors, seed=data.seed, checkpoint=run.output.checkpoint, progress=not quiet)
    model.save(output, overwrite=overwrite)
    result = model.train_result
    summary = {
        "output": str(output), "task": task.name, "embeddings": model.config.embeddings, "train_size": len(train_data),
        "epochs": len(result.history), "best_epoch": result.best_epoch, "dev_score": result.best_score,
        "train_seconds": result.seconds, **({"self_training": result.self_training} if result.self_training else {}),
        **({"members": model.members} if getattr(model, "members", 1) > 1 else {}),  # a classifier's (--members)
    }  # fmt: skip
    if as_json:
        print(json.dumps(summary))
        return
    for done in result.self_training:
        held = (f"{done['added_entities']} entities" if "added_entities" in done
                else ", ".join(f"{label} {n}" for label, n in done.get("added_labels", {}).items()))  # fmt: skip
        err.print(f"self-training round {done['round']}: {done['added']} of {done['raw']} raw items joined the training data"
                  + (f" ({held})" if held else ""), highlight=False)  # fmt: skip
    score = f", best dev {model.dev_metric} {result.best_score:.4f} at epoch {result.best_epoch}" if result.best_score is not None else ""
    members = f" ({summary['members']} members)" if "members" in summary else ""
    err.print(f"trained {task.name} model{members} on {len(train_data)} examples in {result.seconds:.1f} s, "
              f"{len(result.history)} epochs{score}",
              highlight=False)  # fmt: skip
    out.print(f"model written to {output}", highlight=False)


def _refuse_other_tasks_options(task: Task, extra: list[str]) -> None:
    """An option of another task's `train` (``--head`` to a classifier) is named as such."""
    from veclift.errors import VecliftError
    from veclift.tasks.registry import get_task, task_names

    given = {item.partition("=")[0] for item in extra} - _option_names(task)
    for other in task_names():
        for option in sorted(given & _option_names(get_task(other))):
            raise VecliftError(f"{option} does not apply to {task.name} models (it is an option of `veclift train {other}`)")


def _option_names(task: Task) -> set[str]:
    from veclift.tasks.settings import task_settings

    return {name for s in task_settings(task) for flag in s.flags for name in flag.split("/")}
