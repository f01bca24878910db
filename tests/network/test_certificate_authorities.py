"""Both transports trust the same certificate authorities, from the same environment variables,
and reach an https CloudOS through a proxy's CONNECT tunnel alike."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from forward_proxy import ForwardProxy
from tls_server import SESSION, SESSION_ID, TlsServer

from airflow_provider_cloudos.client import AsyncCloudOSClient, CloudOSClient, RetryPolicy
from airflow_provider_cloudos.core.errors import CloudOSAPIError

KEY = "SENTINEL-cloudos-key-7f3a9c"
WORKSPACE = "5c6d3e9bd954e800b23f8c62"
CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (*CA_VARIABLES, *PROXY_VARIABLES, "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def server(tmp_path: Path):
    with TlsServer(tmp_path) as running:
        yield running


def look(transport: str, url: str) -> dict:
    """One ``get_session`` with a client built now (so it reads the environment now)."""
    once = RetryPolicy(max_attempts=1)
    if transport == "blocking":
        with CloudOSClient(url, KEY, WORKSPACE, retry_policy=once) as client:
            return client.get_session(SESSION_ID)

    async def run() -> dict:
        async with AsyncCloudOSClient(url, KEY, WORKSPACE, retry_policy=once) as client:
            return await client.get_session(SESSION_ID)

    return asyncio.run(run())


TRANSPORTS = ["blocking", "async"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_unknown_authority_is_refused_as_a_tls_failure(server, environment, transport):
    with pytest.raises(CloudOSAPIError) as raised:
        look(transport, server.url)
    message = str(raised.value)
    assert "TLS handshake failed" in message
    assert "certificate verify failed" in message
    assert "CA bundle" in message
    assert KEY not in message
    for dump in ("HTTPSConnectionPool", "Max retries", "ClientConnector", "SSLContext object", "["):
        assert dump not in message, dump


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_environment_ca_bundle_is_trusted_by_both_transports(server, environment, transport, variable):
    environment.setenv(variable, str(server.certificate))
    assert look(transport, server.url) == SESSION


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_https_cloudos_is_reached_through_the_proxys_connect_tunnel(server, environment, transport):
    environment.setenv("SSL_CERT_FILE", str(server.certificate))
    with ForwardProxy() as proxy:
        environment.setenv("HTTPS_PROXY", proxy.url)
        assert look(transport, server.url) == SESSION
        assert proxy.count("CONNECT", server.url.removeprefix("https://")) == 1
