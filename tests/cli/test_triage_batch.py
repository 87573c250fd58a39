"""`threadline triage --jsonl`: many messages in one process, one JSON object out per line
in, in order; bad lines answered with their number and a typed error (and exit code 1),
never a traceback; huge lines refused without being held whole."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from threadline.cli import app
from threadline.triage.cli import MAX_LINE_BYTES, bounded_lines

runner = CliRunner()


def _out(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_a_file_of_messages_in_order_with_ids(tmp_path: Path) -> None:
    lines = [{"id": 1, "text": "my card was charged twice, fix it now!"},
             "love you guys, best service ever",
             {"id": "es-1", "text": "hola, mi pedido no ha llegado", "visibility": "private"},
             {"id": 4, "text": "Call me on +1 415 555 0100", "outbound": True}]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(x) for x in lines) + "\n\n", encoding="utf-8")
    result = runner.invoke(app, ["triage", "--jsonl", str(source)])
    assert result.exit_code == 0, result.stdout
    out = _out(result)
    assert [o.get("id") for o in out] == [1, None, "es-1", 4]
    assert out[0]["category"] == "complaint" and out[0]["public_ok"] is False
    assert out[1]["sentiment"] == "positive"
    assert out[2]["language"] == "es"
    assert "blocked" in out[3]  # the outbound guard's verdict


def test_bad_lines_get_their_number_and_a_typed_error() -> None:
    text = "\n".join(['{"text": "fine"}', "[1, 2]", '{"text": 5}', "not json",
                      '{"text": "x", "visibility": "everywhere"}',
                      '{"text": "x", "outbound": "yes"}', '{"text": "x", "id": {"a": 1}}',
                      '"\\u0000 nul and \\ud800 lone surrogate"'])
    raw = text.encode() + b'\n"\xff\xfe not UTF-8"\n'
    result = runner.invoke(app, ["triage", "--jsonl", "-"], input=raw)
    assert result.exit_code == 1
    out = _out(result)
    assert "Traceback" not in result.output
    errors = {o["line"]: o["error"]["code"] for o in out if "error" in o}
    assert errors == {2: "invalid_line", 3: "invalid_text", 4: "invalid_json",
                      5: "invalid_visibility", 6: "invalid_outbound", 7: "invalid_id",
                      9: "invalid_json"}
    assert len(out) == 9  # line 8 (NUL and a lone surrogate) is triaged like any text
    assert "category" in out[7]


def test_any_id_or_text_is_written_as_json() -> None:
    lines = b'{"id": "\\ud800", "text": "x"}\n' + b'{"id": "\xc3\xa9", "text": "y"}\n'
    result = runner.invoke(app, ["triage", "--jsonl", "-"], input=lines)
    assert result.exit_code == 0, result.output
    assert [o["id"] for o in _out(result)] == ["\ud800", "\u00e9"]


def test_a_huge_line_is_refused_and_the_next_one_read() -> None:
    huge = json.dumps({"text": "a" * (MAX_LINE_BYTES + 10)})
    result = runner.invoke(app, ["triage", "--jsonl", "-"],
                           input=(huge + "\n" + '{"text": "still here"}\n').encode())
    assert result.exit_code == 1
    out = _out(result)
    assert out[0] == {"line": 1, "error": {"code": "line_too_long", "message":
                                           f"a line may hold at most {MAX_LINE_BYTES} bytes"}}
    assert "category" in out[1]


def test_a_long_line_is_never_held_whole() -> None:
    import io

    stream = io.BytesIO(b"x" * 50 + b"\nshort\n")
    assert [len(line) for line in bounded_lines(stream, limit=10)] == [11, 6]


def test_text_or_jsonl_not_both_and_not_neither(tmp_path: Path) -> None:
    for args in (["triage"], ["triage", "hello", "--jsonl", "-"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2
        assert "give either TEXT or --jsonl FILE" in result.output
    missing = runner.invoke(app, ["triage", "--jsonl", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 2 and "cannot read" in missing.output


def test_two_thousand_lines_through_one_process_on_standard_input() -> None:
    texts = [f"order {i} still not here, where is it?" if i % 2 else f"thanks for #{i}!"
             for i in range(2000)]
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "threadline.cli", "triage", "--jsonl", "-"],
                          input="\n".join(json.dumps({"id": i, "text": t})
                                          for i, t in enumerate(texts)),
                          capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-2000:]
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o["id"] for o in out] == list(range(2000))
    print(f"2,000 messages triaged in one process in {elapsed:.1f} s")
