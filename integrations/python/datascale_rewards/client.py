"""HTTP client for DataScale reward servers. Standard library only.

Requests spread over several server URLs (each server is stateless, so any replica can
score any sample, as OpenRLHF does with several `remote_url`s): one-sample calls start on
the next URL in turn and move to the next one on a retryable failure.

Retryable: HTTP 429, 503, 504, connection errors and timeouts, honouring Retry-After.
Anything else that is not a 2xx is final: a 4xx raises PermanentRewardError with the
server's reason (retrying cannot fix data), a 5xx other than 503/504 raises
RewardServerError.

Environment (read when a client is built without the argument):
    DATASCALE_REWARD_URL   one URL or several, comma-separated (default http://127.0.0.1:8000)
    DATASCALE_TIMEOUT_S    per-request timeout in seconds (default 120)
    DATASCALE_RETRIES      retries after the first try (default 5)
    DATASCALE_DEADLINE_S   give up after this many seconds in all (default: none)
"""

import functools
import http.client
import itertools
import json
import os
import random
import threading
import time
import urllib.error
import urllib.request

RETRYABLE_STATUSES = (429, 503, 504)
DEFAULT_URL = "http://127.0.0.1:8000"


class RewardError(RuntimeError):
    """A reward could not be computed."""


class PermanentRewardError(RewardError):
    """The server refused the request (4xx): the data or the config is wrong; retrying cannot help."""

    def __init__(self, status, code, message):
        RewardError.__init__(self, "DataScale reward server: HTTP %d %s: %s" % (status, code, message))
        self.status = status
        self.code = code
        self.reason = message

    def __reduce__(self):
        # Picklable, so it crosses a process pool (AReaL runs reward functions in one).
        return (PermanentRewardError, (self.status, self.code, self.reason))


class RewardServerError(RewardError):
    """The server failed, or stayed unreachable or overloaded through every retry."""


def _json_default(obj):
    # numpy arrays and scalars (verl's Parquet rows carry them) without importing numpy.
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, (set, tuple)):
        return list(obj)
    if isinstance(obj, bytes):
        return obj.decode("utf-8")
    raise TypeError("cannot send a %s to the reward server" % type(obj).__name__)


def dumps(value):
    return json.dumps(value, default=_json_default, allow_nan=False).encode("utf-8")


def _urls_from(urls):
    if urls is None:
        urls = os.environ.get("DATASCALE_REWARD_URL", DEFAULT_URL)
    if isinstance(urls, str):
        urls = [u for u in urls.split(",")]
    urls = [u.strip().rstrip("/") for u in urls if u and u.strip()]
    if not urls:
        raise ValueError("no reward server URL (set DATASCALE_REWARD_URL)")
    return urls


def _error_body(raw):
    try:
        err = json.loads(raw.decode("utf-8", "replace")).get("error") or {}
        return str(err.get("code") or "error"), str(err.get("message") or raw[:500])
    except (ValueError, AttributeError):
        return "error", raw.decode("utf-8", "replace")[:500]


def _retry_after(headers, fallback):
    value = headers.get("retry-after") if headers is not None else None
    try:
        return max(0.0, min(float(value), 60.0)) if value is not None else fallback
    except ValueError:
        return fallback


class Client:
    """Posts JSON to one of several reward servers with retries on retryable failures."""

    def __init__(self, urls=None, timeout=None, retries=None, deadline=None, backoff=0.5, max_backoff=8.0):
        self.urls = _urls_from(urls)
        self.timeout = float(timeout if timeout is not None else os.environ.get("DATASCALE_TIMEOUT_S", "120"))
        self.retries = int(retries if retries is not None else os.environ.get("DATASCALE_RETRIES", "5"))
        env_deadline = os.environ.get("DATASCALE_DEADLINE_S")
        self.deadline = float(deadline) if deadline is not None else (float(env_deadline) if env_deadline else None)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._turn = itertools.count(random.randrange(len(self.urls)))
        self._lock = threading.Lock()

    def _next_index(self):
        with self._lock:
            return next(self._turn) % len(self.urls)

    def post(self, path, body):
        """POSTs `body` (JSON-able) to `path`; returns the decoded JSON answer."""
        data = dumps(body)
        start = time.monotonic()
        index = self._next_index()
        delay = self.backoff
        last = None
        for attempt in range(self.retries + 1):
            url = self.urls[(index + attempt) % len(self.urls)] + path
            timeout = self.timeout
            if self.deadline is not None:
                timeout = min(timeout, max(0.1, self.deadline - (time.monotonic() - start)))
            req = urllib.request.Request(url, data=data, headers={"content-type": "application/json"}, method="POST")
            wait = delay
            try:
                with urllib.request.urlopen(req, timeout=timeout) as resp:
                    return json.loads(resp.read().decode("utf-8"))
            except urllib.error.HTTPError as e:
                raw = e.read()
                code, message = _error_body(raw)
                if e.code not in RETRYABLE_STATUSES:
                    if 400 <= e.code < 500:
                        raise PermanentRewardError(e.code, code, message) from None
                    raise RewardServerError("%s: HTTP %d %s: %s" % (url, e.code, code, message)) from None
                last = "%s: HTTP %d %s: %s" % (url, e.code, code, message)
                wait = _retry_after(e.headers, delay)
            except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as e:
                # HTTPException: a connection cut mid-answer (IncompleteRead); ValueError: an
                # answer that is not JSON (a proxy's error page).
                last = "%s: %s" % (url, getattr(e, "reason", e))
            if attempt == self.retries:
                break
            if self.deadline is not None and time.monotonic() - start + wait >= self.deadline:
                break
            time.sleep(wait * (0.5 + random.random() / 2) if wait == delay else wait)
            delay = min(delay * 2, self.max_backoff)
        raise RewardServerError(
            "DataScale reward server unreachable or overloaded after %d tries in %.1f s: %s"
            % (attempt + 1, time.monotonic() - start, last)
        )


def once(make):
    """Decorator: `make()` runs on the first call only, under a lock; every call returns its result."""
    lock = threading.Lock()
    made = []

    @functools.wraps(make)
    def get():
        with lock:
            if not made:
                made.append(make())
            return made[0]

    return get


@once
def default_client():
    """One client per process, configured from the environment."""
    return Client()
