"""The store's own errors. Repositories and services never see a backend's exceptions."""


class StoreError(Exception):
    """Base class. `operation_index` is set when the error comes from one operation of a batch."""

    status = 500

    def __init__(self, message: str = "", *, operation_index: int | None = None):
        super().__init__(message or self.__class__.__name__)
        self.operation_index = operation_index


class NotFound(StoreError):
    status = 404


class Conflict(StoreError):
    status = 409


class PreconditionFailed(StoreError):
    status = 412


class TooLarge(StoreError):
    status = 413


class StoreUnavailable(StoreError):
    status = 503
