"""Real mail servers for tests: Dovecot (IMAP) and aiosmtpd (SMTP), started on free ports.

    from tests.mailservers import dovecot_server, smtp_server

    with dovecot_server() as imap:   # a private Dovecot: own config, maildir, logs in a temp dir
        uid = imap.append(raw_bytes)  # IMAP APPEND; or imap.deliver_maildir(raw_bytes)
        config = imap.account_config()

    with smtp_server() as smtp:       # aiosmtpd in a thread, AUTH PLAIN/LOGIN required
        ...send...
        smtp.messages[0].parsed["Message-ID"]
        smtp.handler.data_reply = "451 4.3.0 Try again later"   # inject SMTP errors

Dovecot comes from the Debian package `dovecot-imapd`. When it is missing the helpers skip the
test, except under CI=true, where they fail with a clear message (CI must install it).
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, NoReturn

import pytest

# aiosmtpd warns about AUTH without TLS when each session starts; fine on loopback in tests
warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS",
                        category=UserWarning)

TEST_USER = "agent@acme-support.com"
TEST_PASSWORD = "s3cret-test-password"  # test-only credential for the throwaway servers
DOVECOT_CANDIDATES = ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _missing(what: str) -> NoReturn:
    message = (f"{what} is not installed. Install it with: "
               "apt-get update && apt-get install -y dovecot-imapd")
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {message}", pytrace=False)
    pytest.skip(message)


def find_dovecot() -> str | None:
    found = shutil.which("dovecot")
    if found:
        return found
    return next((c for c in DOVECOT_CANDIDATES if os.access(c, os.X_OK)), None)


# --- Dovecot ----------------------------------------------------------------------------------


@dataclass
class DovecotServer:
    host: str
    port: int
    root: Path
    mail_uid: int
    mail_gid: int
    user: str = TEST_USER
    password: str = TEST_PASSWORD

    @property
    def log_path(self) -> Path:
        return self.root / "dovecot.log"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def account_config(self, mailbox: str = "INBOX", **extra: Any) -> dict[str, Any]:
        return {"imap_host": self.host, "imap_port": self.port, "imap_ssl": False,
                "username": self.user, "password": self.password, "mailbox": mailbox,
                "address": "support@acme-support.com", **extra}

    @contextlib.contextmanager
    def client(self) -> Iterator[imaplib.IMAP4]:
        imap = imaplib.IMAP4(self.host, self.port, timeout=10)
        try:
            imap.login(self.user, self.password)
            yield imap
        finally:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                imap.logout()

    def create_mailbox(self, name: str | None = None) -> str:
        name = name or f"T{uuid.uuid4().hex[:12]}"
        with self.client() as imap:
            typ, data = imap.create(name)
            assert typ == "OK", data
        return name

    def recreate_mailbox(self, name: str) -> None:
        """DELETE + CREATE: the mailbox comes back empty with a new UIDVALIDITY."""
        with self.client() as imap:
            assert imap.delete(name)[0] == "OK"
            assert imap.create(name)[0] == "OK"

    def uidvalidity(self, mailbox: str = "INBOX") -> int:
        with self.client() as imap:
            typ, data = imap.status(mailbox, "(UIDVALIDITY)")
            assert typ == "OK", data
            found = re.search(rb"UIDVALIDITY (\d+)", data[0] or b"")
            assert found, data
            return int(found.group(1))

    def append(self, raw: bytes, mailbox: str = "INBOX") -> int:
        """IMAP APPEND; returns the new message's UID (Dovecot answers APPENDUID)."""
        with self.client() as imap:
            typ, data = imap.append(mailbox, None, None, raw)
            assert typ == "OK", data
            found = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"")
            assert found, data
            return int(found.group(1))

    def deliver_maildir(self, raw: bytes, mailbox: str = "INBOX") -> Path:
        """Drop a file into the maildir's new/ folder, as a local delivery agent would."""
        base = self.root / "mail" / self.user
        folder = base if mailbox == "INBOX" else base / f".{mailbox}"
        new = folder / "new"
        for sub in ("cur", "new", "tmp"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns()}.{uuid.uuid4().hex}.threadline-tests"
        tmp = folder / "tmp" / name
        tmp.write_bytes(raw)
        target = new / name
        tmp.rename(target)
        if os.geteuid() == 0:
            for path in (folder, folder / "cur", folder / "new", folder / "tmp", target):
                os.chown(path, self.mail_uid, self.mail_gid)
        return target


