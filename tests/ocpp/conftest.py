from tests.transactions.fixtures import thread_connections  # noqa: F401 (fixture)
