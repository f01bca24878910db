"""Where requests go and which certificate authorities they trust: one rule for both transports.

``requests`` reads the proxy and CA variables of the environment on its own, aiohttp does not
(unless a session trusts the environment, which a shared pool cannot do per client), and each
library has its own quirks (``requests`` ignores ``SSL_CERT_FILE``; aiohttp ignores
``REQUESTS_CA_BUNDLE``). So neither library decides: this module reads the connection and the
environment once, when a client is built, and both clients send exactly what it says.

The rule:

* proxy: the connection's ``proxy`` extra, else the environment's ``HTTPS_PROXY`` (for an https
  CloudOS URL) or ``HTTP_PROXY`` (for http), else ``ALL_PROXY``; none when the CloudOS host
  matches the connection's ``no_proxy`` extra or the environment's ``NO_PROXY`` (host names,
  domain suffixes such as ``.example.org``, IP networks such as ``10.0.0.0/8``, or ``*``);
* CA bundle: the connection's ``ssl_cert`` extra, else ``REQUESTS_CA_BUNDLE``,
  ``CURL_CA_BUNDLE``, ``SSL_CERT_FILE`` or ``SSL_CERT_DIR`` (the first one set), else the
  library's default; ``verify_ssl`` false turns verification off whatever is set.

Proxy URLs may carry credentials (``http://user:secret@proxy:3128``); :func:`redact_credentials`
takes them out of any text meant for a person, and :func:`proxy_secrets` lists them for the
redaction of error messages.
"""

from __future__ import annotations

import base64
import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from airflow_provider_cloudos.core.errors import CloudOSValidationError

#: Environment variables naming a CA bundle, in the order they are looked at.
CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")
PROXY_SCHEMES = ("http", "https")

_HOST_AND_PORT = re.compile(r"[^:\[\]]+:\d+")
_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s'\"]+@")


def redact_credentials(text: str) -> str:
    """``text`` with the ``user:password@`` part of every URL in it replaced by ``***@``."""
    return _USERINFO.sub(r"\g<scheme>***@", text)


@dataclass(frozen=True)
class Route:
    """The proxy a client sends through (None: straight to CloudOS); its repr hides credentials."""

    proxy: str | None = field(default=None, repr=False)
    source: str = "none"

    @property
    def proxy_display(self) -> str | None:
        return None if self.proxy is None else redact_credentials(self.proxy)

    def __repr__(self) -> str:
        return f"Route(proxy={self.proxy_display!r}, source={self.source!r})"

    def credentials(self) -> tuple[str, str] | None:
        """(user, password) of the proxy URL, decoded; None when it has none."""
        if self.proxy is None:
            return None
        parts = urlsplit(self.proxy)
        if parts.username is None:
            return None
        return unquote(parts.username), unquote(parts.password or "")

    def basic_authorization(self) -> str | None:
        """The ``Proxy-Authorization`` value for the proxy URL's credentials, None without any."""
        credentials = self.credentials()
        if credentials is None:
            return None
        token = base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode("ascii")
        return f"Basic {token}"

    def without_credentials(self) -> str | None:
        """The proxy URL with no ``user:password@`` (aiohttp takes them as a header instead)."""
        if self.proxy is None:
            return None
        parts = urlsplit(self.proxy)
        host = parts.netloc.rsplit("@", 1)[-1]
        return parts._replace(netloc=host).geturl()

    def secrets(self) -> tuple[str, ...]:
        """What must never show in a message: the password, and the header made of it."""
        authorization = self.basic_authorization()
        token = (authorization.split(" ", 1)[1],) if authorization else ()
        return (*proxy_secrets(self.proxy), *token)


def proxy_secrets(proxy: str | None) -> tuple[str, ...]:
    """The password of a proxy URL, raw and decoded, for redaction (empty when there is none)."""
    if not proxy:
        return ()
    try:
        password = urlsplit(proxy).password
    except ValueError:
        return ()
    if not password:
        return ()
    return tuple({password, unquote(password)})


