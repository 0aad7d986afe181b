"""Checks an OpenAPI document as a standard tool reads it.

Usage: python check_document.py DOCUMENT.json

1. It declares OpenAPI 3.1 and is valid under openapi-spec-validator's 3.1 validator
   (every error is printed, not only the first).
2. Every example of a request body is valid under its media type's schema, read as the
   document's JSON Schema dialect (2020-12) with its references resolved in the document.
Exits 1 naming what is wrong; prints one summary line when all is well.
"""

import json
import sys
from urllib.parse import quote

from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

URI = "urn:mixplane:openapi"


def main(path):
    with open(path, encoding="utf-8") as f:
        document = json.load(f)
    problems = []
    if not str(document.get("openapi", "")).startswith("3.1."):
        problems.append(f"declares OpenAPI {document.get('openapi')!r}, not 3.1.x")
    for error in OpenAPIV31SpecValidator(document).iter_errors():
        where = "/".join(str(p) for p in error.absolute_path)
        problems.append(f"invalid at /{where}: {error.message[:300]}")

    registry = Registry().with_resource(URI, Resource(contents=document, specification=DRAFT202012))
    examples = 0
    for path_name, item in document.get("paths", {}).items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            for media_type, media in content.items():
                if "example" not in media:
                    continue
                examples += 1
                validator = Draft202012Validator(
                    {"$ref": URI + "#/paths/" + pointer(path_name) + "/" + method
                     + "/requestBody/content/" + pointer(media_type) + "/schema"},
                    registry=registry,
                )
                for error in validator.iter_errors(media["example"]):
                    where = "/".join(str(p) for p in error.absolute_path)
                    problems.append(
                        f"{method.upper()} {path_name} {media_type}: the example is invalid at /{where}: {error.message[:300]}"
                    )
    if problems:
        for problem in problems:
            print(problem)
        print(f"{len(problems)} problem(s) in {path}")
        return 1
    operations = sum(len(item) for item in document["paths"].values())
    print(
        f"valid OpenAPI {document['openapi']}: {len(document['paths'])} paths, "
        f"{operations} operations, {examples} request examples valid under their schemas"
    )
    return 0


def pointer(text):
    """`text` as one JSON Pointer token, escaped for a URI fragment."""
    return quote(text.replace("~", "~0").replace("/", "~1"), safe="~")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
