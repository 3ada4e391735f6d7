"""Limits checked before an operation runs: its depth and its cost.

Depth counts nested fields (`spaces { edges { node { name } } }` is 4). Cost estimates the
objects an operation may return: every object-typed field counts 1 for each time it may
appear, and a list multiplies what is under it by its length: `first` where the field takes
one (for a connection, its `edges` are that long), else UNPAGED_LIST_LENGTH. Scalars are free,
and so are introspection fields (`__schema`, `__type`, `__typename`), which the introspection
setting governs. So `spaces(first: 50) { edges { node { documents(first: 20) { edges { node {
filename } } } } } }` costs 1 + 50 + 50 + 50 * (1 + 20 + 20) = 2,151."""

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)
from graphql.execution.collect_fields import collect_fields
from graphql.execution.values import get_argument_values

# The length assumed for a list that takes no `first` (a query result's citations: at most
# TOP_K_MAX of them).
UNPAGED_LIST_LENGTH = 20


class _Walk:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode], variables: dict):
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def fields(self, selection_set: SelectionSetNode | None, parent: GraphQLObjectType, seen=frozenset()):
        """(field node, its definition) of a selection set, fragments expanded (each at most
        once along a path: a cycle is a validation error reported before this runs)."""
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                if selection.name.value.startswith("__"):
                    continue
                definition = parent.fields.get(selection.name.value)
                if definition is not None:
                    yield selection, definition
            elif isinstance(selection, InlineFragmentNode):
                on = self.schema.get_type(selection.type_condition.name.value) if selection.type_condition else parent
                if isinstance(on, GraphQLObjectType):
                    yield from self.fields(selection.selection_set, on, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:
                    continue
                on = self.schema.get_type(fragment.type_condition.name.value)
                if isinstance(on, GraphQLObjectType):
                    yield from self.fields(fragment.selection_set, on, seen | {name})

    def first(self, node: FieldNode, definition) -> int | None:
        if "first" not in definition.args:
            return None
        try:
            # What the resolver will be given: literals, coerced variables, defaults.
            value = get_argument_values(definition, node, self.variables).get("first")
        except GraphQLError:
            return 0  # a null for a non-null argument: the field fails before it reads anything
        if value is None:  # null is the default (evaapi.graphql.relay.first_check)
            value = definition.args["first"].default_value
        return max(value, 0) if isinstance(value, int) else UNPAGED_LIST_LENGTH

    def depth(self, selection_set, parent) -> int:
        deepest = 0
        for node, definition in self.fields(selection_set, parent):
            named = _named(definition.type)
            below = self.depth(node.selection_set, named) if isinstance(named, GraphQLObjectType) else 0
            deepest = max(deepest, 1 + below)
        return deepest

    def cost(self, selection_set, parent, times: int, page: int | None = None) -> int:
        """`times`: how many of `parent` there may be; `page`: the `first` of the connection
        `parent` is, which its `edges` list takes."""
        total = 0
        for node, definition in self.fields(selection_set, parent):
            named = _named(definition.type)
            if not isinstance(named, GraphQLObjectType):
                continue
            first = self.first(node, definition)
            count = times
            if _is_list(definition.type):
                count *= first if first is not None else (page if page is not None else UNPAGED_LIST_LENGTH)
            total += count + self.cost(node.selection_set, named, count, first)
        return total


def _named(graphql_type):
    while isinstance(graphql_type, GraphQLNonNull | GraphQLList):
        graphql_type = graphql_type.of_type
    return graphql_type


def _is_list(graphql_type) -> bool:
    while isinstance(graphql_type, GraphQLNonNull):
        graphql_type = graphql_type.of_type
    return isinstance(graphql_type, GraphQLList)


def _root(schema: GraphQLSchema, operation: OperationDefinitionNode) -> GraphQLObjectType | None:
    return {OperationType.QUERY: schema.query_type, OperationType.MUTATION: schema.mutation_type,
            OperationType.SUBSCRIPTION: schema.subscription_type}[operation.operation]


def _fragments(document) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def operation_measure(schema: GraphQLSchema, document, operation: OperationDefinitionNode,
                      variables: dict | None) -> tuple[int, int]:
    """The operation's (depth, cost). `variables`: the coerced values (ExecutionContext.build's),
    not the raw ones a client sent."""
    walk = _Walk(schema, _fragments(document), variables or {})
    root = _root(schema, operation)
    if root is None:
        return 0, 0
    return walk.depth(operation.selection_set, root), walk.cost(operation.selection_set, root, 1)


def root_mutations_count(schema: GraphQLSchema, document, operation: OperationDefinitionNode,
                         variables: dict | None) -> int:
    """How many mutations the operation runs: its root fields as execution collects them
    (aliases apart, fragments expanded, @skip and @include applied, `__typename` left out); 0
    for a query or a subscription."""
    if operation.operation != OperationType.MUTATION or schema.mutation_type is None:
        return 0
    fields = collect_fields(schema, _fragments(document), variables or {}, schema.mutation_type,
                            operation.selection_set)
    return sum(1 for nodes in fields.values() if not nodes[0].name.value.startswith("__"))
