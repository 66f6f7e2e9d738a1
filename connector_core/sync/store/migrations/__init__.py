"""The state database's schema revisions (Alembic), run by :mod:`connector_core.sync.store.schema` when
a store opens: no ``alembic.ini``, no ``env.py``, nothing for a user to run.

Each file in ``versions/`` is one revision: ``revision``, ``down_revision`` and ``upgrade()`` written
with Alembic's ``op``, valid on SQLite and PostgreSQL both. A revision is frozen once released: it never
imports :mod:`..tables` (which describes the newest schema only). To change the schema, change
``tables.py``, add the next revision here by hand, and set ``HEAD`` in ``schema.py``;
``tests/runner/test_state_migrations.py`` fails until the tables at head equal ``tables.py`` on both
back ends, and a store made by every earlier revision opens with its data intact.
"""
