"""Shared fixtures: every test starts with a fresh default scheduler and tracker."""

import pytest

import Axon
from Axon.CoordinatingAssistantTracker import coordinatingassistanttracker
from Axon.Scheduler import scheduler


@pytest.fixture(autouse=True)
def freshAxon():
    """Give each test its own default scheduler and service registry."""
    savedScheduler = scheduler.run
    savedCat = coordinatingassistanttracker.basecat
    scheduler.run = None
    scheduler()
    coordinatingassistanttracker.basecat = None
    coordinatingassistanttracker.getcat()
    scheduler.run.exception_caught = StopIteration
    yield scheduler.run
    scheduler.run = savedScheduler
    coordinatingassistanttracker.basecat = savedCat
