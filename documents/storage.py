"""Where documents' files live: the `documents` storage of settings.STORAGES (django-storages'
Azure Blob Storage in production, the filesystem under EVA_VAR_DIR by default)."""

import contextlib
import logging
import threading
from pathlib import Path

from azure.core.exceptions import ResourceExistsError
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage, storages
from storages.backends.azure_storage import AzureStorage

logger = logging.getLogger(__name__)

_ready: set[int] = set()
_ready_lock = threading.Lock()


def document_storage() -> Storage:
    """The storage, its Azure container created on first use in each process (django-storages
    never creates it)."""
    storage = storages["documents"]
    if isinstance(storage, AzureStorage) and id(storage) not in _ready:
        with _ready_lock:
            if id(storage) not in _ready:
                with contextlib.suppress(ResourceExistsError):
                    storage.client.create_container()
                _ready.add(id(storage))
    return storage


def blob_name(*, tenant_id: str, space_id: str, document_id: str, filename: str) -> str:
    return f"{tenant_id}/{space_id}/{document_id}/{filename}"


def blob_save(name: str, file) -> str:
    """Saves under exactly `name` (document ids make names unique); returns it."""
    file.seek(0)
    return document_storage().save(name, file)


def blob_replace(name: str, content: bytes) -> str:
    """Writes `content` under exactly `name`, replacing what was there."""
    storage = document_storage()
    storage.delete(name)
    return storage.save(name, ContentFile(content))


def blob_delete(name: str) -> None:
    storage = document_storage()
    storage.delete(name)
    if isinstance(storage, FileSystemStorage):
        # On disk, the document's folders go with its file when empty (Blob Storage has no folders).
        root = Path(storage.location).resolve()
        folder = Path(storage.path(name)).resolve().parent
        while folder != root and root in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                break  # not empty (or gone): the folders above are in use too
            folder = folder.parent


def blob_open(name: str):
    return document_storage().open(name, "rb")


def blob_download_url(name: str) -> str | None:
    """A short-lived signed URL to the file, where the storage can make one (Azure); None when
    the file must be streamed through the API instead (the filesystem)."""
    storage = document_storage()
    if isinstance(storage, AzureStorage):
        return storage.url(name, expire=settings.DOCUMENT_DOWNLOAD_URL_SECONDS)
    return None
