"""Upload size cap enforced while the request body streams in, not after it is all on disk."""

from __future__ import annotations

from django.core.files.uploadhandler import FileUploadHandler
from rest_framework.exceptions import APIException


class UploadTooLarge(APIException):
    status_code = 413
    default_code = "file_too_large"


class MaxSizeUploadHandler(FileUploadHandler):
    """Stops reading a multipart file as soon as it passes ``max_bytes``."""

    def __init__(self, request=None, *, max_bytes: int) -> None:
        super().__init__(request)
        self.max_bytes = max_bytes
        self.received = 0

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.max_bytes:
            raise UploadTooLarge(
                f"The file is larger than the {self.max_bytes // (1024 * 1024)} MB limit."
            )
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
