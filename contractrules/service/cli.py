"""``contractrules serve`` and ``contractrules tenant create|key|list|revoke``.

``serve`` needs the optional extra ``server`` (FastAPI, uvicorn); the ``tenant``
commands need only the store. ``tenant create NAME`` prints the new API key alone on
one line of stdout, once: the store keeps only its salted hash.
"""

from __future__ import annotations

import click

from contractrules.store.cli import _open, db_option, guarded


@click.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option(
    "--max-body",
    default=10 * 1024 * 1024,
    show_default=True,
    type=click.IntRange(1),
    help="Largest request body accepted, in bytes (larger: 413).",
)
@click.option(
    "--max-events",
    default=10_000,
    show_default=True,
    type=click.IntRange(1),
    help="Most events accepted in one request (more: 422).",
)
@click.option(
    "--threads",
    default=8,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Request threads (each keeps one store connection).",
)
@guarded
def serve(db: str | None, host: str, port: int, max_body: int, max_events: int, threads: int) -> None:
    """Serve the store over HTTP (JSON; OpenAPI at /openapi.json; docs/service.md)."""
    try:
        import uvicorn

        from contractrules.service.app import Settings, create_app
    except ImportError as exc:
        raise click.ClickException(
            f"serve needs the server extra: pip install 'contractrules[server]' ({exc})"
        ) from None
    from contractrules.store.url import DEFAULT_URL, display

    url = db or DEFAULT_URL
    with _open(url):  # refuse a store without the schema before listening
        pass
    click.echo(f"contractrules serving {display(url)} on http://{host}:{port}", err=True)
    app = create_app(Settings(url, max_body=max_body, max_events=max_events, threads=threads))
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    except SystemExit as exc:  # uvicorn could not start (e.g. the port is taken): it said why
        if exc.code not in (0, None):
            raise click.exceptions.Exit(1) from None
        raise


@click.group()
def tenant() -> None:
    """Tenants of the HTTP service and their API keys."""


@tenant.command("create")
@click.argument("name")
@db_option
@guarded
def tenant_create(name: str, db: str | None) -> None:
    """Create tenant NAME and print its API key (shown once, alone on one line)."""
    from contractrules.store import tenants

    with _open(db) as store:
        key = tenants.create_tenant(store, name)
    click.echo(key)


@tenant.command("key")
@click.argument("name")
@db_option
@guarded
def tenant_key(name: str, db: str | None) -> None:
    """Issue another API key for tenant NAME (e.g. to rotate keys); print it once."""
    from contractrules.store import tenants

    with _open(db) as store:
        key = tenants.issue_key(store, name)
    click.echo(key)


@tenant.command("list")
@db_option
@guarded
def tenant_list(db: str | None) -> None:
    """Every tenant's keys: key id, created, revoked (never the keys)."""
    from contractrules.store import tenants

    with _open(db) as store:
        keys = tenants.list_keys(store)
    for k in keys:
        revoked = f"revoked {k.revoked_at:%Y-%m-%dT%H:%M:%SZ}" if k.revoked_at else "active"
        click.echo(f"{k.tenant}\t{k.key_id}\tcreated {k.created_at:%Y-%m-%dT%H:%M:%SZ}\t{revoked}")


@tenant.command("revoke")
@click.argument("name")
@click.option("--key", "key_id", default=None, metavar="KEY_ID", help="Revoke only this key (see tenant list).")
@db_option
@guarded
def tenant_revoke(name: str, key_id: str | None, db: str | None) -> None:
    """Revoke tenant NAME's keys (all, or --key KEY_ID): requests with them get 401."""
    from contractrules.store import tenants

    with _open(db) as store:
        n = tenants.revoke(store, name, key_id)
    click.echo(f"{name}: {n} key(s) revoked")


def register(main: click.Group) -> None:
    main.add_command(serve)
    main.add_command(tenant)
