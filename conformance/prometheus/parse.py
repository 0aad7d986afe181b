"""Reads a Prometheus text exposition from stdin with the official client's parser
(prometheus-client) and prints its families as JSON: {name: {type, samples: [{name, labels,
value}]}}. A document the parser refuses exits non-zero with its error.

Used by crates/mixplane/tests/metrics.rs to check `GET /metrics` with a parser we did not
write.
"""

import json
import sys

from prometheus_client.parser import text_string_to_metric_families


def main() -> None:
    families = {}
    for family in text_string_to_metric_families(sys.stdin.read()):
        families[family.name] = {
            "type": family.type,
            "samples": [
                {"name": s.name, "labels": dict(s.labels), "value": s.value}
                for s in family.samples
            ],
        }
    json.dump(families, sys.stdout)


if __name__ == "__main__":
    main()
