"""pip's `cert`, `client-cert`, `trusted-host` and `extra-index-url` reach pip and uv alike (issue 12).

A real HTTPS index on 127.0.0.1, signed by a CA made in the test: each setting, given only in
`pip.conf`, decides whether a build can reach it, with pip and with uv; a control run without
the setting fails, so a pass proves that the setting was handed over.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reprorun.envs.installers.uv import find_uv
from siteindex import certificates, https_index, simple_index
from wheelhouse import Spec, build_wheel

pytestmark = [pytest.mark.slow, pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")]
INSTALLERS = ["pip", pytest.param("uv", marks=pytest.mark.skipif(find_uv() is None, reason="uv is not installed"))]
SCRIPT = '# /// script\n# dependencies = ["beta"]\n# ///\nimport alpha, beta\nprint("alpha", alpha.__version__)\n'
# 127.0.0.1 only; no retries: the control runs fail at once instead of backing off for minutes.
NETWORK = {"UV_OFFLINE": "0", "PIP_RETRIES": "0", "UV_HTTP_RETRIES": "0"}


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> dict[str, Path]:
    return certificates(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def site(tmp_path, monkeypatch, wheelhouse):
    """No PIP_* variable, a user pip.conf to write, and an index of the test wheels."""
    for name in ("PIP_FIND_LINKS", "PIP_NO_INDEX", "PIP_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "etc-xdg"))
    # This machine sets CA bundles for every tool; requests (inside pip) lets REQUESTS_CA_BUNDLE and
    # CURL_CA_BUNDLE override any --cert. A site relying on pip.conf's cert has none of them.
    for name in ("SSL_CERT_FILE", "SSL_CLIENT_CERT", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    conf = tmp_path / "config" / "pip" / "pip.conf"
    conf.parent.mkdir(parents=True)
    path = tmp_path / "s.py"
    path.write_text(SCRIPT)
    index = simple_index(tmp_path / "index" / "simple", wheelhouse.glob("*.whl"))
    return {"conf": conf, "script": path, "index": index}


def build(run_reprorun, site, installer, conf_text):
    site["conf"].write_text(conf_text)
    return run_reprorun("--installer", installer, "--refresh", site["script"], env=NETWORK)


@pytest.mark.parametrize("installer", INSTALLERS)
def test_cert(run_reprorun, site, certs, installer):
    with https_index(site["index"].parent, certs) as url:
        index = f"[global]\nindex-url = {url}simple/\n"
        refused = build(run_reprorun, site, installer, index)
        assert refused.returncode == 1  # the control: the test CA is not trusted by default
        trusted = build(run_reprorun, site, installer, index + f"cert = {certs['ca']}\n")
    assert (trusted.returncode, trusted.stdout) == (0, "alpha 2.0\n"), trusted.stderr


@pytest.mark.parametrize("installer", INSTALLERS)
def test_trusted_host(run_reprorun, site, certs, installer):
    with https_index(site["index"].parent, certs) as url:
        host = url.split("/")[2]  # 127.0.0.1:PORT, as pip.conf would name it
        result = build(run_reprorun, site, installer, f"[global]\nindex-url = {url}simple/\ntrusted-host = {host}\n")
    assert (result.returncode, result.stdout) == (0, "alpha 2.0\n"), result.stderr


@pytest.mark.parametrize("installer", INSTALLERS)
def test_client_cert(run_reprorun, site, certs, installer):
    with https_index(site["index"].parent, certs, require_client=True) as url:
        index = f"[global]\nindex-url = {url}simple/\ncert = {certs['ca']}\n"
        refused = build(run_reprorun, site, installer, index)
        assert refused.returncode == 1  # the control: the server wants a client certificate
        admitted = build(run_reprorun, site, installer, index + f"client-cert = {certs['client']}\n")
    assert (admitted.returncode, admitted.stdout) == (0, "alpha 2.0\n"), admitted.stderr


@pytest.mark.parametrize("installer", INSTALLERS)
def test_extra_index_url_takes_the_best_version_from_all_indexes(run_reprorun, site, tmp_path, installer):
    # pip's rule: the best version across every index; uv is told the same (unsafe-best-match).
    old = simple_index(tmp_path / "old" / "simple", [build_wheel(Spec("alpha", "1.0", "alpha"), tmp_path / "w1"),
                                                     *site["index"].parent.glob("simple/beta/*.whl")])  # fmt: skip
    new = simple_index(tmp_path / "new" / "simple", [build_wheel(Spec("alpha", "3.0", "alpha"), tmp_path / "w3")])
    text = f"[global]\nindex-url = {old.as_uri()}/\nextra-index-url = {new.as_uri()}/\n"
    result = build(run_reprorun, site, installer, text)
    assert (result.returncode, result.stdout) == (0, "alpha 3.0\n"), result.stderr
