"""Paging helpers the apps' selectors share."""

from collections.abc import Callable, Iterable


def pages_by_parent(items: list[dict], parent_ids: Iterable[str], *, parent_field: str, limit: int, truncated: bool,
                    page_of: Callable[[str], tuple[list, bool]], convert: Callable[[dict], object]
                    ) -> dict[str, tuple[list, bool]]:
    """The first `limit` children of each parent, and whether it has more, from one query's page
    of several parents' children (newest first across them all, `truncated` if it had more).

    A parent with more than `limit` children in the page is complete: a page in one order holds
    each parent's first children. A parent with fewer is complete unless the page was truncated;
    then `page_of(parent_id)` (a query of its own) gives its page. So a batch costs one query,
    plus one per parent the shared page left short."""
    grouped: dict[str, list[dict]] = {parent_id: [] for parent_id in parent_ids}
    for item in items:
        if item[parent_field] in grouped:
            grouped[item[parent_field]].append(item)
    pages = {}
    for parent_id, children in grouped.items():
        if truncated and len(children) <= limit:
            pages[parent_id] = page_of(parent_id)
        else:
            pages[parent_id] = ([convert(item) for item in children[:limit]], len(children) > limit)
    return pages
