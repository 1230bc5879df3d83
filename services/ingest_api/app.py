"""The HTTP ingest service: case systems POST events; valid ones go to the case topic keyed by
``case_id``, rejected ones to the dead-letter topic, and the answer lists an outcome per event.

``POST /v1/events`` takes one event (a JSON object), a JSON array of events, or NDJSON
(``application/x-ndjson``, one event per line). Per event the response says ``accepted``,
``duplicate`` or ``rejected`` (with the contract's ``reason`` and, where useful, ``field``) and
the event's ``index`` in the request (0-based; for NDJSON, among the non-blank lines). It never
echoes a value from the input, not even the event id.

A request is answered only once Kafka has acknowledged every accepted event and dead letter
(``acks=all``, idempotent producer). If Kafka fails, the answer is 503 and the client sends the
whole request again: ids make that safe.

``duplicate`` means "this source sent an event with this id for this case recently (or earlier in
this request)"; it is a hint from a bounded in-memory window, not a guarantee. The worker
deduplicates authoritatively per ``(municipality, case_id, event_id)``, so an event sent twice
never counts twice whatever this service says.

Order of checks: bearer token (401; 429 + Retry-After once the client address has failed
too often, see :mod:`.auth_failures`), request rate and an empty event bucket (429 +
Retry-After), media type (415), body size (413) and time (408), events per request (413,
counted before any is validated; the cap, or the source's event burst when smaller), event rate (429, the request's events are the cost),
per-source event types, municipalities and registry units (403, naming the catalogue type or
the SCB codes and units, nothing produced). The answer lists one outcome per event, at most
the per-request cap, and ``rejected_by_reason`` sums them up.

Every POST leaves one audit line (services/audit.py: source, client address, request id, status,
counts; never a payload) and answers with its ``X-Request-ID``, except a failure refused 429 for
its address: those are summed up in one line per address and minute (``refused``), so a flood
of bad tokens cannot fill the disk. The client address is ``request.client``: the TCP peer, or,
from a peer uvicorn trusts as a proxy (``FORWARDED_ALLOW_IPS``, by default 127.0.0.1 only), the
nearest untrusted X-Forwarded-For entry. With a web config file
(services/web_config.py) ``/metrics`` and ``/openapi.json`` need its basic-auth users too.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Protocol

import anyio
import orjson
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from streams.contract.validate import Event, Rejection
from streams.event_size import DEFAULT_MAX_EVENT_BYTES, REFUSED, too_large

from ..audit import AuditLog, request_id_from
from ..web_config import REALM, WebConfig
from .auth import Source, Sources
from .auth_failures import DEFAULT_AUTH_FAILURES_PER_MINUTE, AuthFailureLimiter, address_key
from .limits import (DEFAULT_BODY_TIMEOUT_S, DEFAULT_MAX_BODY, DEFAULT_MAX_EVENTS, BodyTooLarge, RateLimiter,
                     RecentIds, read_body)
from .parsing import NDJSON_TYPES, Item, TooManyEvents, UnsupportedMediaType, media_type, split_body
from .parsing import _item as parse_event
from .openapi import openapi_document

log = logging.getLogger("casewatch.ingest_api")

UNAUTHENTICATED = "unauthenticated"


class EventSink(Protocol):
    """Where the service puts events. :meth:`submit` returns once Kafka acknowledged them all
    and raises on any failure; :meth:`ready` says whether Kafka answers now."""

    def submit(self, accepted: list[tuple[bytes, bytes]], rejected: list[tuple[bytes, Rejection]],
               source: str) -> None: ...

    def ready(self, timeout_s: float = 2.0) -> bool: ...


class Metrics:
    """The service's own registry (so tests and several apps in one process never collide)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("casewatch_ingest_api_requests", "HTTP requests to POST /v1/events by source and status code",
                                ["source", "status"], registry=self.registry)
        self.events = Counter("casewatch_ingest_api_events", "Events received by source and outcome",
                              ["source", "outcome"], registry=self.registry)
        self.rejections = Counter("casewatch_ingest_api_rejections", "Rejected events by source and reason",
                                  ["source", "reason"], registry=self.registry)
        self.seconds = Histogram("casewatch_ingest_api_request_duration_seconds", "Time to answer POST /v1/events",
                                 ["source"], registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


def _error(status: int, code: str, detail: str, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail, **extra}, status_code=status, headers=headers)


