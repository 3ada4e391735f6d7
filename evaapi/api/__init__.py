"""REST helpers every app's `api/` package builds on: the base view with its scope
declaration, input validation, continuation paging and the OpenAPI pieces."""