def _dovecot_config(root: Path, port: int, mail_uid: int, mail_gid: int) -> str:
    if os.geteuid() == 0:  # Dovecot refuses to run its login processes as root
        login_user, internal_user, internal_group = "dovenull", "dovecot", "dovecot"
    else:
        me = pwd.getpwuid(os.geteuid()).pw_name
        login_user = internal_user = me
        internal_group = me
        with contextlib.suppress(KeyError, ImportError):
            import grp

            internal_group = grp.getgrgid(os.getegid()).gr_name
    return f"""# written by tests/mailservers.py
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:{root}/mail/%u
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
first_valid_uid = {mail_uid}
first_valid_gid = {mail_gid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


def _wait_for_greeting(host: str, port: int, process: subprocess.Popen[bytes],
                       server: DovecotServer, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dovecot exited with {process.returncode}:\n{server.log()}")
        try:
            with socket.create_connection((host, port), timeout=1) as sock:
                if sock.recv(64).startswith(b"* OK"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"dovecot did not answer on {host}:{port} within {timeout}s:\n"
                       f"{server.log()}")


@contextlib.contextmanager
def dovecot_server() -> Iterator[DovecotServer]:
    binary = find_dovecot()
    if binary is None:
        _missing("Dovecot (the dovecot-imapd package)")
    root = Path(tempfile.mkdtemp(prefix="threadline-dovecot-"))
    root.chmod(0o755)  # Dovecot's unprivileged processes must reach base_dir
    if os.geteuid() == 0:
        account = pwd.getpwnam("dovecot")
        mail_uid, mail_gid = account.pw_uid, account.pw_gid
    else:
        mail_uid, mail_gid = os.geteuid(), os.getegid()
    for sub in ("mail", "home"):
        (root / sub).mkdir()
        if os.geteuid() == 0:
            os.chown(root / sub, mail_uid, mail_gid)
    (root / "passwd").write_text(f"{TEST_USER}:{{PLAIN}}{TEST_PASSWORD}\n")
    port = free_port()
    config = root / "dovecot.conf"
    config.write_text(_dovecot_config(root, port, mail_uid, mail_gid))
    server = DovecotServer(host="127.0.0.1", port=port, root=root, mail_uid=mail_uid,
                           mail_gid=mail_gid)
    with open(root / "stdout.log", "wb") as out:
        process = subprocess.Popen([binary, "-F", "-c", str(config)], stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        _wait_for_greeting(server.host, port, process, server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        shutil.rmtree(root, ignore_errors=True)


# --- SMTP (aiosmtpd) --------------------------------------------------------------------------


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    authenticated_as: str | None

    @property
    def parsed(self) -> EmailMessage:
        message = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(message, EmailMessage)
        return message


@dataclass
class RecordingHandler:
    """An aiosmtpd handler that keeps every accepted mail; set *_reply to refuse with a code."""

    messages: list[ReceivedMail] = field(default_factory=list)
    rcpt_reply: str | None = None  # e.g. "550 5.1.1 No such user"
    data_reply: str | None = None  # e.g. "451 4.3.0 Try again later"
    data_replies: list[str] = field(default_factory=list)  # consumed one per DATA, first

    def reset(self) -> None:
        self.messages.clear()
        self.rcpt_reply = self.data_reply = None
        self.data_replies.clear()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_replies:
            return self.data_replies.pop(0)
        if self.data_reply:
            return self.data_reply
        login = session.auth_data.login if session.auth_data is not None else None
        self.messages.append(ReceivedMail(
            mail_from=envelope.mail_from, rcpt_tos=list(envelope.rcpt_tos),
            data=bytes(envelope.original_content or envelope.content),
            authenticated_as=login.decode() if isinstance(login, bytes) else login))
        return "250 2.0.0 Message accepted for delivery"


@dataclass
class SmtpServer:
    host: str
    port: int
    handler: RecordingHandler
    user: str = TEST_USER
    password: str = TEST_PASSWORD

    @property
    def messages(self) -> list[ReceivedMail]:
        return self.handler.messages

    def account_config(self, **extra: Any) -> dict[str, Any]:
        return {"smtp_host": self.host, "smtp_port": self.port, "smtp_starttls": False,
                "username": self.user, "password": self.password,
                "address": "support@acme-support.com", "display_name": "Acme Support",
                **extra}


@contextlib.contextmanager
def smtp_server(*, auth_required: bool = True) -> Iterator[SmtpServer]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login == TEST_USER.encode()
              and auth_data.password == TEST_PASSWORD.encode())
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    handler = RecordingHandler()
    port = free_port()
    with warnings.catch_warnings():  # plain AUTH without TLS is fine on loopback in tests
        warnings.simplefilter("ignore", UserWarning)
        controller = Controller(handler, hostname="127.0.0.1", port=port,
                                authenticator=authenticator, auth_required=auth_required,
                                auth_require_tls=False, ready_timeout=10)
    controller.start()
    try:
        yield SmtpServer(host="127.0.0.1", port=port, handler=handler)
    finally:
        controller.stop()
