"""`macro-assets api` (serve the HTTP read API) and `macro-assets api-key create|revoke|list`."""

from __future__ import annotations

import argparse
import sys

from macro_assets.errors import MacroAssetsError


def _keys():
    from macro_assets.api.app import open_database
    from macro_assets.api.auth import ApiKeys
    from macro_assets.warehouse import connect

    connect().close()  # applies pending migrations: the api_keys table included
    return ApiKeys(open_database())


def command_create(args: argparse.Namespace) -> int:
    key, record = _keys().create(args.name, args.scope)
    print(f"created API key {record.key_id} ({record.name}) with scopes {', '.join(record.scopes)}", file=sys.stderr)
    print("the key is shown this once; only its digest is stored:", file=sys.stderr)
    print(key)
    return 0


def command_revoke(args: argparse.Namespace) -> int:
    if not _keys().revoke(args.key_id):
        print(f"macro-assets api-key revoke: no active key {args.key_id!r}", file=sys.stderr)
        return 1
    print(f"revoked API key {args.key_id}")
    return 0


def command_list(args: argparse.Namespace) -> int:
    print("key_id\tname\tscopes\tcreated_at\trevoked_at")
    for record in _keys().list():
        revoked = record.revoked_at.isoformat() if record.revoked_at else ""
        print(f"{record.key_id}\t{record.name}\t{','.join(record.scopes)}\t{record.created_at.isoformat()}\t{revoked}")
    return 0


def command_serve(args: argparse.Namespace) -> int:
    import uvicorn

    uvicorn.run("macro_assets.api.app:create_app", factory=True, host=args.host, port=args.port, workers=args.workers)
    return 0


def _guarded(handler):
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except MacroAssetsError as error:
            print(f"macro-assets {args.command}: {error}", file=sys.stderr)
            return 2

    return run


def add_api_commands(commands) -> None:
    """Register `api` and `api-key` on the CLI's subparsers."""
    from macro_assets.api.auth import SCOPES

    serve = commands.add_parser("api", help="serve the HTTP read API with uvicorn (configured by the environment)")
    serve.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1; 0.0.0.0 to listen on every address")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    serve.set_defaults(handler=command_serve)

    keys = commands.add_parser("api-key", help="create, revoke and list the HTTP API's keys")
    verbs = keys.add_subparsers(dest="verb", required=True)
    create = verbs.add_parser("create", help="create a key and print it (shown this once)")
    create.add_argument("--name", required=True, help="who or what the key is for")
    create.add_argument("--scope", required=True, nargs="+", action="extend", choices=SCOPES, help="one or more scopes")
    create.set_defaults(handler=_guarded(command_create))
    revoke = verbs.add_parser("revoke", help="revoke a key by its id (the part after mak_)")
    revoke.add_argument("key_id")
    revoke.set_defaults(handler=_guarded(command_revoke))
    listing = verbs.add_parser("list", help="every key: id, name, scopes, created, revoked (never the key)")
    listing.set_defaults(handler=_guarded(command_list))
