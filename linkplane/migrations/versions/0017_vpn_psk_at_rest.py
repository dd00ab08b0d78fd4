"""VPN pre-shared keys at rest: sealed with AES-GCM instead of stored in clear.

Revision ID: 0017_vpn_psk_at_rest
Revises: 0016_vpn_breakouts

Owned by linkplane.attachments. ``vpn_psk`` (clear) becomes ``vpn_psk_sealed``; existing rows
are sealed on upgrade and unsealed on downgrade, with the installation's signing key that
:func:`linkplane.db.migrate` hands over. The sealing is copied here (not imported) so that
this migration keeps working whatever the product's code becomes.
"""

import base64
import hashlib
import hmac
import os
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

revision = "0017_vpn_psk_at_rest"
down_revision = "0016_vpn_breakouts"
#: On SQLite a batch that drops a column copies the table into a new one: without this the
#: copy loses AUTOINCREMENT, and a deleted newest breakout's id would be handed out again.
_KEEP_IDS = {"sqlite_autoincrement": True}
branch_labels = None
depends_on = None

_PURPOSE = b"linkplane-vpn-psk-v1"
_breakout = sa.table("breakout", sa.column("id", sa.Integer), sa.column("vpn_psk", sa.String),
                     sa.column("vpn_psk_sealed", sa.String))  # fmt: skip


def _aead() -> AESGCM:
    config = op.get_context().config
    key: Callable[[], str] | None = config.attributes.get("signing_key") if config else None
    if key is None:
        raise RuntimeError("VPN pre-shared keys need the installation's signing key to be "
                           "sealed or unsealed: run `linkplane migrate`")  # fmt: skip
    return AESGCM(hmac.new(key().encode(), _PURPOSE, hashlib.sha256).digest())


def _seal(aead: AESGCM, psk: str) -> str:
    nonce = os.urandom(12)
    return base64.urlsafe_b64encode(nonce + aead.encrypt(nonce, psk.encode(), _PURPOSE)).decode()


def _unseal(aead: AESGCM, sealed: str) -> str:
    raw = base64.urlsafe_b64decode(sealed.encode())
    return aead.decrypt(raw[:12], raw[12:], _PURPOSE).decode()


def _convert(source: str, target: str, change: Callable[[AESGCM, str], str]) -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(_breakout.c.id, _breakout.c[source])
                        .where(_breakout.c[source].is_not(None))).all()  # fmt: skip
    if not rows:
        return  # no key needed (and none created) for a database without VPN breakouts
    aead = _aead()
    for row_id, value in rows:
        conn.execute(_breakout.update().where(_breakout.c.id == row_id)
                     .values({target: change(aead, value)}))  # fmt: skip


def upgrade() -> None:
    with op.batch_alter_table("breakout", table_kwargs=_KEEP_IDS) as batch:
        batch.add_column(sa.Column("vpn_psk_sealed", sa.String(255), nullable=True))
    _convert("vpn_psk", "vpn_psk_sealed", _seal)
    with op.batch_alter_table("breakout", table_kwargs=_KEEP_IDS) as batch:
        batch.drop_column("vpn_psk")


def downgrade() -> None:
    with op.batch_alter_table("breakout", table_kwargs=_KEEP_IDS) as batch:
        batch.add_column(sa.Column("vpn_psk", sa.String(64), nullable=True))
    _convert("vpn_psk_sealed", "vpn_psk", _unseal)
    with op.batch_alter_table("breakout", table_kwargs=_KEEP_IDS) as batch:
        batch.drop_column("vpn_psk_sealed")
