"""Push the dashboards to a running Grafana over its HTTP API (``casewatch dashboards push``).

Creates the folder ``casewatch`` (uid ``casewatch``) if missing, renames it back if someone
renamed it, then creates or overwrites each dashboard in it (``POST /api/dashboards/db`` with
``overwrite: true``), authenticated with a service-account token (``Authorization: Bearer``).
Uses grafana-client; nothing here reads the environment (the CLI resolves the token).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional
from urllib.parse import urlparse

import niquests
from grafana_client import GrafanaApi
from grafana_client.client import (
    GrafanaClientError,
    GrafanaException,
    GrafanaTimeoutError,
    GrafanaUnauthorizedError,
)

from .common import FOLDER_TITLE, FOLDER_UID

PUSH_MESSAGE = "casewatch dashboards push"


class PushError(RuntimeError):
    """Pushing failed; the message says what to do about it (never contains the token)."""


@dataclass(frozen=True)
class Pushed:
    uid: str
    title: str
    url: str
    version: Optional[int]
    status: str


def _explain(exc: Exception, base_url: str, what: str) -> PushError:
    if isinstance(exc, GrafanaUnauthorizedError):
        return PushError(
            f"Grafana at {base_url} rejected the token (401 Unauthorized) while {what}: the token is "
            "missing, wrong or expired. Create a service account token with the Editor role in "
            "Grafana (Administration > Users and access > Service accounts) and pass it via --token-env.")
    if isinstance(exc, GrafanaClientError) and exc.status_code == 403:
        return PushError(
            f"Grafana at {base_url} refused {what} (403 Forbidden): the token's service account needs "
            "the Editor role (or folder and dashboard write permissions).")
    if isinstance(exc, GrafanaTimeoutError):
        return PushError(f"Grafana at {base_url} did not answer in time while {what}.")
    if isinstance(exc, GrafanaException):
        return PushError(f"Grafana at {base_url} failed while {what}: {exc.message}")
    if isinstance(exc, niquests.exceptions.RequestException):
        return PushError(f"cannot reach Grafana at {base_url} while {what}: {exc.__class__.__name__}: {exc}")
    return PushError(f"pushing to Grafana at {base_url} failed while {what}: {exc}")


def connect(url: str, token: str, timeout: float = 10.0) -> GrafanaApi:
    if not token:
        raise PushError("no Grafana token given: set the variable named by --token-env or pass --token")
    if not url.startswith(("http://", "https://")):
        raise PushError(f"--url must start with http:// or https://, got {url!r}")
    base = url.rstrip("/")
    # grafana-client appends "api" to the URL's path as is: a sub-path needs its trailing slash.
    if urlparse(base).path:
        base += "/"
    return GrafanaApi.from_url(base, credential=token, timeout=timeout)


def ensure_folder(api: GrafanaApi, base_url: str, uid: str = FOLDER_UID, title: str = FOLDER_TITLE) -> str:
    """The folder's uid, creating the folder (or restoring its title) when needed."""
    try:
        folder = api.folder.get_folder(uid)
    except GrafanaClientError as exc:
        if isinstance(exc, GrafanaUnauthorizedError) or exc.status_code != 404:
            raise _explain(exc, base_url, f"looking up folder {uid!r}") from None
        folder = None
    except Exception as exc:  # connection errors, timeouts, 5xx
        raise _explain(exc, base_url, f"looking up folder {uid!r}") from None
    try:
        if folder is None:
            folder = api.folder.create_folder(title, uid=uid)
        elif folder.get("title") != title:
            folder = api.folder.update_folder(uid, title=title, version=folder.get("version"), overwrite=True)
    except Exception as exc:
        raise _explain(exc, base_url, f"creating folder {uid!r}") from None
    return folder.get("uid", uid)


def push_dashboards(url: str, token: str, dashboards: Mapping[str, Mapping], *, folder_uid: str = FOLDER_UID,
                    folder_title: str = FOLDER_TITLE, timeout: float = 10.0) -> list[Pushed]:
    """Create or overwrite every dashboard (uid -> dashboard JSON) in the casewatch folder."""
    base_url = url.rstrip("/")
    api = connect(base_url, token, timeout)
    folder = ensure_folder(api, base_url, folder_uid, folder_title)
    pushed = []
    for uid, model in sorted(dashboards.items()):
        body = {key: value for key, value in model.items() if key != "id"}
        if body.get("uid") != uid:
            raise PushError(f"dashboard keyed {uid!r} carries uid {body.get('uid')!r}")
        payload = {"dashboard": body, "folderUid": folder, "overwrite": True, "message": PUSH_MESSAGE}
        try:
            answer = api.dashboard.update_dashboard(payload)
        except Exception as exc:
            raise _explain(exc, base_url, f"saving dashboard {uid!r}") from None
        pushed.append(Pushed(uid=uid, title=str(body.get("title", "")), url=base_url + str(answer.get("url", "")),
                             version=answer.get("version"), status=str(answer.get("status", ""))))
    return pushed
