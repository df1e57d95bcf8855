"""The farm, its products and its visit time that the farmer's order pages are tried with."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import NOW
from tests.helpers import login_as


@pytest.fixture
def farm(make_farm, make_user):
    return make_farm(owner=make_user(role="farmer", full_name="Nguyễn Văn An"), name="Vườn dứa Anh An")


@pytest.fixture
def pineapples(farm, make_product):
    return make_product(farm=farm, name="Dứa Queen loại 1", price_vnd=25000, stock=100, unit="kg")


@pytest.fixture
def jam(farm, make_product):
    return make_product(farm=farm, name="Mứt dứa", price_vnd=55000, stock=100, unit="jar")


@pytest.fixture
def slot(farm, make_slot):
    return make_slot(farm=farm, starts_at=NOW + timedelta(days=3), title="Tham quan đồi dứa",
                     slug="tham-quan-doi-dua")


@pytest.fixture
def farmer(client, farm):
    login_as(client, farm.owner)
    return farm.owner
