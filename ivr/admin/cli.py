"""`ivr admin token create|list|revoke`: API tokens for the admin API and console."""

from __future__ import annotations

import argparse
from typing import Any

from ivr.config import load_settings
from ivr.store.db import Database, require_current
from ivr.store.models import API_ROLES
from ivr.store.repositories.tokens import TokenRepository


def add_admin_commands(subparsers: Any) -> None:
    admin = subparsers.add_parser("admin", help="API tokens for the admin API and console")
    sub = admin.add_subparsers(dest="admin", metavar="ACTION", required=True)
    token = sub.add_parser("token", help="create, list or revoke API tokens")
    tokens = token.add_subparsers(dest="token", metavar="ACTION", required=True)
    create = tokens.add_parser("create", help="create a token and print it (shown once)")
    create.add_argument("--role", choices=API_ROLES, required=True,
                        help="viewer reads; operator also runs campaigns; admin also edits")
    create.add_argument("--name", default="admin", help="who or what uses the token")
    create.set_defaults(func=cmd_create)
    tokens.add_parser("list", help="list tokens (never their secrets)").set_defaults(
        func=cmd_list
    )
    revoke = tokens.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(func=cmd_revoke)


def _repo() -> tuple[TokenRepository, Database]:
    url = load_settings().database_url
    require_current(url)
    db = Database(url)
    return TokenRepository(db), db


def cmd_create(args: argparse.Namespace) -> int:
    repo, db = _repo()
    try:
        _, secret = repo.create(args.name, args.role)
    finally:
        db.dispose()
    print(secret)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    repo, db = _repo()
    try:
        for t in repo.list():
            used = t.last_used_at.isoformat(timespec="seconds") if t.last_used_at else "never"
            state = "revoked" if t.revoked else "live"
            print(f"{t.id:>4}  {t.role:<8}  {state:<7}  last used {used:<25}  {t.name}")
    finally:
        db.dispose()
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    repo, db = _repo()
    try:
        token = repo.revoke(args.id)
    finally:
        db.dispose()
    print(f"revoked token {token.id} ({token.name}, {token.role})")
    return 0
