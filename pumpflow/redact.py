"""Strip credentials from URLs before they reach logs or metric labels."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

# Provider keys travel as path segments (/v2/<key>) or query values (?api-key=<key>).
_SECRETISH = re.compile(r"^[A-Za-z0-9_\-]{16,}$")


def redact_url(url: str) -> str:
    """Keep scheme, host, port and the shape of the path; hide user info, keys and query values."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    if parts.username or parts.password:
        host = f"***@{host}"
    path = "/".join("***" if _SECRETISH.match(seg) else seg for seg in parts.path.split("/"))
    query = (
        "&".join(f"{kv.split('=', 1)[0]}=***" for kv in parts.query.split("&") if kv) if parts.query else ""
    )
    return urlunsplit((parts.scheme, host, path, query, ""))
