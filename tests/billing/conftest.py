from tests.transactions.fixtures import (  # noqa: F401 (fixtures)
    group_commit,
    published,
    thread_connections,
)
