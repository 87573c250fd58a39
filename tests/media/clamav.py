"""A real ClamAV daemon for the tests: Debian's `clamd` (scripts/install.sh --test installs
`clamav-daemon`), started once per test session on a temporary unix socket and a loopback TCP
port, with a temporary database folder that holds only a signature the tests write themselves
(ClamAV's `.ndb` format: name, target type 0 = any file, offset * = anywhere, hex bytes), since
the official database needs the network. It starts in well under a second with that database.

Without clamd the tests that need it fail when CI=true (like the OCR test without tesseract)
and are skipped elsewhere."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import IN_CI, free_port
from threadline.media import scanning

# The bytes the test signature matches (written in two halves, so this file is no match).
MARKER = b"THREADLINE-TEST-" + b"MALWARE-7f3a9c"
SIGNATURE = "Threadline.Test.Marker"
FOUND_AS = f"{SIGNATURE}.UNOFFICIAL"  # clamd's name for a signature of a local database
STREAM_MAX_BYTES = 1024 * 1024
START_SECONDS = 10.0


def clamd_binary() -> str | None:
    found = shutil.which("clamd")
    if found:
        return found
    return "/usr/sbin/clamd" if Path("/usr/sbin/clamd").exists() else None


@dataclass(frozen=True)
class Clamd:
    socket: str  # the unix socket path (the address form Threadline reads)
    tcp: str  # 127.0.0.1:<port>
    started_in: float  # seconds from start to the first PONG


@pytest.fixture(scope="session")
def clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clamd]:
    binary = clamd_binary()
    if binary is None:
        message = "Debian's clamav-daemon is missing: scripts/install.sh --test installs it"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    folder = tmp_path_factory.mktemp("clamd")
    database = folder / "db"
    database.mkdir()
    (database / "threadline-test.ndb").write_text(f"{SIGNATURE}:0:*:{MARKER.hex()}\n")
    sock, port = folder / "clamd.sock", free_port()
    conf = folder / "clamd.conf"
    conf.write_text("\n".join([
        f"LocalSocket {sock}", f"TCPSocket {port}", "TCPAddr 127.0.0.1",
        f"DatabaseDirectory {database}", f"TemporaryDirectory {folder}",
        f"LogFile {folder / 'clamd.log'}", "LogSyslog no", "Foreground yes",
        f"StreamMaxLength {STREAM_MAX_BYTES // 1024}K", "SelfCheck 3600", ""]))
    started = time.monotonic()
    process = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        while not scanning.ping(str(sock), timeout=1.0):
            if process.poll() is not None or time.monotonic() - started > START_SECONDS:
                log = (folder / "clamd.log").read_text() if (folder / "clamd.log").exists() \
                    else ""
                pytest.fail(f"clamd did not start (exit {process.returncode}):\n{log[-2000:]}")
            time.sleep(0.02)
        yield Clamd(socket=str(sock), tcp=f"127.0.0.1:{port}",
                    started_in=time.monotonic() - started)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
