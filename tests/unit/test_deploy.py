"""The deployment files and ``factdesk invite-url``: what the README's guide tells an operator to use."""

from __future__ import annotations

import base64
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import discord
import pytest
from typer.testing import CliRunner

from bot.cli.app import _register, app
from tests.conftest import REPO

UNITS = sorted((REPO / "deploy").glob("*.service"))
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed (apt-get install systemd)")
@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_unit_files_verify(unit: Path, tmp_path: Path) -> None:
    """`systemd-analyze verify`, with the venv paths pointed at this interpreter's (it checks they exist)."""
    assert SYSTEMD_ANALYZE is not None
    local = tmp_path / unit.name
    local.write_text(unit.read_text().replace("/opt/factdesk/venv/bin/", f"{Path(sys.executable).parent}/"))
    done = subprocess.run([SYSTEMD_ANALYZE, "verify", str(local)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", done.stderr  # no unknown keys or other warnings


def test_the_bot_unit_runs_the_installed_factdesk() -> None:
    text = (REPO / "deploy" / "factdesk.service").read_text()
    assert "ExecStart=/opt/factdesk/venv/bin/factdesk --env-file /etc/factdesk/factdesk.env serve" in text
    assert "After=network-online.target" in text and "Restart=on-failure" in text


def test_invite_url_has_exactly_the_scopes_and_permissions() -> None:
    _register()
    app_id = "123456789012345678"
    token = base64.b64encode(app_id.encode()).decode().rstrip("=") + ".GhIjKl." + "x" * 27
    result = CliRunner().invoke(app, ["--env-file", "/nonexistent.env", "invite-url"], env={"DISCORD_TOKEN": token})
    assert result.exit_code == 0, result.stderr
    query = parse_qs(urlsplit(result.stdout.strip()).query)
    assert query["client_id"] == [app_id]
    assert query["scope"] == ["bot applications.commands"]
    granted = {name for name, on in discord.Permissions(int(query["permissions"][0])) if on}
    assert granted == {
        "read_messages",  # discord.py's name for View Channel
        "send_messages",
        "embed_links",
        "read_message_history",
        "create_public_threads",
        "send_messages_in_threads",
    }


def test_invite_url_without_token_or_id_is_one_line() -> None:
    _register()
    result = CliRunner().invoke(app, ["--env-file", "/nonexistent.env", "invite-url"])
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "DISCORD_TOKEN" in result.stderr
