"""Alembic environment of the session store, configured in code (no ``alembic.ini``).

:func:`addiction_index.store.migrations.alembic_config` builds the configuration; the connection
to migrate is passed in ``config.attributes["connection"]`` (already inside a transaction, so
every revision of a run commits or rolls back together). Without one, the URL comes from the
``sqlalchemy.url`` option or :func:`~addiction_index.store.resolve_database_url`; offline mode
(``--sql``) prints the SQL instead. SQLite runs in batch mode, since it cannot alter tables.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from addiction_index.store._database import create_store_engine, resolve_database_url
from addiction_index.store.migrations import store_metadata

config = context.config
target_metadata = store_metadata()


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_offline() -> None:
    """Emit the SQL of the migrations for the configured URL, without a database."""
    url = config.get_main_option("sqlalchemy.url") or resolve_database_url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate the given connection, or a connection to the configured database."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url") or resolve_database_url()
    engine = create_store_engine(url)
    try:
        with engine.connect() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
