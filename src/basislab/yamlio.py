"""Strict YAML for scenario files: safe types only, no duplicate keys, bounded size, depth and
alias expansion, explicit text encodings.

PyYAML's ``safe_load`` builds only plain types (no tag runs code) but keeps the last of two
equal keys, expands aliases without limit (a "billion laughs" document of a few hundred bytes
expands to gigabytes once walked), and reads whatever bytes it is given. :func:`load_text` and
:func:`load_file` add the missing rules; every refusal is one :class:`~basislab.errors.ScenarioError`
line naming the file and, where there is one, the line.

Limits: :data:`MAX_BYTES` of file, :data:`MAX_DEPTH` levels of nesting, :data:`MAX_ALIASES`
alias uses and :data:`MAX_NODES` nodes once aliases are expanded.

Encodings: UTF-8 (a leading byte-order mark is dropped); UTF-16 and UTF-32 with a byte-order
mark are decoded explicitly (YAML 1.1 allows them); anything else that is not valid UTF-8 (Latin-1,
UTF-16 without a mark, a binary file) is refused with the offset of the first bad byte.
"""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Any

import yaml

from basislab.errors import ScenarioError

MAX_BYTES = 1_000_000
MAX_DEPTH = 24
MAX_ALIASES = 64
MAX_NODES = 100_000

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys and counts aliases."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.alias_count = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            self.alias_count += 1
            if self.alias_count > MAX_ALIASES:
                event = self.peek_event()
                raise yaml.constructor.ConstructorError(
                    None, None, f"more than {MAX_ALIASES} aliases (*name)", event.start_mark
                )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                dup = key in seen
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, "a mapping key must be a plain value", key_node.start_mark
                ) from None
            if dup:
                first = seen[key].start_mark.line + 1
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} (first on line {first})",
                    key_node.start_mark,
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def _check_graph(root: yaml.Node) -> None:
    """Refuse a node graph deeper than MAX_DEPTH, with a cycle, or larger than MAX_NODES once
    aliases are expanded (sizes memoised per node, so a bomb is measured without expanding it)."""
    size: dict[int, int] = {}
    on_path: set[int] = set()

    def walk(node: yaml.Node, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise yaml.constructor.ConstructorError(
                None, None, f"nesting deeper than {MAX_DEPTH} levels", node.start_mark
            )
        key = id(node)
        if key in size:
            return size[key]
        if key in on_path:
            raise yaml.constructor.ConstructorError(
                None, None, "an alias refers to its own anchor (a cycle)", node.start_mark
            )
        on_path.add(key)
        n = 1
        if isinstance(node, yaml.SequenceNode):
            n += sum(walk(child, depth + 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            n += sum(walk(k, depth + 1) + walk(v, depth + 1) for k, v in node.value)
        on_path.discard(key)
        size[key] = n
        if n > MAX_NODES:
            raise yaml.constructor.ConstructorError(
                None, None, f"expands to more than {MAX_NODES:,} values (aliases)", node.start_mark
            )
        return n

    walk(root, 0)


def decode(data: bytes, where: str) -> str:
    """Text of a YAML file's bytes (see the module docstring for the encodings accepted)."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as exc:
                raise ScenarioError(
                    f"{where} starts with a {codec.upper()} byte-order mark but byte {exc.start} is not "
                    f"valid {codec.upper()}; save it as UTF-8"
                ) from None
    nul = data.find(b"\x00")
    if nul >= 0:
        raise ScenarioError(
            f"{where} is not a text file (NUL byte at offset {nul}); "
            "expected UTF-8 YAML (UTF-16 needs a byte-order mark)"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            f"{where} is not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}; Latin-1 "
            "or another legacy encoding?); save it as UTF-8"
        ) from None


def load_text(text: str, where: str = "YAML") -> Any:
    """Parse one YAML document strictly; ``where`` names it in errors."""
    if len(text) > MAX_BYTES:
        raise ScenarioError(f"{where} is larger than {MAX_BYTES:,} characters; expected a scenario file")
    loader = None
    try:
        loader = _StrictLoader(text)  # the reader refuses control characters here
        root = loader.get_single_node()
        if root is None:
            return None
        _check_graph(root)
        return loader.construct_document(root)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(f"malformed YAML in {where}{at}: {problem}") from None
    except RecursionError:
        raise ScenarioError(f"malformed YAML in {where}: nesting too deep") from None
    finally:
        if loader is not None:
            loader.dispose()


def load_file(path: str | Path) -> Any:
    """Read and parse a YAML file strictly (size, encoding, then :func:`load_text`)."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise ScenarioError(f"{p.name} is {size:,} bytes; a scenario file is at most {MAX_BYTES:,}")
        data = p.read_bytes()
    except IsADirectoryError:
        raise ScenarioError(f"{p} is a folder; expected a scenario YAML file") from None
    except OSError as exc:
        raise ScenarioError(f"cannot read {p} ({exc.strerror or exc})") from None
    return load_text(decode(data, p.name), p.name)
