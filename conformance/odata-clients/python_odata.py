"""Reads mixplane's OData surface with python-odata (PyPI), a client nobody here wrote.

    python python_odata.py BASE_URL TOKEN

The client reflects the entity model from `$metadata`, then reads every entity set whole
(following `@odata.nextLink` at a preferred page size of 100), filters, orders, expands and
counts through its own query API (and, for `in` and `any`, which that API cannot write, a
filter text it passes on as is). It prints a JSON summary of what it parsed; the Rust test
(crates/mixplane/tests/odata_clients.rs) compares it with the server's raw answers.
"""

import datetime
import json
import sys

import requests
from odata import ODataService

PAGE = 100


def key_of(name):
    return "seq" if name == "AuditRecords" else "id"


def main():
    base, token = sys.argv[1], sys.argv[2]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    session.headers["Prefer"] = f"odata.maxpagesize={PAGE}"
    pages = {"n": 0}

    def count_pages(response, *args, **kwargs):
        if "/odata/" in response.url and "$metadata" not in response.url:
            pages["n"] += 1

    session.hooks["response"].append(count_pages)
    service = ODataService(
        base.rstrip("/") + "/odata/",
        session=session,
        reflect_entities=True,
        quiet_progress=True,
    )
    summary = {"sets": {}}
    for name, entity in sorted(service.entities.items()):
        before = pages["n"]
        rows = service.query(entity).all()
        summary["sets"][name] = {
            "rows": len(rows),
            "pages": pages["n"] - before,
            "count": service.query(entity).count(),
            "keys": sorted(str(getattr(r, key_of(name))) for r in rows),
        }

    results = service.entities["QualityResults"]
    first = service.query(results).order_by(results.time.asc()).first()
    since = first.time + datetime.timedelta(hours=6)
    query = (
        service.query(results)
        .filter(results.characteristic == first.characteristic)
        .filter(results.time >= since)
        .order_by(results.time.desc())
    )
    filtered = query.all()
    summary["filtered"] = {
        "characteristic": first.characteristic,
        "since": since.isoformat(),
        "ids": [r.id for r in filtered],
        "count": query.count(),
    }

    orders = service.entities["Orders"]
    prefix = service.query(orders).first().id[:3]
    texts = (
        service.query(orders)
        .filter(orders.id.startswith(prefix))
        .filter(orders.status.lacks("complete"))
        .order_by(orders.id.asc())
    )
    summary["texts"] = {"prefix": prefix, "ids": [o.id for o in texts.all()]}

    raw = "status in ('released','in_progress') and operations/any(o: o/step eq 0)"
    summary["in_any"] = {
        "filter": raw,
        "ids": sorted(o.id for o in service.query(orders).filter(raw).all()),
    }

    expanded = (
        service.query(orders)
        .expand(orders.operations)
        .order_by(orders.id.asc())
        .limit(20)
    )
    summary["expanded"] = {
        o.id: sorted(op.id for op in o.operations) for o in expanded.all()
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
