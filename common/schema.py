"""drf-spectacular hooks: the schema says what the API really answers."""

from __future__ import annotations

NOT_FOUND = {"description": "Introuvable (ou personne inconnue de vous), ou page au-delà de la dernière."}


def document_pagination_errors(result: dict, generator, request, public) -> dict:
    """A paginated list answers 404 for a page beyond the last one (DRF's paginator)."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict):
                continue
            parameters = operation.get("parameters", [])
            if any(p.get("name") == "page" and p.get("in") == "query" for p in parameters):
                responses = operation.setdefault("responses", {})
                if "404" not in responses:
                    responses["404"] = {
                        **NOT_FOUND,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Detail"}}},
                    }
    return result


LOCAL_TIME = {
    "type": "string",
    "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?$",
    "description": "Heure locale (Europe/Paris), sans fuseau : HH:MM[:SS].",
}


def document_local_times(result: dict, generator, request, public) -> dict:
    """A time of day is local (`10:00:00`, a weekly action at ten): not the RFC 3339
    `full-time` that `format: time` means, which requires an offset."""

    def walk(node):
        if isinstance(node, dict):
            if node.get("format") == "time" and node.get("type") == "string":
                del node["format"]
                for key, value in LOCAL_TIME.items():
                    node.setdefault(key, value)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(result.get("components", {}))
    walk(result.get("paths", {}))
    return result
