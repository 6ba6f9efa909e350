"""`nnexam audit KEY [--format text|json|pdf|typst|tex] [-o FILE]`: check a hand-written key against the solvers.

Exit status: 0 when every claim holds, 1 when there are findings, 2 when the key is malformed (one line
naming the YAML path). Questions whose kind is not registered are skipped with a message on stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from templates.render import need_output

from ..audit import audit, load_key
from ..audit.document import render_report

EXIT_FINDINGS = 1


@click.command("audit")
@click.argument("key", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "-f", "fmt", type=click.Choice(("text", "json", "pdf", "typst", "tex")), default="text",
              show_default=True, help="json prints {key, claims_checked, findings}; pdf needs -o.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the report to this file instead of standard output (required for pdf).")
def command(key: Path, fmt: str, output: Path | None) -> None:
    """Check every claim of a solution KEY (YAML) against the solvers: values to the key's own rounding,
    expressions by symbolic equivalence, derivations for their required terms.

    \b
    Exit status: 0 clean, 1 findings, 2 malformed key.
    Example:
      nnexam audit assignments/keys/mock_final.yaml
      nnexam audit assignments/keys/hw7.yaml --format json
    """
    need_output(fmt, output)
    if not key.is_file():
        raise FileNotFoundError(2, "No such file", str(key))
    report = audit(load_key(key))
    for message in report.skipped:
        click.echo(f"nnexam: skipped {message}", err=True)
    if fmt == "json":
        text = json.dumps(report.to_json(), indent=2)
        if output is not None:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text + "\n", encoding="utf-8")
            click.echo(f"wrote {output}", err=True)
        else:
            click.echo(text)
    else:
        result = render_report(report, fmt, output)
        if isinstance(result, Path):
            click.echo(f"wrote {result}", err=True)
        else:
            click.echo(result, nl=False)
    if report.findings:
        sys.exit(EXIT_FINDINGS)
