"""Where each table is: its name from the configuration or the function's environment, and the
adapters over it, all on the one DynamoDB client (``presign.adapters.dynamodb.table_client``: no
botocore at cold start, one connection pool for every table)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from presign.config.settings import Settings
from presign.errors import ConfigurationError

if TYPE_CHECKING:
    from presign.adapters.dynamodb_cleanup import DynamoDbCleanupRecords, DynamoDbCleanupShares
    from presign.adapters.dynamodb_shares import DynamoDbShareStore
    from presign.adapters.dynamodb_uploads import DynamoDbRecordStore

UPLOADS_TABLE_VAR = "PRESIGN_UPLOADS_TABLE"
SHARES_TABLE_VAR = "PRESIGN_SHARES_TABLE"


def table_name(configured: str | None, environ: Mapping[str, str], variable: str, section: str) -> str:
    """The table's name: the configuration's, else the environment variable the template sets."""
    name = configured or environ.get(variable, "").strip()
    if not name:
        raise ConfigurationError(
            f"{section} are enabled but {variable} is not set "
            f"(set it, or {section.replace(' ', '_')}.enabled: false for a local run without a table)"
        )
    return name


def _table_of(settings: Settings, environ: Mapping[str, str], section: str) -> str:
    if section == "shares":
        return table_name(settings.shares.table_name, environ, SHARES_TABLE_VAR, "shares")
    return table_name(settings.upload_records.table_name, environ, UPLOADS_TABLE_VAR, "upload records")


def upload_records(settings: Settings, environ: Mapping[str, str]) -> DynamoDbRecordStore:
    from presign.adapters.dynamodb import table_client
    from presign.adapters.dynamodb_uploads import DynamoDbRecordStore

    return DynamoDbRecordStore(table_client(), _table_of(settings, environ, "uploads"))


def share_records(settings: Settings, environ: Mapping[str, str]) -> DynamoDbShareStore:
    from presign.adapters.dynamodb import table_client
    from presign.adapters.dynamodb_shares import DynamoDbShareStore

    return DynamoDbShareStore(table_client(), _table_of(settings, environ, "shares"))


def cleanup_records(settings: Settings, environ: Mapping[str, str]) -> DynamoDbCleanupRecords:
    from presign.adapters.dynamodb import table_client
    from presign.adapters.dynamodb_cleanup import DynamoDbCleanupRecords

    return DynamoDbCleanupRecords(table_client(), _table_of(settings, environ, "uploads"))


def cleanup_shares(settings: Settings, environ: Mapping[str, str]) -> DynamoDbCleanupShares:
    from presign.adapters.dynamodb import table_client
    from presign.adapters.dynamodb_cleanup import DynamoDbCleanupShares

    return DynamoDbCleanupShares(table_client(), _table_of(settings, environ, "shares"))
