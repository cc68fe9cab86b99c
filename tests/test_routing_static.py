"""The session protocol's Redis keys belong to ``yaffw.routing``: no function module spells or builds
them, nor calls the primitives (``yaffw.queue``'s functions, ``yaffw.leases``) behind it.

A static check over ``functions/``: it reads the source, so it holds for code paths no other test runs.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

# Key builders of ``yaffw.keys.Keys`` that only the protocol may call.
PROTOCOL_KEYS = frozenset({
    "transcode_queue", "active_transcode", "workers", "processing", "worker", "session_map", "session_events",
    "lease", "session_pending",
})  # fmt: skip
# The same keys spelled out.
PROTOCOL_SPELLINGS = ("queue:transcode", "active:transcode", "processing:", "worker:", "map:session",
                      "events:session", "lease:session", "pending:session")  # fmt: skip
PRIMITIVES = frozenset({"yaffw.queue", "yaffw.leases"})
ALLOWED_FROM_QUEUE = frozenset({"JobPayload"})  # the job's type travels everywhere
# Commands that read or write the session hash's ``worker`` field (the owner the claim sets).
HASH_COMMANDS = frozenset({"hget", "hmget", "hset", "hdel", "hsetnx"})


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _keys_aliases(tree: ast.AST) -> set[str]:
    """Names bound to a Keys object: ``keys``, and ``k = self.keys`` / ``k = Keys(prefix)``."""
    names = {"keys"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            value = node.value
            if (isinstance(value, ast.Attribute) and value.attr == "keys") or (
                isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "Keys"
            ):
                names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def violations(path: Path, rel: str) -> list[str]:
    """What in one source file touches the protocol directly, as ``file:line: why``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    docs = _docstrings(tree)
    aliases = _keys_aliases(tree)
    found: list[tuple[int, str]] = []

    def add(node: ast.AST, why: str) -> None:
        line = getattr(node, "lineno", 0)
        found.append((line, f"{rel}:{line}: {why}"))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in PRIMITIVES:
                    add(node, f"imports {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            if node.module == "yaffw":
                for alias in node.names:
                    if f"yaffw.{alias.name}" in PRIMITIVES:
                        add(node, f"imports yaffw.{alias.name}")
            elif node.module in PRIMITIVES:
                for alias in node.names:
                    if node.module != "yaffw.queue" or alias.name not in ALLOWED_FROM_QUEUE:
                        add(node, f"imports {alias.name} from {node.module}")
        elif isinstance(node, ast.Attribute) and node.attr in PROTOCOL_KEYS:
            base = node.value
            if (isinstance(base, ast.Name) and base.id in aliases) or (
                isinstance(base, ast.Attribute) and base.attr == "keys"
            ):
                add(node, f"builds the protocol key {node.attr}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            for spelling in PROTOCOL_SPELLINGS:
                if spelling in node.value:
                    add(node, f"spells the protocol key {spelling!r}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in HASH_COMMANDS
            and any(isinstance(a, ast.Constant) and a.value == "worker" for a in node.args)
        ):
            add(node, "reads or writes the session's owner field")
    return [text for _, text in sorted(found)]


def scan(root: Path) -> list[str]:
    """Every violation under ``root/functions``."""
    out: list[str] = []
    for path in sorted((root / "functions").rglob("*.py")):
        out += violations(path, str(path.relative_to(root)))
    return out


def test_functions_use_the_routing_module_for_the_protocol():
    assert scan(ROOT) == []


def test_the_check_sees_each_kind_of_direct_use(tmp_path):
    """The checker itself: each way of touching the protocol directly is reported."""
    src = tmp_path / "functions" / "f" / "m.py"
    src.parent.mkdir(parents=True)
    src.write_text(
        '"""Docstrings may name map:session:{sid}."""\n'
        "from yaffw import leases\n"
        "import yaffw.queue\n"
        "from yaffw.queue import JobPayload, enqueue\n"
        "async def f(d, self):\n"
        "    k = self.keys\n"
        "    await d.redis.get(d.keys.session_map('s'))\n"
        "    await d.redis.exists(k.lease('s'))\n"
        "    await d.redis.rpush(d.prefix + 'queue:transcode', '{}')\n"
        "    await d.redis.hget(d.keys.session('s'), 'worker')\n"
        "    return d.session.worker, JobPayload\n"
    )
    found = scan(tmp_path)
    assert [line.split(": ", 1)[1] for line in found] == [
        "imports yaffw.leases",
        "imports yaffw.queue",
        "imports enqueue from yaffw.queue",
        "builds the protocol key session_map",
        "builds the protocol key lease",
        "spells the protocol key 'queue:transcode'",
        "reads or writes the session's owner field",
    ]
