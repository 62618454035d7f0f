"""Bench-only Django site: the portal's production settings plus a bare view.

Used by bench/throughput.py and bench/load.py (gunicorn runs with
``--pythonpath bench`` and ``DJANGO_SETTINGS_MODULE=benchsite.settings``). Nothing in
the application imports it; it only wraps ``portal.settings`` and ``portal.urls``.
"""
