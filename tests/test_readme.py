"""Every command the README gives works exactly as written on a fresh copy after `make run`
(issue 10 item 10): a copy of the project's files, no .env, no database, no .venv."""

import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
# Commands the README tells a reader to run, as they appear in it.
COMMANDS = sorted(
    set(re.findall(r"`((?:make|\.venv/bin/python manage\.py) [^`]+)`", README))
    | set(re.findall(r"^((?:[A-Z_]+=\S+ )?make \w+)", README, re.M))
)
# Not run here, each for a reason: the suite itself, the benchmarks (minutes, and they
# print figures rather than pass), and what needs PostgreSQL.
NOT_RUN_HERE = {
    "make test": "this suite is make test",
    "make bench": "benchmarks take minutes and are run on their own",
    "DATABASE_URL=postgres://postgres@127.0.0.1:5432/crmadmin make test": "needs PostgreSQL",
}
PASSED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "UV_CACHE_DIR", "XDG_CACHE_HOME")
PASSED_ENV += tuple(name for name in os.environ if name.startswith("PYENV"))


def _free_port() -> int:
    for port in range(8130, 8140):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip("no free port in 8130-8139")


def _tracked_files() -> list[str]:
    listing = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return [name for name in listing.stdout.splitlines() if (ROOT / name).is_file()]


@pytest.fixture(scope="module")
def fresh_copy(tmp_path_factory):
    if shutil.which("git") is None or shutil.which("make") is None:
        pytest.skip("needs git and make")
    copy = tmp_path_factory.mktemp("fresh") / "crmadmin"
    for name in _tracked_files():
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, copy / name)
    env = {name: os.environ[name] for name in PASSED_ENV if name in os.environ}
    # As a reader's shell has it: not with this project's .venv first (`uv run` puts it there).
    env["PATH"] = os.pathsep.join(
        entry
        for entry in env.get("PATH", "").split(os.pathsep)
        if not Path(entry).resolve().is_relative_to(ROOT)
    )
    env["PYTHONUNBUFFERED"] = "1"  # the server's banner reaches the pipe before it stops
    port = _free_port()
    server = subprocess.Popen(
        ["make", "run", f"PORT={port}"],
        cwd=copy,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                time.sleep(0.5)
        time.sleep(1)  # the reloader's banner
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
        # A minute: the stop can find the worker inside a SQLite call waiting for the
        # write lock (up to its 20 s timeout), and Python runs the signal handler only
        # after that call returns; 30 s left a loaded machine little room.
        try:
            output, _ = server.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            # Say which process would not stop, then clean up rather than leave them.
            alive = subprocess.run(
                ["ps", "-o", "pid,ppid,stat,etime,wchan:20,args", "-g", str(server.pid)],
                capture_output=True,
                text=True,
                check=False,
            ).stdout
            os.killpg(server.pid, signal.SIGKILL)
            output, _ = server.communicate(timeout=30)
            pytest.fail(f"make run did not stop within 60 s of SIGTERM:\n{alive}\n{output}")
    assert "development server at" in output, output
    return {"path": copy, "env": env, "output": output}


def test_the_readme_names_commands_to_check():
    assert "make run" in COMMANDS
    assert ".venv/bin/python manage.py changepassword admin" in COMMANDS


def test_make_run_writes_a_development_env_and_prints_little(fresh_copy):
    output = fresh_copy["output"]
    env_file = (fresh_copy["path"] / ".env").read_text()

    assert "DEBUG=true" in env_file
    assert re.search(r"^SECRET_KEY=\S{40,}$", env_file, re.M)
    assert "Created superuser 'admin'" in output
    assert re.search(r"Applied \d+ migrations\.", output)
    assert not re.search(r"^\s*OK$", output, re.M), output
    assert output.count("Watching for file changes") == 1, output
    assert output.count("development server at") == 1, output
    assert "WARNING: This is a development server" not in output


@pytest.mark.parametrize("command", COMMANDS)
def test_every_readme_command_works_as_written(fresh_copy, command):
    if command in NOT_RUN_HERE:
        pytest.skip(NOT_RUN_HERE[command])
    if command == "make run":
        assert "development server at" in fresh_copy["output"]
        return
    stdin = "a-new-Password-4711\na-new-Password-4711\n" if "changepassword" in command else ""

    result = subprocess.run(  # noqa: S602 (the README's words, as a shell runs them)
        command,
        shell=True,
        cwd=fresh_copy["path"],
        env=fresh_copy["env"],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        start_new_session=True,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "cannot start with DEBUG off" not in result.stderr
