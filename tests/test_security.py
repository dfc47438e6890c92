"""Security headers on every kind of response, trusted proxies, and the API rate limit.

Real app under waitress on 127.0.0.1, real HTTP; the token bucket also with a fake clock."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
import requests

from portal import proxies, ratelimit, security
from portal.ratelimit import Rate, TokenBuckets, parse_rate

EXPECTED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def static_link(base: str) -> str:
    html = requests.get(base + "/", timeout=10).text
    return re.search(r'href="(/static/style\.[0-9a-f]{8}\.css)"', html).group(1)


def every_kind_of_response(base: str) -> dict[str, requests.Response]:
    get = lambda path, **kw: requests.get(base + path, timeout=10, allow_redirects=False, **kw)  # noqa: E731
    return {
        "home page": get("/"),
        "results page": get("/recherche?q=bougie"),
        "redirect": get("/?q=bougie"),
        "html 404": get("/nulle-part"),
        "api search": get("/api/search?q=bougie"),
        "api 400": get("/api/search?page=abc"),
        "api 404": get("/api/inconnue"),
        "health": get("/healthz"),
        "hashed static": get(static_link(base)),
        "plain static": get("/static/app.js"),
    }


def test_every_response_carries_the_security_headers(portal_url):
    for kind, response in every_kind_of_response(portal_url).items():
        for name, value in EXPECTED.items():
            assert response.headers.get(name) == value, (kind, name)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp, kind
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, kind
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, kind
        policy = response.headers["Permissions-Policy"]
        assert "geolocation=(self)" in policy and "camera=()" in policy and "microphone=()" in policy, kind
        assert "Strict-Transport-Security" not in response.headers, kind  # not configured, plain HTTP


def test_pages_have_no_inline_script_or_style(portal_url):
    for path in ["/", "/recherche?q=bougie", "/nulle-part"]:
        html = requests.get(portal_url + path, timeout=10).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"<style[\s>]", html), path
        assert not re.search(r"\sstyle=", html), path
        assert not re.search(r"\son[a-z]+=", html), path


# ---------------------------------------------------------------- proxies and HSTS

NETS = proxies.parse_networks("127.0.0.1, 10.0.0.0/8, ::1")


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("203.0.113.9", "198.51.100.1", "203.0.113.9"),  # not from a proxy: header ignored
        ("10.1.2.3", "198.51.100.1", "198.51.100.1"),  # from our proxy
        ("10.1.2.3", "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # the left part was written by the client
        ("10.1.2.3", "198.51.100.1, 10.0.0.7", "198.51.100.1"),  # two proxies of ours
        ("127.0.0.1", "", "127.0.0.1"),  # a proxy without the header
        ("10.1.2.3", "10.0.0.8, 10.0.0.7", "10.0.0.8"),  # only our own hops
        ("::ffff:10.1.2.3", "2001:db8::1", "2001:db8::1"),  # IPv4-mapped peer
    ],
)
def test_client_address_believes_only_trusted_proxies(peer, forwarded, client):
    assert proxies.client_address(peer, forwarded, NETS) == client


def test_no_trusted_proxies_means_the_socket_peer():
    assert proxies.client_address("127.0.0.1", "198.51.100.1", ()) == "127.0.0.1"


def test_bad_trusted_proxies_setting_names_the_entry():
    with pytest.raises(ValueError, match="nope"):
        proxies.parse_networks("127.0.0.1, nope")


def test_hsts_value():
    assert security.strict_transport_security(0) is None
    assert security.strict_transport_security(31536000) == "max-age=31536000"


@pytest.fixture(scope="module")
def behind_proxy(portal_config):
    """The portal told that 127.0.0.1 is its reverse proxy, with HSTS configured and a small API limit."""
    from portal import create_app
    from portal.server import serving_in_thread

    config = replace(
        portal_config,
        trusted_proxies="127.0.0.1",
        hsts_max_age=31536000,
        api_rate_limit="60/minute",
        api_rate_burst="3",
    )
    with serving_in_thread(create_app(config)) as url:
        yield url


def test_hsts_only_over_https_from_a_trusted_proxy(behind_proxy, portal_url):
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.20"}
    assert (
        requests.get(behind_proxy + "/", headers=https, timeout=10).headers["Strict-Transport-Security"]
        == "max-age=31536000"
    )
    plain = requests.get(behind_proxy + "/", headers={"X-Forwarded-For": "198.51.100.21"}, timeout=10)
    assert "Strict-Transport-Security" not in plain.headers
    # the same header from a client the portal does not trust changes nothing
    untrusted = requests.get(portal_url + "/", headers=https, timeout=10)
    assert "Strict-Transport-Security" not in untrusted.headers


# ---------------------------------------------------------------- rate limit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("120/minute", Rate(120, 60, 60)),
        ("10 per second", Rate(10, 1, 10)),
        ("1000/hours", Rate(1000, 3600, 60)),
        ("10/30seconds", Rate(10, 30, 10)),
    ],
)
def test_parse_rate(text, expected):
    assert parse_rate(text) == expected


def test_parse_rate_burst_and_off():
    assert parse_rate("120/minute", "20") == Rate(120, 60, 20)
    for off in ["off", "0", "", "0/minute", "OFF"]:
        assert parse_rate(off) is None
    for bad in ["fast", "120", "120/fortnight"]:
        with pytest.raises(ValueError, match="API_RATE_LIMIT"):
            parse_rate(bad)
    for bad_burst in ["0", "lots"]:
        with pytest.raises(ValueError, match="API_RATE_BURST"):
            parse_rate("120/minute", bad_burst)


def test_bucket_allows_the_burst_then_the_rate():
    clock = Clock()
    buckets = TokenBuckets(Rate(count=60, period=60, burst=3), clock=clock)
    assert [buckets.take("a") for _ in range(3)] == [0, 0, 0]
    assert buckets.take("a") == pytest.approx(1.0)  # one token a second
    clock.now += 0.5
    assert buckets.take("a") == pytest.approx(0.5)  # refused calls spend nothing
    clock.now += 0.5
    assert buckets.take("a") == 0
    assert buckets.take("a") > 0
    clock.now += 100
    assert [buckets.take("a") for _ in range(3)] == [0, 0, 0]  # refilled to the burst, not beyond
    assert buckets.take("a") > 0


def test_buckets_are_per_client():
    buckets = TokenBuckets(Rate(count=1, period=60, burst=1), clock=Clock())
    assert buckets.take("a") == 0
    assert buckets.take("a") == pytest.approx(60)
    assert buckets.take("b") == 0


def test_memory_stays_bounded_without_scanning_every_bucket_per_request():
    clock = Clock()
    buckets = TokenBuckets(Rate(count=60, period=60, burst=5), clock=clock, max_keys=100)
    for i in range(1000):
        buckets.take(f"client-{i}")
        assert len(buckets) <= 100  # the least recently seen go at once
    assert buckets._swept == 1000.0  # and no full sweep ran: the clock never moved a period
    clock.now += 61  # every bucket full again: forgotten on the next sweep
    buckets.take("late")
    assert len(buckets) == 1


def test_api_answers_429_with_retry_after(behind_proxy):
    client = {"X-Forwarded-For": "198.51.100.30"}
    statuses = [
        requests.get(behind_proxy + "/api/search?q=miel", headers=client, timeout=10).status_code for _ in range(3)
    ]
    assert statuses == [200, 200, 200]
    refused = requests.get(behind_proxy + "/api/suggest?q=bo", headers=client, timeout=10)
    assert refused.status_code == 429
    assert refused.headers["Content-Type"].startswith("application/json")
    assert 1 <= int(refused.headers["Retry-After"]) <= 2
    assert refused.json()["retry_after"] == int(refused.headers["Retry-After"])
    assert "too many requests" in refused.json()["error"]
    for name, value in EXPECTED.items():
        assert refused.headers[name] == value


def test_pages_health_and_other_clients_are_not_limited(behind_proxy):
    client = {"X-Forwarded-For": "198.51.100.31"}
    for _ in range(4):
        requests.get(behind_proxy + "/api/search", headers=client, timeout=10)
    assert requests.get(behind_proxy + "/api/search", headers=client, timeout=10).status_code == 429
    assert requests.get(behind_proxy + "/recherche?q=miel", headers=client, timeout=10).status_code == 200
    assert requests.get(behind_proxy + "/healthz", headers=client, timeout=10).status_code == 200
    other = {"X-Forwarded-For": "198.51.100.32"}
    assert requests.get(behind_proxy + "/api/search", headers=other, timeout=10).status_code == 200


def test_a_forged_forwarded_for_does_not_refill_the_bucket(portal_config):
    """Without TRUSTED_PROXIES, a client cannot pose as many by inventing X-Forwarded-For."""
    from portal import create_app
    from portal.server import serving_in_thread

    config = replace(portal_config, api_rate_limit="60/minute", api_rate_burst="2")
    with serving_in_thread(create_app(config)) as base:
        statuses = [
            requests.get(base + "/api/search", headers={"X-Forwarded-For": f"198.51.100.{i}"}, timeout=10).status_code
            for i in range(4)
        ]
    assert statuses[:2] == [200, 200]
    assert statuses[2:] == [429, 429]


def test_rate_limit_off_registers_nothing(portal_config):
    from portal import create_app

    app = create_app(replace(portal_config, api_rate_limit="off"))
    assert ratelimit.EXTENSION not in app.extensions


# ---------------------------------------------------------------- in a real browser


@pytest.mark.browser
def test_browser_accepts_the_headers_and_keeps_assets_in_cache(browser, portal_url):
    """Chromium reports no console error for the headers (an unknown Permissions-Policy
    feature would be one, costing Lighthouse points) and, on a reload, takes the hashed
    stylesheet and script from its cache without asking the server again."""
    page = browser.new_page()  # a context of its own; no request routing: it would switch the HTTP cache off
    try:
        console = []
        page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Log.enable")  # header problems are browser log entries, not console calls
        cdp.on("Log.entryAdded", lambda event: console.append(f"{event['entry']['level']}: {event['entry']['text']}"))
        network = []  # (request id, url)
        cdp.on("Network.requestWillBeSent", lambda event: network.append((event["requestId"], event["request"]["url"])))
        cached = set()
        cdp.on("Network.requestServedFromCache", lambda event: cached.add(event["requestId"]))

        page.goto(portal_url + "/")
        assert page.evaluate("getComputedStyle(document.body).margin") == "0px"  # style.css applied
        first = [url for _, url in network if "/static/" in url]
        network.clear()
        page.goto(portal_url + "/recherche?q=livre")
        page.reload(wait_until="networkidle")
        hashed = [url for url in first if re.search(r"\.[0-9a-f]{8}\.(css|js)$", url)]
        assert len(hashed) == 2, first
        again = [request_id for request_id, url in network if url in hashed]
        assert len(again) == 4  # asked for on both navigations...
        assert set(again) <= cached  # ...and every time answered by the cache

        problems = [
            line
            for line in console
            if (line.startswith("error") or "Permissions-Policy" in line) and "ERR_NAME_NOT_RESOLVED" not in line
        ]  # the test shops' images are offline
        assert not problems, problems
    finally:
        page.context.close()


def test_a_forwarded_host_never_reaches_absolute_urls(behind_proxy):
    """Proxies often pass a client's X-Forwarded-Host through: believing it would let one
    request write another host into the sitemap and OpenSearch answers caches keep."""
    forged = {"X-Forwarded-For": "198.51.100.40", "X-Forwarded-Host": "evil.example"}
    for path in ("/robots.txt", "/sitemap.xml", "/opensearch.xml"):
        response = requests.get(behind_proxy + path, headers=forged, timeout=10)
        assert response.status_code == 200 and "evil.example" not in response.text, path
        # without PUBLIC_URL the URLs come from the request's Host: no shared cache keeps them
        assert response.headers["Cache-Control"].startswith("private"), path


def test_with_public_url_discovery_answers_name_it_and_may_be_shared(portal_config):
    from portal import create_app

    app = create_app(replace(portal_config, public_url="https://emplettes.region.fr"))
    response = app.test_client().get("/robots.txt", headers={"Host": "evil.example"})
    assert "Sitemap: https://emplettes.region.fr/sitemap.xml" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"].startswith("public")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("public_url", "emplettes.region.fr", "PUBLIC_URL"),
        ("click_count_limit", "5 clicks a day", "CLICK_COUNT_LIMIT"),
    ],
)
def test_bad_settings_stop_the_portal_at_startup_naming_the_setting(portal_config, field, value, message):
    from portal import create_app

    with pytest.raises(ValueError, match=message):
        create_app(replace(portal_config, **{field: value}))


def test_an_ipv6_client_is_one_bucket_per_64():
    assert ratelimit.client_key("2001:db8:1:2:aaaa::1") == ratelimit.client_key("2001:db8:1:2:bbbb::9")
    assert ratelimit.client_key("2001:db8:1:3::1") != ratelimit.client_key("2001:db8:1:2::1")
    assert ratelimit.client_key("198.51.100.7") == "198.51.100.7"
    assert ratelimit.client_key(None) == "unknown"
