"""Small helpers to read settings from the environment (see README, "Configuration")."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on", "oui"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return int(value)


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def env_secret(name: str, default: str = "") -> str:
    """Read NAME, or the content of the file named by NAME_FILE (Docker/systemd secrets)."""
    value = os.environ.get(name)
    if value:
        return value
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text(encoding="utf-8").strip()
    return default


def email_config(url: str, file_path: Path) -> dict:
    """Turn EMAIL_URL into Django e-mail settings.

    Accepted: ``smtp://user:password@host:25``, ``smtp+tls://…:587`` (STARTTLS),
    ``smtps://…:465`` (implicit TLS), ``console://``, ``file:///path``, ``locmem://``.
    An empty URL writes each message as a file under ``file_path``.
    """
    if not url:
        return {"EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend", "EMAIL_FILE_PATH": str(file_path)}
    parsed = urlparse(url)
    scheme = parsed.scheme.lower()
    if scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if scheme == "locmem":
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    if scheme == "file":
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": unquote(parsed.path) or str(file_path),
        }
    if scheme in {"smtp", "smtp+tls", "submission", "smtps"}:
        options = parse_qs(parsed.query)
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": parsed.hostname or "localhost",
            "EMAIL_PORT": parsed.port or {"smtps": 465, "smtp+tls": 587, "submission": 587}.get(scheme, 25),
            "EMAIL_HOST_USER": unquote(parsed.username or ""),
            "EMAIL_HOST_PASSWORD": unquote(parsed.password or ""),
            "EMAIL_USE_TLS": scheme in {"smtp+tls", "submission"},
            "EMAIL_USE_SSL": scheme == "smtps",
            "EMAIL_TIMEOUT": int(options.get("timeout", ["10"])[0]),
        }
    raise ValueError(f"EMAIL_URL: unsupported scheme {scheme!r}")


def storage_config(url: str) -> dict:
    """Turn STORAGE_URL into the OPTIONS of common.storage.PrivateS3Storage.

    ``s3://KEY:SECRET@host[:port]/bucket[/prefix]`` (HTTPS) or ``s3+http://…`` (plain HTTP,
    a server on this machine: MinIO, moto). Query: ``region=eu-west-3``,
    ``addressing=path|virtual`` (default ``path`` when a host is given). KEY and SECRET
    are URL-encoded; without them boto3 finds credentials itself (AWS_ACCESS_KEY_ID…,
    an instance role). ``s3:///bucket`` (no host) is Amazon S3 itself.
    """
    parsed = urlparse(url)
    scheme = parsed.scheme.lower()
    if scheme not in ("s3", "s3+http", "s3+https"):
        raise ValueError(f"STORAGE_URL: unsupported scheme {parsed.scheme!r} (s3:// or s3+http://)")
    bucket, _, prefix = parsed.path.lstrip("/").partition("/")
    if not bucket:
        raise ValueError("STORAGE_URL: the bucket is missing (s3://key:secret@host/bucket)")
    query = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
    options: dict = {"bucket_name": bucket, "location": prefix.strip("/")}
    if parsed.hostname:
        protocol = "http" if scheme == "s3+http" else "https"
        port = f":{parsed.port}" if parsed.port else ""
        options["endpoint_url"] = f"{protocol}://{parsed.hostname}{port}"
        options["addressing_style"] = query.get("addressing", "path")
    elif "addressing" in query:
        options["addressing_style"] = query["addressing"]
    if parsed.username:
        options["access_key"] = unquote(parsed.username)
        options["secret_key"] = unquote(parsed.password or "")
    if "region" in query:
        options["region_name"] = query["region"]
    return options
