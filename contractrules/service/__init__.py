"""The HTTP service (``contractrules serve``): the store over JSON, for billing systems in any language.

Needs the optional extra ``server`` (FastAPI on uvicorn). Tenants and API keys live in
the store (:mod:`contractrules.store.tenants`); :func:`~contractrules.service.app.create_app`
builds the ASGI application. See docs/service.md.
"""
