"""The pytest fixture ``storetasks_emulator``: a storetasks-emulator for one test
(:class:`storetasks.testing.Emulator`), stopped when the test ends.

Installing the package registers this plugin with pytest (entry point ``pytest11``). Where the
package is used from a source folder rather than installed, a conftest.py at the root of the
tests loads it with ``pytest_plugins = ["storetasks.pytest_plugin"]``.

The emulator's options come from the marker of the same name, as start_emulator takes them::

    @pytest.mark.storetasks_emulator("--generate", 50, "--seed", 7)
    def test_report(storetasks_emulator):
        with storetasks_emulator.client() as ec2:
            ...

Without the marker it serves no tasks. The program is the marker's ``binary=``, else
``$STORETASKS_EMULATOR``, else ``storetasks-emulator`` on the PATH; without one the test fails
saying so.
"""

import pytest

from .testing import EmulatorNotFoundError, start_emulator


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "storetasks_emulator(*args, binary=None, timeout=30): the options of the emulator that the "
        "storetasks_emulator fixture starts")


@pytest.fixture
def storetasks_emulator(request):
    """A running storetasks-emulator (storetasks.testing.Emulator), started with the options of
    the test's ``storetasks_emulator`` marker and stopped when the test ends."""
    marker = request.node.get_closest_marker("storetasks_emulator")
    args, kwargs = (marker.args, marker.kwargs) if marker else ((), {})
    try:
        emulator = start_emulator(*args, **kwargs)
    except EmulatorNotFoundError as e:
        pytest.fail(str(e), pytrace=False)
    with emulator:
        yield emulator