def check_proxy_url(value: object, parameter: str = "proxy") -> str | None:
    """A proxy URL (``http://host:port``, optionally with credentials), checked; blank is None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise CloudOSValidationError(parameter, value, "expected a proxy URL such as http://proxy:3128")
    text = value.strip()
    if not text:
        return None
    if "://" not in text:
        text = f"http://{text}"
    shown = redact_credentials(text)
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - reading it is the check: a port that is not a number raises
    except ValueError:
        raise CloudOSValidationError(parameter, shown, "not a usable proxy URL (check the port)") from None
    if parts.scheme.lower() not in PROXY_SCHEMES:
        raise CloudOSValidationError(
            parameter, shown, f"the proxy scheme must be http or https, not {parts.scheme!r}"
        )
    if not parts.hostname:
        raise CloudOSValidationError(parameter, shown, "the proxy URL names no host")
    return text


def check_no_proxy(value: object, parameter: str = "no_proxy") -> str | None:
    """A ``no_proxy`` list: comma-separated hosts, domain suffixes, IP networks or ``*``."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        value = ",".join(str(item) for item in value)
    if not isinstance(value, str):
        raise CloudOSValidationError(parameter, value, "expected comma-separated host names")
    entries = [entry.strip() for entry in value.split(",") if entry.strip()]
    return ",".join(entries) or None


def _matches(host: str, authority: str, entry: str) -> bool:
    """Whether one ``no_proxy`` entry covers a host (``authority`` is ``host:port``)."""
    if entry == "*":
        return True
    if "/" in entry:
        try:
            return ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False)
        except ValueError:
            return False
    name = entry.lstrip(".").lower()
    if not name:
        return False
    target = authority if _HOST_AND_PORT.fullmatch(name) else host
    return target == name or target.endswith("." + name)


def bypasses_proxy(url: str, no_proxy: str | None) -> bool:
    """True when the host of ``url`` matches an entry of ``no_proxy`` (a host name, a domain
    suffix with or without its leading dot, ``host:port``, an IP network, or ``*``)."""
    if not no_proxy:
        return False
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    authority = f"{host}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
    return any(_matches(host, authority, entry.strip()) for entry in no_proxy.split(",") if entry.strip())


def _environment_proxies(environ: Mapping[str, str]) -> dict[str, str]:
    """``{scheme: proxy}`` (and ``"no"``) from ``*_proxy`` variables; the lowercase name wins, as
    with curl and ``requests``."""
    found: dict[str, str] = {}
    for lowercase_pass in (False, True):
        for name, value in environ.items():
            if not value or not name.lower().endswith("_proxy") or (name == name.lower()) != lowercase_pass:
                continue
            found[name[: -len("_proxy")].lower()] = value
    return found


def choose_route(
    base_url: str,
    proxy: str | None = None,
    no_proxy: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Route:
    """The proxy for requests to ``base_url`` (see the module's rule)."""
    env = os.environ if environ is None else environ
    proxy = check_proxy_url(proxy)
    found = _environment_proxies(env)
    exclusions = ",".join(part for part in (check_no_proxy(no_proxy), found.get("no")) if part)
    if bypasses_proxy(base_url, exclusions):
        return Route(None, "no_proxy")
    if proxy is not None:
        return Route(proxy, "connection")
    scheme = urlsplit(base_url).scheme.lower()
    from_env = found.get(scheme) or found.get("all")
    if not from_env:
        return Route(None, "none")
    return Route(check_proxy_url(from_env, f"{scheme.upper()}_PROXY"), "environment")


def verify_from_environment(verify: bool | str, environ: Mapping[str, str] | None = None) -> bool | str:
    """The TLS setting to use: an explicit bundle or False as given; True picks up the environment's
    CA bundle (``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``, ``SSL_CERT_FILE``, ``SSL_CERT_DIR``).

    A variable naming a path that does not exist is refused by name: otherwise each library
    would fail in its own words at the first request, or (aiohttp) silently ignore it.
    """
    if verify is not True:
        return verify
    env = os.environ if environ is None else environ
    for name in CA_BUNDLE_VARIABLES:
        value = (env.get(name) or "").strip()
        if value:
            if not os.path.exists(value):
                raise CloudOSValidationError(name, value, "no CA bundle file or directory at this path")
            return value
    return True


__all__ = [
    "CA_BUNDLE_VARIABLES",
    "Route",
    "bypasses_proxy",
    "check_no_proxy",
    "check_proxy_url",
    "choose_route",
    "proxy_secrets",
    "redact_credentials",
    "verify_from_environment",
]
