"""The `nnexam` command: a thin layer over the packages.

Every subcommand lives in its own module under `nnexam/commands/`, named after the subcommand, and exposes a
click command named `command`; they are found automatically and imported only when used, so `nnexam render`
never imports torch, otter or the autograder. A user mistake prints one line on stderr and exits with 2.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
from pathlib import Path

import click

from solvers.errors import NnexamError

from . import __version__, commands

EXIT_USER_ERROR = 2


class UserError(NnexamError):
    """A mistake in what the user typed that is not about problem parameters (files, options)."""


def user_errors() -> tuple[type[BaseException], ...]:
    from templates.render import RenderError

    return (NnexamError, RenderError, FileNotFoundError, IsADirectoryError, PermissionError)


class LazyGroup(click.Group):
    """A group whose subcommands are the modules of `nnexam.commands`, each imported on first use (click's
    lazy-loading pattern); a module that fails to import becomes a command that explains why."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(command_modules()))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in command_modules():
            self.add_command(_load_command(cmd_name), cmd_name)
        return self.commands.get(cmd_name)


def command_modules() -> list[str]:
    return sorted({p.stem for folder in commands.__path__ for p in Path(folder).glob("*.py")
                   if not p.stem.startswith("_")})


# In the `nnexam` process itself (not when a test or a library calls `main(argv)`), what the imports built is
# frozen out of the cyclic garbage collector once a command's modules are loaded, and everything is at exit:
# sympy's and torch's import-time objects live until the end anyway, and otherwise every full collection walks
# them again, and so do the collections of interpreter shutdown (0.2-0.4 s of a `nnexam generate` here).
_FREEZE_GC = False


def _load_command(name: str) -> click.Command:
    try:
        mod = importlib.import_module(f"{commands.__name__}.{name}")
    except Exception as exc:  # one broken subcommand must not take the others down
        return _broken(name, exc)
    if _FREEZE_GC:
        gc.freeze()
    command = getattr(mod, "command", None)
    if not isinstance(command, click.Command):
        return _broken(name, TypeError(f"nnexam.commands.{name} defines no click command named 'command'"))
    return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="nnexam")
def cli() -> None:
    """nnexam: problem sets, step-by-step solutions, key audits and a hardened autograder for
    neural-network courses.

    \b
    Examples:
      nnexam kinds
      nnexam solve lloyd --params '{"points": [[0,0],[0,1],[5,5]], "initial_indices": [0, 2]}'
      nnexam render mock-final -o out/
    """


def _broken(name: str, exc: Exception) -> click.Command:
    reason = " ".join(f"{type(exc).__name__}: {exc}".split())

    @click.command(name, context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
                   help=f"(unavailable: {reason})")
    def unavailable() -> None:
        raise UserError(f"the '{name}' command could not be loaded ({reason}); check the installation")

    return unavailable


def fail(message: str, code: int = EXIT_USER_ERROR) -> None:
    click.echo(f"nnexam: error: {message}", err=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Entry point: runs the CLI and turns every user mistake into one line and exit status 2."""
    global _FREEZE_GC
    debug = os.environ.get("NNEXAM_DEBUG") == "1"
    _FREEZE_GC = argv is None
    try:
        _run(argv, debug)
    finally:
        if _FREEZE_GC:
            gc.freeze()


def _run(argv: list[str] | None, debug: bool) -> None:
    try:
        cli.main(args=argv, prog_name="nnexam", standalone_mode=False)
    except click.exceptions.Abort:
        fail("aborted", 130)
    except click.exceptions.ClickException as exc:
        fail(exc.format_message(), exc.exit_code or EXIT_USER_ERROR)
    except user_errors() as exc:
        if debug:
            raise
        fail(_one_line(exc))
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except Exception as exc:
        if debug:
            raise
        fail(f"internal error ({type(exc).__name__}: {_one_line(exc)}); rerun with NNEXAM_DEBUG=1 for "
             "the traceback and please report it", 1)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, (FileNotFoundError, IsADirectoryError, PermissionError)) and exc.filename:
        text = f"{exc.strerror}: {exc.filename}"
    return " ".join(text.split())


if __name__ == "__main__":
    main()
