"""YAML for files people hand-edit (project.yaml, taxonomies, training recipes), with limits.

PyYAML's safe loader still accepts alias "bombs" (a few lines whose aliases
expand to billions of nodes once anything walks them) and nesting deep enough
to end in a RecursionError. Real project files have a few dozen aliases at
most and a nesting depth under ten, so both are capped far above that and
refused with one line naming the file, line and column.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from datasets.errors import XwbError

MAX_DEPTH = 64             # nesting of mappings and sequences
MAX_NODES = 200_000        # nodes after alias expansion (a 10,000-line recipe has ~30,000)
MAX_BYTES = 10 << 20       # a settings file of 10 MB is not a settings file


class _Limited(yaml.SafeLoader):
    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise yaml.YAMLError(f"nested deeper than {MAX_DEPTH} levels at line {mark.line + 1}, "
                                     f"column {mark.column + 1}")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _expanded_size(node, memo: dict[int, int], budget: int) -> int:
    """Nodes the document would have with every alias written out (shared subtrees counted each time)."""
    key = id(node)
    if key in memo:
        return memo[key]
    memo[key] = 1  # (a node that contains itself counts once; the constructor handles such cycles)
    total = 1
    if isinstance(node, yaml.MappingNode):
        children = [c for pair in node.value for c in pair]
    elif isinstance(node, yaml.SequenceNode):
        children = node.value
    else:
        children = []
    for c in children:
        total += _expanded_size(c, memo, budget)
        if total > budget:
            break
    memo[key] = total
    return total


def load(text: str, where: str) -> Any:
    """Parse YAML ``text`` (from ``where``, for messages) within the limits; one-line XwbError otherwise."""
    loader = _Limited(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, {}, MAX_NODES) > MAX_NODES:
            raise XwbError(f"{where}: refused: its aliases expand to more than {MAX_NODES:,} values "
                           "(a YAML alias bomb?)")
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise XwbError(f"{where}: not valid YAML{at}: {e.problem or e.context}") from None
    except yaml.YAMLError as e:
        raise XwbError(f"{where}: refused: {e}") from None
    except RecursionError:
        raise XwbError(f"{where}: refused: nested too deeply") from None
    finally:
        loader.dispose()


def load_file(path: str | Path) -> Any:
    """Read and parse a hand-edited settings file; refused (one line) when absurdly large or not UTF-8."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise XwbError(f"{path}: {size:,} bytes; a settings file over {MAX_BYTES >> 20} MB is refused")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise XwbError(f"{path}: not UTF-8 text") from None
    except OSError as e:
        raise XwbError(f"{path}: cannot read ({e.strerror or e})") from None
    return load(text, str(path))
