"""A real S3-compatible server for the object-storage tests: moto's standalone `moto_server`
(from requirements-dev.txt) on a free loopback port, started once per test session.

    def test_x(s3):            # s3.env: the AWS_* variables the app reads; s3.client: boto3
        bucket = s3.new_bucket()
"""
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.load import free_port

KEYS = {"AWS_ACCESS_KEY_ID": "ser-test", "AWS_SECRET_ACCESS_KEY": "ser-test-secret",
        "AWS_S3_REGION_NAME": "us-east-1"}


@dataclass
class S3:
    endpoint: str
    client: object

    def new_bucket(self):
        """Create an empty private bucket; returns its name."""
        name = f"ser-{uuid.uuid4().hex[:12]}"
        self.client.create_bucket(Bucket=name)
        return name

    def env(self, bucket):
        """The environment variables that point the app at bucket."""
        return {**KEYS, "AWS_STORAGE_BUCKET_NAME": bucket, "AWS_S3_ENDPOINT_URL": self.endpoint}

    def storage(self, bucket):
        """settings.STORAGES["default"] for bucket, as sersite/settings.py builds it."""
        return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
            "bucket_name": bucket, "endpoint_url": self.endpoint, "region_name": "us-east-1",
            "access_key": KEYS["AWS_ACCESS_KEY_ID"],
            "secret_key": KEYS["AWS_SECRET_ACCESS_KEY"], "location": "", "default_acl": None,
            "querystring_auth": True, "file_overwrite": False}}

    def keys(self, bucket):
        """The object keys in bucket."""
        listing = self.client.list_objects_v2(Bucket=bucket)
        return sorted(o["Key"] for o in listing.get("Contents", []))


@pytest.fixture(scope="session")
def s3(tmp_path_factory):
    """Start moto_server on a free port; yield an S3 helper; stop it afterwards."""
    import boto3
    server = Path(sys.executable).parent / "moto_server"
    if not server.exists():
        pytest.fail("moto_server is missing: pip install -r requirements-dev.txt")
    port = free_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "w")
    proc = subprocess.Popen([str(server), "-H", "127.0.0.1", "-p", str(port)], stdout=log,
                            stderr=subprocess.STDOUT, env={**os.environ, **KEYS})
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(endpoint + "/moto-api/", timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"moto_server exited with {proc.returncode}")
                time.sleep(0.1)
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id=KEYS["AWS_ACCESS_KEY_ID"],
                              aws_secret_access_key=KEYS["AWS_SECRET_ACCESS_KEY"])
        yield S3(endpoint, client)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
