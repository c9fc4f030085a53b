"""Test program for exec_plugin_test: fails before the handshake with a Python traceback."""
import no_such_module_for_switchyard_tests  # noqa: F401
