"""Faults of the data store: real ``kill -9`` during a build and a rebuild, two builders at once, a
truncated or corrupted file. After each: nothing half-written, nothing corrupt, a clear message."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from basislab.data import store
from basislab.errors import DataError

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="kill -9 is POSIX")

BUILD = "import sys; from basislab.data import store; store.build_from_snapshot(sys.argv[1])"


def _spawn(path: Path, tmp_path: Path) -> subprocess.Popen:
    env = {**os.environ, "BASISLAB_DATA_DIR": str(tmp_path / "data")}
    return subprocess.Popen([sys.executable, "-c", BUILD, str(path)], env=env, stderr=subprocess.PIPE)


def _kill_while_writing(proc: subprocess.Popen, path: Path, extra_s: float = 0.0) -> list[Path]:
    """Wait until the build's temporary file exists (it is writing), then SIGKILL the process."""
    deadline = time.monotonic() + 120
    while not list(path.parent.glob(f".{path.name}.{proc.pid}.building*")):
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "the build never started writing"
        time.sleep(0.01)
    time.sleep(extra_s)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    return list(path.parent.glob(f".{path.name}.*.building*"))


def _sofr(path: Path) -> float:
    c = store.connect(path, read_only=True)
    try:
        return c.execute(
            "SELECT value FROM rates_daily WHERE series='SOFR' AND date='2019-09-17'"
        ).fetchone()[0]
    finally:
        c.close()


def test_kill_9_during_a_first_build_leaves_no_store_and_is_cleaned(tmp_path):
    path = tmp_path / "first.duckdb"
    left = _kill_while_writing(_spawn(path, tmp_path), path)
    assert not path.exists()  # never half a store under the real name
    assert left, "the killed build's temporary file is the debris this test expects"
    # The next run cleans up the killed build's files and builds a full store.
    c = store.connect(path, create=True, read_only=True)
    c.close()
    assert list(tmp_path.glob(".first.duckdb.*.building*")) == []
    assert _sofr(path) == 5.25


def test_kill_9_during_a_rebuild_keeps_the_old_store(tmp_path, built_db):
    path = tmp_path / "store.duckdb"
    shutil.copy(built_db, path)
    c = duckdb.connect(str(path))
    c.execute("UPDATE rates_daily SET value = 9.99 WHERE series = 'SOFR' AND date = '2019-09-17'")
    c.close()
    for extra in (0.0, 0.3):  # killed early and later in the write
        left = _kill_while_writing(_spawn(path, tmp_path), path, extra)
        assert left
        assert _sofr(path) == 9.99  # the old store, whole: it opens and every table reads back
        assert list(tmp_path.glob(".store.duckdb.*.building*")) == []  # opening it cleaned the debris
    store.build_from_snapshot(path)  # a rebuild that finishes replaces it
    assert _sofr(path) == 5.25


def test_two_builders_at_once(tmp_path):
    path = tmp_path / "both.duckdb"
    procs = [_spawn(path, tmp_path) for _ in range(2)]
    for p in procs:
        assert p.wait(timeout=300) == 0, p.stderr.read().decode()
    assert _sofr(path) == 5.25
    assert list(tmp_path.glob(".both.duckdb.*.building*")) == []


def test_first_use_by_two_processes_builds_once(tmp_path, monkeypatch):
    path = tmp_path / "shared.duckdb"
    code = (
        "import sys; from basislab.data import store; "
        "c = store.connect(sys.argv[1], create=True, read_only=True); print(c.execute("
        "\"SELECT value FROM meta WHERE key='created_at'\").fetchone()[0])"
    )
    env = {**os.environ, "BASISLAB_DATA_DIR": str(tmp_path / "data")}
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(path)], env=env, stdout=subprocess.PIPE)
        for _ in range(2)
    ]
    stamps = {p.communicate(timeout=300)[0].decode().strip() for p in procs}
    assert all(p.returncode == 0 for p in procs)
    assert len(stamps) == 1  # the second waited for the lock and used the first one's store


@pytest.mark.parametrize("damage", ["truncate", "corrupt", "garbage"])
def test_damaged_store_is_one_line_with_the_repair(tmp_path, built_db, damage, capsys, monkeypatch):
    from basislab.app.cli import main

    path = tmp_path / "damaged.duckdb"
    shutil.copy(built_db, path)
    size = path.stat().st_size
    if damage == "truncate":
        with open(path, "r+b") as f:
            f.truncate(size // 2)
    elif damage == "corrupt":
        with open(path, "r+b") as f:  # 64 KiB of noise every tenth of the file: hits table data
            for k in range(1, 10):
                f.seek(size * k // 10)
                f.write(os.urandom(64 * 1024))
    else:
        path.write_bytes(b"not a database at all\n" * 100)
    with pytest.raises(
        DataError, match=r"damaged or not a basislab store .*basislab data rebuild --yes --db"
    ):
        store.connect(path, read_only=True)
    monkeypatch.setenv("COLUMNS", "200")
    for argv in (["data", "status", "--db", str(path)], ["monitor", "--db", str(path)]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err and "basislab data rebuild" in err
        assert len(err.strip().splitlines()) <= 3  # one message (Rich may wrap it)
    if damage != "truncate":
        return
    # The repair it names works.
    with pytest.raises(SystemExit) as exc:
        main(["data", "rebuild", "--yes", "--db", str(path)])
    assert exc.value.code in (0, None)
    assert _sofr(path) == 5.25


def test_mistyped_db_is_refused_unless_create(tmp_path, capsys, monkeypatch):
    from basislab.app.cli import main

    monkeypatch.setenv("COLUMNS", "200")
    typo = tmp_path / "basislb.duckdb"
    with pytest.raises(SystemExit) as exc:
        main(["monitor", "--db", str(typo), "--date", "2019-09-17"])
    assert exc.value.code == 2
    assert "no basislab store at" in capsys.readouterr().err
    assert not typo.exists()
    with pytest.raises(SystemExit) as exc:
        main(["data", "status", "--db", str(typo), "--create", "--json"])
    assert exc.value.code in (0, None) and typo.exists()


def test_monitor_exits_2_for_dates_without_data(built_db, capsys, monkeypatch):
    from basislab.app.cli import main

    monkeypatch.setenv("COLUMNS", "200")
    for d in ("1990-01-02", "2031-01-07"):
        with pytest.raises(SystemExit) as exc:
            main(["monitor", "--db", str(built_db), "--date", d])
        assert exc.value.code == 2
        assert f"no data on or near {d}" in capsys.readouterr().err
