"""Advertising a port as ``_wyoming._tcp``: both of the box's ports use it; never fatal."""

from __future__ import annotations

import asyncio
import logging
import socket

import pytest

from satellite.wyoming.zeroconf import Advertisement


async def resolved_port(name: str) -> int | None:
    from zeroconf.asyncio import AsyncZeroconf

    browser = AsyncZeroconf()
    try:
        info = await browser.async_get_service_info("_wyoming._tcp.local.",
                                                    f"{name}._wyoming._tcp.local.", timeout=3000)
        return info.port if info is not None else None
    finally:
        await browser.async_close()


async def test_a_port_only_this_machine_reaches_is_not_advertised(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="satellite.wyoming.zeroconf")
    advertisement = Advertisement("sarai-loopback", "127.0.0.1", 10700, "assist satellite")
    assert await advertisement.start() is False
    assert any("only reachable from this machine" in r.getMessage() for r in caplog.records)
    await advertisement.stop()  # nothing to withdraw


async def test_an_advertised_port_is_what_a_browser_resolves_and_stop_withdraws_it(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="satellite.wyoming.zeroconf")
    with socket.socket() as probe:  # a free port number; nothing needs to listen for the record
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    name = f"sarai-test-{port}"
    advertisement = Advertisement(name, "0.0.0.0", port, "assist satellite")
    advertised = await asyncio.wait_for(advertisement.start(), 15.0)
    messages = [r.getMessage() for r in caplog.records]
    if not advertised:  # no multicast here: one warning, and the caller goes on
        assert [m for m in messages if "not registered" in m], messages
        return
    try:
        assert any(f"advertised as {name}" in m for m in messages)
        assert await resolved_port(name) == port
    finally:
        await advertisement.stop()
    assert await resolved_port(name) is None
