"""What an operation asks for below the field being resolved: lets a resolver fetch, with its
own batch, what the fields under it will need (instead of each of them awaiting a loader)."""

from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode


def _fields(selection_set, fragments):
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(selection.selection_set, fragments)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
            yield from _fields(fragments[selection.name.value].selection_set, fragments)


def selects(info, *path: str) -> bool:
    """Whether the field being resolved selects `path` below it (e.g. "edges", "node", "result").
    Asked once per field of the operation, however many objects the field resolves for."""
    memo = info.context.memo
    key = ("selects", id(info.field_nodes[0]), path)
    if key not in memo:
        memo[key] = _selects(info, path)
    return memo[key]


def _selects(info, path) -> bool:
    nodes = list(info.field_nodes)
    for name in path:
        nodes = [field for node in nodes for field in _fields(node.selection_set, info.fragments)
                 if field.name.value == name]
        if not nodes:
            return False
    return True
