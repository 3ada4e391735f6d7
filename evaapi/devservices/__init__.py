"""Local services on loopback, started and stopped by PID: the embedded Redis for `make run`,
and Redis, the Cosmos DB emulator and Azurite for `make test`.

Nothing here is imported by the application itself; it is the harness around it."""
