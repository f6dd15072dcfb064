"""Hostile inputs (issue "Hardening: bounded work for every input, nothing half-done"): each is
refused or handled with one clear message, and its cost is bounded by running it in a child
process under a memory limit (RLIMIT_AS) and a timeout, never by timing it on a busy machine."""

from __future__ import annotations

import json
import os
import resource
import shutil
import stat
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import pytest

import viz.dot
from micrograd import Value
from micrograd.files import check_writable, write_atomic
from micrograd.nn import Dense, Sequential, load_model
from micrograd.nn.saving import ModelFileError
from viz import draw, export_html, save, trace_table
from viz import render as render_module
from viz.formula import FormulaError, evaluate
from viz.nudge import nudge
from viz.tables import printable

ROOT = Path(__file__).resolve().parent.parent
MEMORY_LIMIT = 1 << 30  # 1 GB of address space: the refused cases once took 0.8 to 2.1 GB
TIMEOUT = 120  # seconds, far above what the refusals take; the unbounded cases took minutes to hours


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_bounded(args: list[str], cwd: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run Python with `args` in a child limited to MEMORY_LIMIT and TIMEOUT (a MemoryError or a
    TimeoutExpired fails the test)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        preexec_fn=_limit_memory,
        **kwargs,
    )


def cli(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return run_bounded(["-m", "viz", *argv], tmp_path)


def product(factors: int) -> str:
    return "J=" + "*".join(["w"] * factors)


# -- 2. bounded work for the drawing and the page --------------------------------------------


def test_a_value_used_491_times_is_refused_before_dot_runs(tmp_path: Path) -> None:
    done = cli(tmp_path, product(491), "w=1.01", "-o", "J.svg")
    assert done.returncode == 2 and done.stdout == ""
    assert "has 491 edges to draw, more than 64" in done.stderr and "w**n" in done.stderr
    assert done.stderr.count("\n") == 1 and list(tmp_path.iterdir()) == []


def test_a_page_of_frames_too_slow_to_lay_out_is_refused_before_anything(tmp_path: Path) -> None:
    # 140 factors: 280 frames (forward and backward), under the frame limit, but 140 edges into w
    done = cli(tmp_path, product(140), "w=1.01", "-o", "a.svg", "--steps", "a.html")
    assert done.returncode == 2 and done.stdout == ""
    assert "edges to draw" in done.stderr and list(tmp_path.iterdir()) == []  # a.svg is not written either


def test_a_page_too_large_is_refused_before_anything(tmp_path: Path) -> None:
    done = cli(tmp_path, "J=" + "-" * 140 + "w", "w=1", "-o", "a.svg", "--steps", "b.html")  # 282 frames
    assert done.returncode == 2 and done.stdout == ""
    assert "this page would be about" in done.stderr and "MB" in done.stderr and "smaller graph" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_export_html_checks_the_page_before_drawing(tmp_path: Path) -> None:
    w = Value(1.0, "w")
    J = w
    for _ in range(140):  # 282 frames of 281 nodes each: under the frame limit, over the size limit
        J = -J
    with pytest.raises(ValueError, match="this page would be about"):
        export_html(J, tmp_path / "b.html")
    assert list(tmp_path.iterdir()) == []


def test_a_huge_graph_is_refused_without_walking_all_of_it() -> None:
    x = Value(1.0, "x")
    out = x
    for _ in range(300_000):
        out = out + 1.0
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="more than 100000 nodes to draw"):
            draw(out)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 60_000_000  # counting stops at the limit; drawing it all took about a gigabyte


def test_too_many_edges_in_all_are_refused() -> None:
    xs = [Value(float(i), f"x{i}") for i in range(700)]
    total = xs[0]
    for x in xs[1:]:
        total = total + x * x  # 700 values, few uses each, but over 4000 edges
    with pytest.raises(ValueError, match="edges to draw, more than 4000"):
        draw(total, max_nodes=10_000)


def test_deeply_nested_scopes_are_refused_with_a_hint() -> None:
    a = Value(1.0, "a") * 2
    a.scope = ".".join(["s"] * 3000)
    with pytest.raises(ValueError, match="nested 3000 deep"):
        draw(a)


def test_a_64_kb_label_is_cut_and_rendered(tmp_path: Path) -> None:
    a = Value(1.0, "a" * 65536)
    path = save(a * 2, tmp_path / "J.svg")
    text = path.read_text("utf-8")
    assert "a" * 119 + "…" in text and "a" * 121 not in text


# -- dot runs under a timeout and is never left running ---------------------------------------


SLEEP, CAT = shutil.which("sleep"), shutil.which("cat")  # the fake dot runs with only itself on PATH


def fake_dot(tmp_path: Path, body: str) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "dot"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return folder


def pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_dot_is_killed_on_timeout_and_leaves_no_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pidfile = tmp_path / "pid"
    monkeypatch.setenv("PATH", str(fake_dot(tmp_path, f"echo $$ > {pidfile}\nexec {SLEEP} 60\n")))
    monkeypatch.setattr(viz.dot, "DOT_TIMEOUT", 1.0)
    with pytest.raises(RuntimeError, match=r"took more than 1 seconds .* was stopped"):
        render_module.render(draw(Value(1.0, "a") * 2), "svg")
    assert not pid_exists(int(pidfile.read_text()))


def test_dot_is_killed_on_ctrl_c(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pidfile = tmp_path / "pid"
    monkeypatch.setenv("PATH", str(fake_dot(tmp_path, f"echo $$ > {pidfile}\nexec {SLEEP} 60\n")))

    def interrupted(self: subprocess.Popen[bytes], *args: object, **kwargs: object) -> None:
        while not pidfile.exists() or not pidfile.read_text().strip():
            pass  # the child has started when it wrote its pid
        raise KeyboardInterrupt

    monkeypatch.setattr(subprocess.Popen, "communicate", interrupted)
    with pytest.raises(KeyboardInterrupt):
        render_module.render(draw(Value(1.0, "a") * 2), "svg")
    assert not pid_exists(int(pidfile.read_text()))


def test_a_failing_dot_gives_one_line_and_no_echo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(
        "PATH",
        str(
            fake_dot(tmp_path, f"{CAT} > /dev/null\necho 'Error: syntax error in line 1' >&2\necho more >&2\nexit 1\n")
        ),
    )
    with pytest.raises(RuntimeError) as error:
        save(Value(1.0, "a") * 2, tmp_path / "J.svg")
    assert str(error.value) == "Graphviz could not render this drawing to SVG: Error: syntax error in line 1"
    assert capfd.readouterr().err == "" and not (tmp_path / "J.svg").exists()


def test_a_dot_that_exits_without_reading_its_input_is_an_error_not_a_broken_pipe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(fake_dot(tmp_path, "echo 'out of memory' >&2\nexit 1\n")))
    a = Value(1.0, "a" * 100)
    for _ in range(400):
        a = a * 2  # a DOT source larger than a pipe's buffer
    with pytest.raises(RuntimeError, match="could not render this drawing to SVG: out of memory"):
        render_module.render(draw(a), "svg")


# -- 3. model files ----------------------------------------------------------------------------

LOAD = textwrap.dedent(
    """
    import sys
    from micrograd.nn import load_model
    from micrograd.nn.saving import ModelFileError
    try:
        load_model(sys.argv[1])
    except ModelFileError as error:
        print(type(error).__name__, error)
    """
)


def load_bounded(tmp_path: Path, path: str) -> str:
    done = run_bounded(["-c", LOAD, path], tmp_path)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return done.stdout.strip()


def million_unit_model() -> dict[str, object]:
    units = 600_000  # 3.6 MB of JSON, under the size limit
    return {
        "format": "micrograd-lab/sequential",
        "format_version": 1,
        "architecture": {
            "input_dim": 1,
            "layers": [{"type": "Dense", "units": units, "activation": "linear", "init": "uniform"}],
        },
        "weights": {"L1": {"w": [[0]] * units, "b": [0] * units}},
    }


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_text("[" * 200_000), "nested too deeply"),
        (
            lambda p: p.write_text(json.dumps(million_unit_model(), separators=(",", ":"))),
            "declares 1200000 parameters, more than 100000",
        ),
        (lambda p: os.truncate(p, 1 << 30) if p.touch() is None else None, "1073741824 bytes, more than"),
        (lambda p: p.mkdir(), "it is a folder"),
        (lambda p: os.mkfifo(p), "not a regular file"),
    ],
    ids=["deep-brackets", "million-units", "sparse-1GB", "folder", "fifo"],
)
def test_hostile_model_files_are_refused_within_bounds(tmp_path: Path, make: object, message: str) -> None:
    path = tmp_path / "model.json"
    make(path)  # type: ignore[operator]
    out = load_bounded(tmp_path, str(path))
    assert out.startswith(f"ModelFileError cannot load model {str(path)!r}: ") and message in out


def test_dev_zero_is_refused_within_bounds(tmp_path: Path) -> None:
    out = load_bounded(tmp_path, "/dev/zero")
    assert (
        out
        == "ModelFileError cannot load model '/dev/zero': it is not a regular file (a device, pipe or socket), so not a model file"
    )


def test_a_model_file_error_for_a_non_utf8_name_can_be_printed(tmp_path: Path) -> None:
    name = os.fsdecode(b"m\xff.json")  # a lone surrogate in the str
    (tmp_path / name).write_text("{")
    with pytest.raises(ModelFileError) as error:
        load_model(tmp_path / name)
    str(error.value).encode("utf-8")  # printable: no lone surrogate
    assert "\\udcff" in str(error.value)


def test_fit_refuses_complex_and_huge_numbers() -> None:
    model = Sequential([Dense(1)], input_dim=2)
    model.compile(loss="mse", optimizer="sgd")
    with pytest.raises(ValueError, match="X holds complex numbers"):
        model.fit([[1 + 2j, 1.0]], [1.0], epochs=1, verbose=0)
    with pytest.raises(ValueError, match="X holds a number too large for floating point"):
        model.fit([[10**400, 1]], [1.0], epochs=1, verbose=0)


