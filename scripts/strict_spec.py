"""The spec as its validators read it: api-spec/openapi.yaml with every `x-strict` applied.

`x-strict` holds JSON Schema keywords that a value of its schema also meets but that code
generators cannot take (an `allOf` of `Problem` and `const`s, an `enum` whose names collide as
identifiers, a `oneOf` of `required`s beside the properties; api-spec/README.md, "Generated
clients"). Applying it means `allOf: [the schema without x-strict, x-strict]`; written here as
its keywords merged into the schema where none is already there and the schema has no `$ref`,
else as that `allOf`. The test suite's checker (tests/api/contract.rs) does the same.
"""


def apply_strict(node):
    """`node` (parsed YAML/JSON) with every `x-strict` applied, in place; returns it."""
    if isinstance(node, list):
        for item in node:
            apply_strict(item)
    elif isinstance(node, dict):
        for value in node.values():
            apply_strict(value)
        strict = node.pop("x-strict", None)
        if strict is not None:
            if "$ref" in node or any(key in node for key in strict):
                rest = dict(node)
                node.clear()
                node["allOf"] = [rest, strict]
            else:
                node.update(strict)
    return node
