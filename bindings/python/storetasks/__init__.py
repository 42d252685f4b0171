"""storetasks: the progress of Amazon EC2 AMI store-to-S3 tasks (DescribeStoreImageTasks).

A pure-Python (ctypes) front end of libstoretasks with boto3's interface for this one call::

    import storetasks

    with storetasks.Client(region="us-east-1") as ec2:
        for page in ec2.get_paginator("describe_store_image_tasks").paginate():
            for task in page["StoreImageTaskResults"]:
                print(task["AmiId"], task.get("StoreTaskState"), task.get("ProgressPercentage"))
        ec2.get_waiter("store_image_task_complete").wait(ImageIds=["ami-0123456789abcdef0"])

The results are the dictionaries boto3 returns, the waiter is boto3's; errors are exceptions shaped like botocore's
(see :mod:`storetasks.exceptions`). See README.md for where libstoretasks is looked for. For asyncio,
:mod:`storetasks.aio` has an ``AsyncClient`` with the calls libstoretasks makes without blocking.
"""

from .client import Client, library_path, library_version, status_name
from .exceptions import (
    ClientClosedError,
    ClientError,
    ConfigError,
    EndpointConnectionError,
    LibraryNotFoundError,
    NoCredentialsError,
    OperationNotPageableError,
    PaginationError,
    ParamValidationError,
    ReadTimeoutError,
    ResponseParserError,
    StoreTasksError,
    WaiterError,
)
from .fleet import FleetPages
from .paginate import PageIterator, Paginator
from .waiter import Waiter

# The library's version (Cargo.toml); pyproject.toml reads it, tests/versions/check.py compares them.
__version__ = "0.1.0"

__all__ = [
    "Client",
    "ClientClosedError",
    "ClientError",
    "ConfigError",
    "EndpointConnectionError",
    "FleetPages",
    "LibraryNotFoundError",
    "NoCredentialsError",
    "OperationNotPageableError",
    "PageIterator",
    "PaginationError",
    "Paginator",
    "ParamValidationError",
    "ReadTimeoutError",
    "ResponseParserError",
    "StoreTasksError",
    "Waiter",
    "WaiterError",
    "library_path",
    "library_version",
    "status_name",
]
