"""Store fixtures: a SQLite file per test, and a PostgreSQL schema per test when a server is up.

PostgreSQL comes from $MNIST_KNN_TEST_PG_URL (``.ci/run`` sets it up), else the same
local default. Without a reachable server those tests are skipped, except in CI
(``CI=true``), where they must run.
"""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

PG_URL = os.environ.get(
    "MNIST_KNN_TEST_PG_URL",
    "postgresql+psycopg://mnist_knn:mnist_knn@127.0.0.1:5432/mnist_knn_test",
)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The PostgreSQL test URL, once a connection to it has succeeded."""
    engine = sa.create_engine(PG_URL)
    try:
        with engine.connect():
            pass
    except sa.exc.SQLAlchemyError as exc:
        message = f"no PostgreSQL at {make_url(PG_URL).render_as_string()}: {exc.orig or exc}"
        if in_ci():
            pytest.fail(f"{message} (CI must run the PostgreSQL tests; see .ci/run)")
        pytest.skip(message)
    finally:
        engine.dispose()
    return PG_URL


@pytest.fixture
def pg_url(pg_server):
    """A URL whose tables live in a fresh schema of the test database, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    engine = sa.create_engine(pg_server)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))  # a fixed-format identifier
    url = make_url(pg_server).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """Each test using it runs twice: on a SQLite file, and on PostgreSQL."""
    if request.param == "sqlite":
        return str(tmp_path / "drawings.sqlite")
    return request.getfixturevalue("pg_url")
