"""Fixtures of the touch-terminal tests: see ui_harness."""

from ui_harness import browser, console, context, page, ui_server  # noqa: F401
