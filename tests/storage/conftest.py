from tests.storage.fixtures import anyio_backend, bucket, local_storage, s3_storage, storage

__all__ = ["anyio_backend", "bucket", "local_storage", "s3_storage", "storage"]
