"""Operational switches: defaults from settings, staff values from the database, cached and
dropped from the cache on every write."""

from __future__ import annotations

from decimal import Decimal

import pytest

from runtime import switches
from runtime.services import switch_reset, switch_set

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_switch_without_a_row_follows_its_setting(settings):
    settings.AI_PROVIDER_ENABLED = False
    settings.AI_DAILY_BUDGET_USD = "12.50"
    assert switches.value("ai_provider_enabled") is False
    assert switches.value("ai_daily_budget_usd") == Decimal("12.50")


def test_no_budget_setting_means_no_limit(settings):
    settings.AI_DAILY_BUDGET_USD = ""
    assert switches.value("ai_daily_budget_usd") is None


def test_a_stored_value_wins_is_cached_and_a_write_is_seen_at_once(
    settings, django_assert_num_queries
):
    settings.AI_PROVIDER_ENABLED = True
    switch_set(name="ai_provider_enabled", text="off")
    assert switches.value("ai_provider_enabled") is False
    with django_assert_num_queries(0):
        assert switches.value("ai_provider_enabled") is False
    switch_set(name="ai_provider_enabled", text="yes")
    assert switches.value("ai_provider_enabled") is True
    switch_reset(name="ai_provider_enabled")
    settings.AI_PROVIDER_ENABLED = False
    assert switches.value("ai_provider_enabled") is False


@pytest.mark.parametrize(
    ("name", "text"), [("ai_provider_enabled", "maybe"), ("ai_daily_budget_usd", "-3")]
)
def test_a_value_that_does_not_parse_is_refused(name, text):
    with pytest.raises(ValueError):
        switch_set(name=name, text=text)
    assert not switches.Switch.objects.exists()


def test_the_admin_lists_every_switch_with_its_effect(client):
    from accounts.tests.factories import StaffFactory

    switch_set(name="ai_daily_budget_usd", text="40")
    client.force_login(StaffFactory())
    body = client.get("/admin/runtime/switch/").content.decode()
    assert "ai_daily_budget_usd" in body and "40" in body and "next day" in body
