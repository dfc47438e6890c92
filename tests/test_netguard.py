"""The crawler never fetches private, loopback or link-local addresses unless allowed."""

from __future__ import annotations

import pytest

from crawler.netguard import RefusedAddress, check_url


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://127.0.1.5:8701/produit",
        "http://localhost:8000/",
        "http://10.1.2.3/",
        "http://192.168.1.1/admin",
        "http://172.16.0.9/",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata endpoint
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
    ],
)
def test_private_addresses_are_refused(url):
    with pytest.raises(RefusedAddress, match="allow_private"):
        check_url(url)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/", "javascript:alert(1)", "gopher://x/"])
def test_only_http_schemes_are_crawled(url):
    with pytest.raises(RefusedAddress):
        check_url(url, allow_private=True)


def test_public_addresses_pass():
    check_url("https://93.184.215.14/produits/bougie")


def test_allow_private_opens_loopback_for_tests_and_demo():
    check_url("http://127.0.1.5:8701/", allow_private=True)
