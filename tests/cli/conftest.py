"""CLI tests read what a user sees: give the shared rich consoles a wide, fixed width so lines do not wrap."""

import pytest

from authorid.cli import common


@pytest.fixture(autouse=True)
def wide_console():
    saved = common.console.width, common.err_console.width
    common.console.width = common.err_console.width = 250
    yield
    common.console.width, common.err_console.width = saved