# -- 8. messages --------------------------------------------------------------------------------


def test_a_249_character_name_is_written_and_errors_name_the_target(tmp_path: Path) -> None:
    long_name = tmp_path / ("a" * 245 + ".svg")
    save(Value(1.0, "a") * 2, long_name)
    assert long_name.exists() and [p.name for p in tmp_path.iterdir()] == [long_name.name]
    with pytest.raises(OSError) as error:
        write_atomic(tmp_path / "missing" / "J.svg", b"x")
    assert str(error.value) == f"cannot write {str(tmp_path / 'missing' / 'J.svg')!r}: No such file or directory"
    assert ".tmp" not in str(error.value)


@pytest.mark.parametrize("path", ["", "folder/", "."])
def test_a_path_that_names_no_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder").mkdir()
    with pytest.raises(IsADirectoryError, match="give the path of a file"):
        write_atomic(path, b"x")
    with pytest.raises(IsADirectoryError):
        check_writable(path)
    assert [p.name for p in tmp_path.iterdir()] == ["folder"] and list((tmp_path / "folder").iterdir()) == []


def test_check_writable_writes_nothing(tmp_path: Path) -> None:
    check_writable(tmp_path / "J.svg")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(OSError, match="longer than 255 bytes"):
        check_writable(tmp_path / ("a" * 256))


def test_control_characters_and_surrogates_in_labels_are_escaped_everywhere(tmp_path: Path) -> None:
    a = Value(2.0, "a\x00\x1b[2J\ud800")
    J = a * 3
    J.label = "J"
    save(J, tmp_path / "J.svg")
    page = export_html(J, tmp_path / "J.html").read_text("utf-8")
    assert "\x1b" not in page and "\x00" not in page and "a\\x00\\x1b[2J\\ud800" in page
    for text in (str(trace_table(J)), trace_table(J).markdown(), str(nudge(J)), nudge(J).markdown()):
        assert "\x1b" not in text and "\x00" not in text and "\\x1b" in text
        text.encode("utf-8")


def test_markdown_keeps_markup_and_newlines_as_text() -> None:
    a = Value(1.0, "<script>x</script>\nnext|row")
    J = a * 2
    for markdown in (trace_table(J).markdown(), nudge(J).markdown()):
        assert "<script>" not in markdown and "&lt;script&gt;" in markdown
        assert "\\\\n" in markdown and "next\\|row" in markdown
        assert all(line.startswith(("|", "*")) or not line for line in markdown.splitlines())
    assert printable("tab\there") == "tab\\there"


def test_evaluate_refuses_a_nan_input_as_such() -> None:
    with pytest.raises(FormulaError, match=r"input w=nan is not a finite number"):
        evaluate("J = w*2", {"w": float("nan")})


def test_cli_names_are_read_as_python_reads_them(tmp_path: Path) -> None:
    done = cli(tmp_path, "J = ﬁ*2", "ﬁ=3")
    assert done.returncode == 0 and done.stdout.startswith("J = 6.0000   ∂J/∂fi = 2.0000")


def test_cli_a_name_given_and_assigned_is_reported_as_such(tmp_path: Path) -> None:
    done = cli(tmp_path, "w=w*2", "w=1")
    assert done.returncode == 2
    assert done.stderr == (
        "micrograd-viz: error: 'w' is both given as an input and assigned in the formula; rename one of them\n"
    )


def test_cli_usage_errors_take_one_line(tmp_path: Path) -> None:
    done = cli(tmp_path, "--bogus", "J=w", "w=1")
    assert done.returncode == 2 and done.stderr == (
        "micrograd-viz: error: unrecognized arguments: --bogus (see micrograd-viz --help)\n"
    )


def test_cli_checks_the_output_is_writable_before_printing(tmp_path: Path) -> None:
    done = cli(tmp_path, "J=w*2", "w=1", "-o", "/proc/no-such-folder-here/J.svg")
    assert done.returncode == 2 and done.stdout == "" and done.stderr.count("\n") == 1
    done = cli(tmp_path, "J=w*2", "w=1", "-o", "/proc/J.svg")  # the folder exists but takes no files
    assert done.returncode != 0 and done.stdout == "" and "cannot write '/proc/J.svg'" in done.stderr


def test_cli_exits_quietly_when_its_reader_is_gone(tmp_path: Path) -> None:
    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written
    try:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [sys.executable, "-m", "viz", "J=w*2", "w=1"],
            cwd=tmp_path,
            env=env,
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=TIMEOUT,
        )
    finally:
        os.close(write)
    assert done.returncode == 141 and done.stderr == ""


def test_cli_error_messages_show_control_characters_escaped(tmp_path: Path) -> None:
    done = cli(tmp_path, "J = w*2 # \x1b[2J", "w=1", "x=1")
    assert done.returncode == 2 and "\x1b" not in done.stderr
