"""The TLS proxy configurations in docs/feeds.md pass the tools' own syntax checks (where
the tool is installed), and say what the docs promise (HSTS, no access log, /feeds/ only)."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "feeds.md"


def _block(language: str) -> str:
    (block,) = re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    return block


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed here: its syntax check is skipped")
    return path


def test_the_caddyfile_is_valid_and_a_broken_one_is_not(tmp_path):
    caddy = _need("caddy")
    block = _block("caddyfile")
    assert "Strict-Transport-Security" in block and "reverse_proxy 127.0.0.1:8080" in block
    assert "handle /feeds/*" in block and "read_header 10s" in block
    assert not re.search(r"^\s*log\b", block, flags=re.M)  # no access log

    def validate(text: str) -> subprocess.CompletedProcess:
        path = tmp_path / "Caddyfile"
        path.write_text(text)
        environment = {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
        return subprocess.run(
            [caddy, "validate", "--config", str(path), "--adapter", "caddyfile"],
            capture_output=True,
            text=True,
            timeout=60,
            env=environment,
        )

    checked = validate(block)
    assert checked.returncode == 0, checked.stderr
    assert validate(block.replace("reverse_proxy", "reverse_proxi")).returncode != 0  # the check does check


def test_the_nginx_site_is_valid_and_a_broken_one_is_not(tmp_path):
    nginx = _need("nginx")
    openssl = _need("openssl")
    block = _block("nginx")
    assert 'add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" always;' in block
    assert "access_log off;" in block and "client_header_timeout 10s;" in block
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in block
    # a throw-away certificate where the docs name certbot's
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=test"]
        + ["-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
        check=True,
        capture_output=True,
        timeout=60,
    )
    site = re.sub(r"/etc/letsencrypt/live/[^;]*/fullchain\.pem", str(tmp_path / "cert.pem"), block)
    site = re.sub(r"/etc/letsencrypt/live/[^;]*/privkey\.pem", str(tmp_path / "key.pem"), site)

    def check(text: str) -> subprocess.CompletedProcess:
        (tmp_path / "site.conf").write_text(text)
        (tmp_path / "nginx.conf").write_text(
            f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
            f"http {{\n    include {tmp_path}/site.conf;\n}}\n"
        )
        return subprocess.run(
            [nginx, "-t", "-q", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=60,
        )

    checked = check(site)
    assert checked.returncode == 0, checked.stderr
    assert check(site.replace("proxy_pass", "proxy_passs")).returncode != 0
