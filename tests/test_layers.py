"""The layers hold at run time too: the stream contracts and the domain services load without
the web framework (import-linter checks the static imports in `make test`)."""

from __future__ import annotations

import subprocess
import sys


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint(' '.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=120)  # fmt: skip
    return set(done.stdout.split())


def test_streams_load_neither_quart_nor_socketio() -> None:
    loaded = _loaded_after("import streams.topics, streams.records")
    assert "streams.topics" in loaded
    assert not {"quart", "socketio", "hypercorn"} & loaded


def test_domain_services_and_agents_load_without_quart() -> None:
    loaded = _loaded_after("import app.books.service, app.proposals.service, agents.payments")
    assert {"app.books.service", "agents.payments"} <= loaded
    assert not {"quart", "quart_schema", "hypercorn"} & loaded


def test_the_web_application_is_built_only_where_asked() -> None:
    assert "quart" in _loaded_after("import app.web")


def test_a_domain_asks_another_domains_service_never_its_repository() -> None:
    import grimp

    graph = grimp.build_graph("app", "agents", "streams")
    reaching = []
    for module in sorted(graph.modules):
        parts = module.split(".")
        if len(parts) != 3 or parts[0] != "app" or parts[2] != "repository":
            continue
        for importer in graph.find_modules_that_directly_import(module):
            owner = importer.split(".")[1] if importer.startswith("app.") else None
            if owner != parts[1]:
                reaching.append(f"{importer} -> {module}")
    assert reaching == []
