"""boto3's paginator for describe_store_image_tasks, page for page.

The algorithm is botocore's: ``PageSize`` becomes ``MaxResults``, ``MaxItems`` cuts the last page
and leaves a resume token, ``StartingToken`` accepts a service token or a resume token. Resume
tokens are encoded as botocore encodes them (base64 of JSON with ``boto_truncate_amount``), so a
token from one paginator resumes the other.
"""

import base64
import copy
import json

from .exceptions import PaginationError

INPUT_TOKEN = "NextToken"
OUTPUT_TOKEN = "NextToken"
LIMIT_KEY = "MaxResults"
RESULT_KEY = "StoreImageTaskResults"


def encode_token(token):
    return base64.b64encode(json.dumps(token).encode("utf-8")).decode("utf-8")


def decode_token(token):
    """A starting token as (service token dict, items to skip on the first page)."""
    try:
        decoded = json.loads(base64.b64decode(token.encode("utf-8")).decode("utf-8"))
        if not isinstance(decoded, dict):
            raise ValueError("not a resume token")
        index = decoded.pop("boto_truncate_amount", 0)
        return decoded, index
    except (ValueError, TypeError):
        # A service token given as is (botocore's "deprecated" form, split on "___").
        parts = token.split("___")
        index = 0
        if len(parts) == 2:
            try:
                index = int(parts.pop())
            except ValueError:
                parts = [token]
        if len(parts) != 1:
            raise ValueError(f"Bad starting token: {token}") from None
        value = None if parts[0] == "None" else parts[0]
        return {INPUT_TOKEN: value}, index


class _Walk:
    """botocore's bookkeeping of one iteration, apart from how the pages are fetched: ``kwargs``
    asks for the first page, then (after each :meth:`follow` that returns True) for the next."""

    def __init__(self, iterator):
        self._iterator = iterator
        self.kwargs = copy.copy(iterator._op_kwargs)
        self._previous_next_token = None
        self._next_token = {INPUT_TOKEN: None}
        self._starting_truncation = 0
        if iterator._starting_token is not None:
            self._next_token, self._starting_truncation = decode_token(iterator._starting_token)
            iterator._inject_token(self.kwargs, self._next_token)
        if iterator._page_size is not None:
            self.kwargs[LIMIT_KEY] = iterator._page_size
        self._total_items = 0
        self._first_request = True
        self._response = None
        self._current = []
        self._cut = False

    def page(self, response):
        """``response`` as the iteration hands it out: StartingToken and MaxItems cut it."""
        if self._first_request:
            self._first_request = False
            if self._starting_truncation:
                response[RESULT_KEY] = response.get(RESULT_KEY, [])[self._starting_truncation:]
        else:
            self._starting_truncation = 0
        current = response.get(RESULT_KEY) or []
        max_items = self._iterator._max_items
        truncate_amount = 0
        if max_items is not None:
            truncate_amount = self._total_items + len(current) - max_items
        if truncate_amount > 0:
            keep = len(current) - truncate_amount
            response[RESULT_KEY] = current[:keep]
            next_token = dict(self._next_token)
            next_token["boto_truncate_amount"] = keep + self._starting_truncation
            self._iterator._set_resume_token(next_token)
            self._cut = True
        self._response, self._current = response, current
        return response

    def follow(self):
        """Run once the page was handed out: whether another page follows (``kwargs`` then asks
        for it). Raises PaginationError when the service repeated a token."""
        if self._cut:
            return False
        self._total_items += len(self._current)
        next_token = self._next_token = {INPUT_TOKEN: self._response.get(OUTPUT_TOKEN)}
        if next_token[INPUT_TOKEN] is None:
            return False
        if self._iterator._max_items is not None and self._total_items == self._iterator._max_items:
            self._iterator._set_resume_token(next_token)
            return False
        if self._previous_next_token is not None and self._previous_next_token == next_token:
            raise PaginationError(f"Error during pagination: The same next token was received twice: {next_token}")
        self._iterator._inject_token(self.kwargs, next_token)
        self._previous_next_token = next_token
        return True


def _found(compiled, page):
    """What a compiled JMESPath expression finds in a page, as a list of results."""
    results = compiled.search(page)
    return results if isinstance(results, list) else [results]


class PageIterator:
    """Iterate it for the pages (each a full response dict), or call ``build_full_result()``.
    Each iteration starts again from the beginning."""

    def __init__(self, method, max_items, starting_token, page_size, op_kwargs):
        self._method = method
        self._max_items = max_items
        self._starting_token = starting_token
        self._page_size = page_size
        self._op_kwargs = op_kwargs
        self._resume_token = None

    @property
    def result_keys(self):
        return [RESULT_KEY]

    @property
    def non_aggregate_part(self):
        return {}

    @property
    def resume_token(self):
        """The token that resumes the listing where MaxItems stopped it, or None."""
        return self._resume_token

    def _set_resume_token(self, value):
        self._resume_token = encode_token(value)

    def __iter__(self):
        walk = _Walk(self)
        while True:
            yield walk.page(self._method(**walk.kwargs))
            if not walk.follow():
                break

    @staticmethod
    def _inject_token(kwargs, next_token):
        for name, token in next_token.items():
            if token is not None and token != "None":
                kwargs[name] = token
            elif name in kwargs:
                del kwargs[name]

    @staticmethod
    def _add_to_full_result(result, page):
        value = page.get(RESULT_KEY)
        if value is not None:
            result.setdefault(RESULT_KEY, []).extend(value)

    def _full_result(self, result):
        if self._resume_token is not None:
            result["NextToken"] = self._resume_token
        return result

    def build_full_result(self):
        """Every page's tasks in one dict, with ``NextToken`` set to the resume token when
        ``MaxItems`` stopped the listing early."""
        result = {}
        for page in self:
            self._add_to_full_result(result, page)
        return self._full_result(result)

    def search(self, expression):
        """botocore's ``search``: a JMESPath expression over each page (needs ``jmespath``)."""
        import jmespath

        compiled = jmespath.compile(expression)
        for page in self:
            yield from _found(compiled, page)


class Paginator:
    """``client.get_paginator("describe_store_image_tasks")``."""

    #: What paginate() returns (botocore's name).
    PAGE_ITERATOR_CLS = PageIterator

    def __init__(self, method):
        self._method = method

    def paginate(self, **kwargs):
        """Pages of ``describe_store_image_tasks(**kwargs)``; ``PaginationConfig`` takes
        ``MaxItems``, ``PageSize`` and ``StartingToken`` as in boto3."""
        config = kwargs.pop("PaginationConfig", None) or {}
        max_items = config.get("MaxItems")
        page_size = config.get("PageSize")
        return self.PAGE_ITERATOR_CLS(
            self._method,
            None if max_items is None else int(max_items),
            config.get("StartingToken"),
            None if page_size is None else int(page_size),
            kwargs,
        )
