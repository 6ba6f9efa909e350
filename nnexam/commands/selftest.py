"""`nnexam selftest [ASSIGNMENT...]`: check, where the grader is installed, that it grades honestly and cannot
be cheated (the reference scores full marks, a submission that imports or reads the reference scores 0)."""

from __future__ import annotations

import click


@click.command("selftest")
@click.argument("assignments", nargs=-1)
def command(assignments: tuple[str, ...]) -> None:
    """Grade each ASSIGNMENT's reference (full marks expected) and a cheating submission (0 expected) in the
    sandbox of this machine, and say which protections took effect. Exit status 1 when either score is off.

    \b
    Examples:
      nnexam selftest            # hw5, hw6 and hw7
      nnexam selftest hw7        # what the Gradescope image's setup.sh runs last
    """
    from autograder import selftest
    from autograder.engine import ASSIGNMENTS, load_assignment

    failed = []
    for name in assignments or ASSIGNMENTS:
        load_assignment(name)
        result = selftest.run(name)
        for line in result.lines():
            click.echo(line)
        if not result.ok:
            failed.append(name)
    if failed:
        click.echo(f"nnexam: error: the self-test failed for {', '.join(failed)}: do not grade with this "
                   "installation", err=True)
        raise SystemExit(1)
    click.echo("self-test passed")

