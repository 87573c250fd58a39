"""`threadline keys`: the encryption keys of the credentials at rest."""

from __future__ import annotations

import typer

from threadline.cli.common import PlainCommand, print_json, runtime, typer_app

app = typer_app("Encryption keys of the credentials at rest.")


@app.command("generate", cls=PlainCommand)
def generate() -> None:
    """Print a new random key (put it first in THREADLINE_ENCRYPTION_KEYS)."""
    from cryptography.fernet import Fernet

    typer.echo(Fernet.generate_key().decode())


@app.command("rotate", cls=PlainCommand)
def rotate() -> None:
    """Re-encrypt every stored credential with the first key of THREADLINE_ENCRYPTION_KEYS."""
    from threadline.db.crypto import rotate_keys
    from threadline.db.models import load_all

    rt = runtime()
    try:
        with rt.db.session() as session:
            count = rotate_keys(session, load_all().metadata)
    finally:
        rt.close()
    print_json({"rotated": count})