class IngestService:
    def __init__(self, settings, sources: Sources, sink: EventSink, *, max_body_bytes: int = DEFAULT_MAX_BODY,
                 recent: RecentIds | None = None, limiter: RateLimiter | None = None,
                 ready_timeout_s: float = 2.0, max_events: int = DEFAULT_MAX_EVENTS,
                 body_timeout_s: float = DEFAULT_BODY_TIMEOUT_S, registry=None,
                 audit: AuditLog | None = None, web: WebConfig | None = None,
                 auth_failures: AuthFailureLimiter | None = None) -> None:
        self.settings = settings
        self.audit = audit if audit is not None else AuditLog()
        self.web = web if web is not None else WebConfig()
        self.sources = sources
        self.sink = sink
        self.max_body = max_body_bytes
        self.max_events = max_events
        self.max_event_bytes = getattr(settings, "max_event_bytes", DEFAULT_MAX_EVENT_BYTES)
        self.body_timeout = body_timeout_s
        self.registry = registry
        self.recent = recent if recent is not None else RecentIds()
        self.limiter = limiter if limiter is not None else RateLimiter()
        self.event_limiter = RateLimiter(self.limiter.clock)
        self.auth_failures = auth_failures if auth_failures is not None else AuthFailureLimiter(
            getattr(settings, "ingest_api_auth_failures_per_minute", DEFAULT_AUTH_FAILURES_PER_MINUTE))
        self.metrics = Metrics()
        self.ready_timeout = ready_timeout_s
        for source in sources:  # every series exists from the start, at 0
            for outcome in ("accepted", "duplicate", "rejected"):
                self.metrics.events.labels(source.name, outcome)

    # -- POST /v1/events

    async def post_events(self, request: Request) -> Response:
        started = time.perf_counter()
        client = request.client.host if request.client else None
        # Valid tokens take precedence: the hash is checked first (a microsecond; the audit line
        # was the cost), so a flood from a shared address never locks a valid source out.
        source = self.sources.authenticate(request.headers.get("authorization"))
        name = source.name if source else UNAUTHENTICATED
        request_id = request_id_from(request.headers.get("x-request-id"))
        key = address_key(client)
        retry = self.auth_failures.retry_after(key) if source is None else 0
        if retry:
            self.auth_failures.refused(key)
            response = _error(429, "rate_limited", "too many requests without a valid token from this address; "
                              f"retry after {retry} s", {"Retry-After": str(retry)}, retry_after_s=retry)
        else:
            if source is None:
                self.auth_failures.failed(key)
            try:
                response = await self._post(request, source)
            except Exception:  # noqa: BLE001 - never a traceback with input in it to the client
                log.exception("ingest request failed unexpectedly (source=%s request_id=%s)", name, request_id)
                response = _error(500, "internal_error", "the request could not be processed; retry later")
        response.headers["X-Request-ID"] = request_id
        self.metrics.requests.labels(name, str(response.status_code)).inc()
        self.metrics.seconds.labels(name).observe(time.perf_counter() - started)
        if not retry:
            counts = getattr(request.state, "counts", None) or {}
            self.audit.record(actor=name, action="events.post", outcome=str(response.status_code),
                              client=client, request_id=request_id, **counts)
        self._write_refused_summaries()
        return response

    def _write_refused_summaries(self) -> None:
        """One line per address and window for the failures refused 429 (written at the first
        request after the window; evicted addresses' counts at once)."""
        for summary in self.auth_failures.due():
            log.info("ingest: 429 x%d without a valid token from %s in %d s", summary.refused, summary.client,
                     summary.window_s)
            self.audit.record(actor=UNAUTHENTICATED, action="events.post", outcome="429", client=summary.client,
                              request_id=request_id_from(None), refused=summary.refused, window_s=summary.window_s)

    async def _post(self, request: Request, source: Source | None) -> Response:
        if source is None:
            log.info("ingest: 401 (no or unknown bearer token)")
            return _error(401, "unauthorized", "send a valid bearer token: Authorization: Bearer <token>",
                          {"WWW-Authenticate": 'Bearer realm="casewatch-ingest"'})
        retry = self.limiter.check(source.name, source.rate_per_second, source.burst)
        if retry:
            log.info("ingest: 429 source=%s retry_after=%s", source.name, retry)
            return _error(429, "rate_limited", f"too many requests from this source; retry after {retry} s",
                          {"Retry-After": str(retry)}, retry_after_s=retry)
        if not self.event_limiter.available(source.name, source.events_per_second, source.event_burst):
            return self._rate_limited(source, 1, "events")
        try:
            kind = media_type(request.headers.get("content-type"))
        except UnsupportedMediaType:
            log.info("ingest: 415 source=%s", source.name)
            return _error(415, "unsupported_media_type",
                          "send application/json (an event or an array of events) or application/x-ndjson",
                          supported=["application/json", *NDJSON_TYPES])
        declared = request.headers.get("content-length")
        try:
            with anyio.fail_after(self.body_timeout):
                body = await read_body(request.receive, self.max_body,
                                       int(declared) if declared and declared.isdigit() else None)
        except TimeoutError:
            log.info("ingest: 408 source=%s", source.name)
            return _error(408, "request_timeout",
                          f"the body did not arrive within {self.body_timeout:g} s", {"Connection": "close"})
        except BodyTooLarge as exc:
            log.info("ingest: 413 source=%s", source.name)
            return _error(413, "payload_too_large",
                          f"request body exceeds the limit of {exc.limit} bytes; split the batch",
                          limit_bytes=exc.limit)
        except ConnectionAbortedError:
            return _error(400, "incomplete_body", "the client disconnected before sending the whole body")

        try:
            parts = await anyio.to_thread.run_sync(split_body, body, kind, self.max_events)
        except TooManyEvents as exc:
            log.info("ingest: 413 source=%s (over %d events)", source.name, exc.limit)
            return _error(413, "too_many_events",
                          f"more than {exc.limit} events in one request; split the batch", limit_events=exc.limit)
        del body
        if type(parts) is not Item:
            if len(parts) > source.event_burst:
                # Charged at the burst's price, a larger request would buy more events than the
                # source's rate allows (0.5/s with a burst of 20 let 100 events through every 40 s).
                limit = int(source.event_burst)
                log.info("ingest: 413 source=%s (over its event burst of %d)", source.name, limit)
                return _error(413, "too_many_events",
                              f"more than {limit} events in one request, this source's limit; split the batch",
                              limit_events=limit)
            retry = self.event_limiter.check(source.name, source.events_per_second, source.event_burst, len(parts))
            if retry:
                return self._rate_limited(source, retry, "events")
        pairs = self.registry.pairs if self.registry is not None else None
        items = [parts] if type(parts) is Item else await anyio.to_thread.run_sync(
            lambda: [parse_event(part, pairs) for part in parts])
        del parts
        refused = self._refused(source, items)
        if refused is not None:
            return refused
        if len(items) == 1 and type(items[0].outcome) is Event and too_large(items[0].raw, self.max_event_bytes):
            log.info("ingest: 413 source=%s (one event over %d bytes)", source.name, self.max_event_bytes)
            return _error(413, "event_too_large",
                          f"the event is larger than {self.max_event_bytes} bytes (its canonical JSON); "
                          "an event this large cannot be a real one: check what the source system sends",
                          limit_bytes=self.max_event_bytes)

        results: list[dict] = []
        accepted: list[tuple[bytes, bytes]] = []
        rejected: list[tuple[bytes, Rejection]] = []
        fresh: list[tuple] = []
        in_request: set[tuple] = set()
        counts = {"accepted": 0, "duplicate": 0, "rejected": 0}
        by_reason: dict[str, int] = {}
        registry = self.registry
        for index, item in enumerate(items):
            outcome = item.outcome
            if type(outcome) is Event and registry is not None and (outcome.municipality, outcome.unit) not in registry:
                outcome = Rejection("unknown_unit", "unit")
            if type(outcome) is Event and too_large(item.raw, self.max_event_bytes):
                outcome = REFUSED  # dead-lettered with its reason, the batch's other events go on
            if type(outcome) is Event:
                key = (source.name, outcome.municipality, outcome.case_id, outcome.event_id)
                if key in in_request or key in self.recent:
                    results.append({"index": index, "status": "duplicate"})
                    counts["duplicate"] += 1
                    continue
                in_request.add(key)
                fresh.append(key)
                accepted.append((outcome.case_id.encode("utf-8"), item.raw))
                results.append({"index": index, "status": "accepted"})
                counts["accepted"] += 1
            else:
                entry = {"index": index, "status": "rejected", "reason": outcome.reason}
                if outcome.field:
                    entry["field"] = outcome.field
                results.append(entry)
                rejected.append((item.raw, outcome))
                counts["rejected"] += 1
                by_reason[outcome.reason] = by_reason.get(outcome.reason, 0) + 1

        if accepted or rejected:
            try:
                await anyio.to_thread.run_sync(self.sink.submit, accepted, rejected, f"http:{source.name}")
            except Exception as exc:  # noqa: BLE001 - any producer failure is the same to the client
                log.warning("ingest: 503 source=%s: Kafka did not acknowledge (%s)", source.name, type(exc).__name__)
                return _error(503, "kafka_unavailable",
                              "events could not be stored; send the same request again later", {"Retry-After": "5"})
        self.recent.add_all(fresh)
        for outcome, n in counts.items():
            if n:
                self.metrics.events.labels(source.name, outcome).inc(n)
        for _raw, rejection in rejected:
            self.metrics.rejections.labels(source.name, rejection.reason).inc()
        log.info("ingest: 200 source=%s accepted=%d duplicate=%d rejected=%d", source.name,
                 counts["accepted"], counts["duplicate"], counts["rejected"])
        request.state.counts = counts
        return Response(orjson.dumps({**counts, "rejected_by_reason": by_reason, "results": results}),
                        media_type="application/json")

    def _rate_limited(self, source: Source, retry: int, what: str) -> Response:
        log.info("ingest: 429 source=%s (%s) retry_after=%s", source.name, what, retry)
        return _error(429, "rate_limited", f"too many {what} from this source; retry after {retry} s",
                      {"Retry-After": str(retry)}, retry_after_s=retry)

    def _refused(self, source: Source, items: list[Item]) -> Response | None:
        """403 when the request holds an event this source may not send: a type it is not
        allowed, a municipality it is not bound to, or a registry unit that names other sources.
        Nothing from such a request is stored."""
        forbidden = sorted({item.type for item in items if item.type is not None and not source.may_send(item.type)})
        if forbidden:
            log.info("ingest: 403 source=%s types=%s", source.name, ",".join(forbidden))
            return _error(403, "event_type_not_allowed",
                          f"source {source.name} may not send event type(s): {', '.join(forbidden)}; "
                          "nothing from this request was stored",
                          types=forbidden)
        events = [item.outcome for item in items if type(item.outcome) is Event]
        places = sorted({e.municipality for e in events if not source.may_write_for(e.municipality)})
        if places:
            log.info("ingest: 403 source=%s municipalities=%s", source.name, ",".join(places))
            return _error(403, "municipality_not_allowed",
                          f"source {source.name} may not send events for municipality {', '.join(places)}; "
                          "nothing from this request was stored", municipalities=places)
        registry = self.registry
        if registry is not None:
            units = sorted({f"{e.municipality}/{e.unit}" for e in events if (e.municipality, e.unit) in registry
                            and not registry.may_write(source.name, e.municipality, e.unit)})
            if units:
                log.info("ingest: 403 source=%s units=%s", source.name, ",".join(units))
                return _error(403, "unit_not_allowed",
                              f"source {source.name} may not send events for unit(s) {', '.join(units)}; "
                              "nothing from this request was stored", units=units)
        return None

    # -- the rest

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        try:
            ok = await anyio.to_thread.run_sync(self.sink.ready, self.ready_timeout)
        except Exception:  # noqa: BLE001
            ok = False
        if ok:
            return JSONResponse({"status": "ready", "kafka": "reachable"})
        return JSONResponse({"status": "not_ready", "kafka": "unreachable"}, status_code=503)

    def _basic_auth_refused(self, request: Request) -> Response | None:
        """401 when a web config names users and the request is not one of them."""
        if self.web.authorised(request.headers.get("authorization")) is not None:
            return None
        return _error(401, "unauthorized", "this endpoint needs basic auth", {"WWW-Authenticate": REALM})

    async def metrics_endpoint(self, request: Request) -> Response:
        refused = self._basic_auth_refused(request)
        if refused is not None:
            return refused
        return Response(generate_latest(self.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def openapi(self, request: Request) -> Response:
        refused = self._basic_auth_refused(request)
        if refused is not None:
            return refused
        return Response(orjson.dumps(openapi_document(self.max_body, self.web.auth)), media_type="application/json")


async def _http_error(request: Request, exc: HTTPException) -> Response:
    codes = {404: "not_found", 405: "method_not_allowed"}
    return _error(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail),
                  getattr(exc, "headers", None))


def create_app(settings, sources: Sources, producer, *, max_body_bytes: int = DEFAULT_MAX_BODY,
               recent: RecentIds | None = None, limiter: RateLimiter | None = None,
               max_events: int = DEFAULT_MAX_EVENTS, body_timeout_s: float = DEFAULT_BODY_TIMEOUT_S,
               registry=None, audit: AuditLog | None = None, web: WebConfig | None = None,
               auth_failures: AuthFailureLimiter | None = None) -> Starlette:
    """The ASGI app. ``producer`` is an :class:`EventSink` or the ingest producer, which is then
    wrapped with the dead-letter writer for ``settings``' topics (see :mod:`.sink`)."""
    from .sink import as_sink

    if registry is None and getattr(settings, "unit_registry_file", None) is not None:
        registry = settings.unit_registry()
    service = IngestService(settings, sources, as_sink(producer, settings), max_body_bytes=max_body_bytes,
                            recent=recent, limiter=limiter, max_events=max_events, body_timeout_s=body_timeout_s,
                            registry=registry, audit=audit, web=web, auth_failures=auth_failures)
    app = Starlette(
        routes=[
            Route("/v1/events", service.post_events, methods=["POST"]),
            Route("/healthz", service.healthz, methods=["GET"]),
            Route("/readyz", service.readyz, methods=["GET"]),
            Route("/metrics", service.metrics_endpoint, methods=["GET"]),
            Route("/openapi.json", service.openapi, methods=["GET"]),
        ],
        exception_handlers={HTTPException: _http_error},
    )
    app.state.service = service
    return app
