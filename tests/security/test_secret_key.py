"""The generated secret-key file is private from its first byte and one key survives a race;
scaled mode (PostgreSQL or Redis) refuses to start without THREADLINE_SECRET_KEY."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import free_port
from threadline.config import Settings

SRC = str(Path(__file__).resolve().parents[2] / "src")


class ModeWatch:
    """Records the mode of every file in a folder at each audited file operation (open, link,
    chmod, rename, remove...) of this process while active: the window between creating a
    file and tightening its mode is seen, not guessed."""

    EVENTS = ("open", "os.link", "os.chmod", "os.rename", "os.replace", "os.remove",
              "os.truncate")

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.active = False
        self.busy = False
        self.seen: list[tuple[str, str, int]] = []
        sys.addaudithook(self._hook)  # hooks cannot be removed: `active` turns it off

    def _hook(self, event: str, _args: tuple[Any, ...]) -> None:
        if not self.active or self.busy or event not in self.EVENTS:
            return
        self.busy = True
        try:
            for entry in os.scandir(self.folder):
                mode = stat.S_IMODE(entry.stat(follow_symlinks=False).st_mode)
                self.seen.append((event, entry.name, mode))
        except FileNotFoundError:
            pass
        finally:
            self.busy = False


@pytest.fixture
def umask_zero() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


class TestKeyFile:
    def test_the_key_file_is_never_readable_by_others(self, tmp_path: Path,
                                                      umask_zero: None) -> None:
        watch = ModeWatch(tmp_path)
        watch.active = True
        try:
            key = Settings(data_dir=tmp_path).resolved_secret_key()
        finally:
            watch.active = False
        path = tmp_path / ".threadline-secret"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.read_text() == key and len(key) >= 64
        assert watch.seen, "the watch saw no file operation"
        leaks = [s for s in watch.seen if s[2] & 0o077]
        assert leaks == [], f"a file in data_dir was readable by others: {leaks}"
        assert sorted(os.listdir(tmp_path)) == [".threadline-secret"]  # no temporary left
        assert Settings(data_dir=tmp_path).resolved_secret_key() == key

    def test_racing_processes_agree_on_one_key(self, tmp_path: Path) -> None:
        code = ("import sys, time; from pathlib import Path; "
                "from threadline.config import read_or_create_secret; "
                "t = float(sys.argv[1]); time.sleep(max(0, t - time.time())); "
                "print(read_or_create_secret(Path(sys.argv[2])))")
        start = time.time() + 2.0
        target = tmp_path / "race" / ".threadline-secret"
        procs = [subprocess.Popen([sys.executable, "-c", code, str(start), str(target)],
                                  stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": SRC})
                 for _ in range(8)]
        keys = {p.communicate(timeout=60)[0].decode().strip() for p in procs}
        assert all(p.returncode == 0 for p in procs)
        assert keys == {target.read_text()}
        assert sorted(os.listdir(target.parent)) == [".threadline-secret"]

    def test_a_key_file_left_readable_by_an_older_version_is_tightened(self,
                                                                       tmp_path: Path) -> None:
        path = tmp_path / ".threadline-secret"
        path.write_text("an-old-key-value")
        path.chmod(0o644)
        assert Settings(data_dir=tmp_path).resolved_secret_key() == "an-old-key-value"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600

    def test_an_empty_key_file_is_refused_not_used(self, tmp_path: Path) -> None:
        (tmp_path / ".threadline-secret").write_text("")
        with pytest.raises(RuntimeError, match="empty"):
            Settings(data_dir=tmp_path).resolved_secret_key()


def _cli(args: list[str], tmp_path: Path, **env: str) -> subprocess.Popen[bytes]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("THREADLINE_")}
    base.update({"PYTHONPATH": SRC, "THREADLINE_DATA_DIR": str(tmp_path),
                 "THREADLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", **env})
    return subprocess.Popen([sys.executable, "-m", "threadline.cli", *args], env=base,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


class TestScaledModeNeedsTheKey:
    @pytest.mark.parametrize(("args", "env"), [
        (["worker"], {"THREADLINE_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/x"}),
        (["serve", "--web"], {"THREADLINE_REDIS_URL": "redis://127.0.0.1:6379/0"}),
        (["serve"], {"THREADLINE_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/x"}),
        (["worker"], {"THREADLINE_REDIS_URL": "redis://127.0.0.1:6379/0"}),
    ])
    def test_refuses_to_start_without_the_key(self, tmp_path: Path, args: list[str],
                                              env: dict[str, str]) -> None:
        proc = _cli(args, tmp_path, **env)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 2, (out, err)
        assert b"THREADLINE_SECRET_KEY is not set" in err
        assert not (tmp_path / ".threadline-secret").exists()  # no key minted on this host

    def test_starts_with_the_key(self, tmp_path: Path) -> None:
        port = free_port()
        proc = _cli(["serve", "--web", "--port", str(port)], tmp_path,
                    THREADLINE_REDIS_URL=os.environ.get("THREADLINE_TEST_REDIS_URL",
                                                        "redis://127.0.0.1:6379/0"),
                    THREADLINE_SECRET_KEY="a-shared-key-for-every-host-0123456789")
        try:
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None, proc.communicate()
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        finally:
            proc.terminate()
            proc.communicate(timeout=30)
        assert not (tmp_path / ".threadline-secret").exists()

    def test_embedded_mode_still_generates_its_key(self, tmp_path: Path) -> None:
        proc = _cli(["migrate"], tmp_path)
        proc.communicate(timeout=60)
        assert proc.returncode == 0
        assert Settings(data_dir=tmp_path).resolved_secret_key()
        assert not Settings(data_dir=tmp_path).scaled
