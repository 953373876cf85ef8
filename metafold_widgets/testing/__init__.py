"""Test doubles for servers that cannot run here (e.g. a fake elabFTW).

Only the test suite uses this package; the product itself never imports it.
"""
