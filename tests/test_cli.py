import json
import subprocess
import sys

LLOYD = '{"points": [[0, 0], [0, 1], [5, 5], [5, 6]], "initial_indices": [0, 2]}'


def run(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "nnexam.cli", *args], capture_output=True, text=True,
                          input=stdin, timeout=300)


def test_solve_prints_one_json_object():
    out = run("solve", "lloyd", "--params", LLOYD, "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) == {"kind", "params", "answer", "steps", "warnings"}


def test_params_from_a_file_and_stdin(tmp_path):
    f = tmp_path / "p.json"
    f.write_text(LLOYD)
    assert json.loads(run("solve", "lloyd", "--params", str(f)).stdout)["answer"]["converged"]
    assert json.loads(run("solve", "lloyd", "--params", "-", stdin=LLOYD).stdout)["answer"]["converged"]


def test_pdf_output(tmp_path):
    out = run("solve", "lloyd", "--params", LLOYD, "--format", "pdf", "-o", str(tmp_path / "l.pdf"))
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "l.pdf").read_bytes().startswith(b"%PDF")


def test_user_mistakes_give_one_line_and_exit_2():
    cases = [
        ("solve", "lloyd", "--params", '{"points": [[0, 0]], "initial_indices": [3]}'),
        ("solve", "nope", "--params", "{}"),
        ("solve", "lloyd", "--params", "{not json"),
        ("solve", "lloyd", "--params", "missing-file.json"),
        ("solve", "lloyd", "--params", LLOYD, "--format", "pdf"),
    ]
    for args in cases:
        out = run(*args)
        assert out.returncode == 2, (args, out.stderr)
        assert "Traceback" not in out.stderr
        assert len(out.stderr.strip().splitlines()) == 1, out.stderr


def test_every_command_loads_and_explains_itself():
    import click
    from click.testing import CliRunner

    from nnexam.cli import cli

    ctx = click.Context(cli)
    names = cli.list_commands(ctx)
    assert {"solve", "kinds", "render", "generate", "grade", "otter", "train", "audit"} <= set(names)
    for name in names:
        command = cli.get_command(ctx, name)
        assert command is not None and command.name == name, name
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0, name
        assert "unavailable" not in result.output, f"{name}: {result.output}"
        assert len((command.help or "").strip()) > 20, f"{name} has no help text"


def test_a_subcommand_that_fails_to_import_is_explained_not_fatal(monkeypatch):
    """Subcommands are imported lazily; one whose module does not import becomes a command that says why."""
    import click

    from nnexam import cli as cli_module

    names = cli_module.command_modules() + ["no_such_module_here"]
    monkeypatch.setattr(cli_module, "command_modules", lambda: names)
    ctx = click.Context(cli_module.cli)
    broken = cli_module.cli.get_command(ctx, "no_such_module_here")
    assert "unavailable" in (broken.help or "")
    assert cli_module.cli.get_command(ctx, "kinds").name == "kinds"
    monkeypatch.delitem(cli_module.cli.commands, "no_such_module_here")


def test_the_nnexam_process_freezes_import_time_objects_and_a_library_call_does_not():
    import gc

    from nnexam.cli import main

    before = gc.get_freeze_count()
    main(["kinds"])
    assert gc.get_freeze_count() == before  # a test or a library calling main(argv) keeps its collector as is
    script = ("import atexit, gc, sys; from nnexam.cli import main; "
              "atexit.register(lambda: print('frozen', gc.get_freeze_count() > 0, file=sys.stderr)); "
              "sys.argv = ['nnexam', 'kinds']; main()")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "frozen True" in out.stderr
