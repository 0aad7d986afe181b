"""Calls a running mixplane through a client generated from its OpenAPI document.

Usage: python call_client.py CLIENT_PARENT_DIR BASE_URL TOKEN

CLIENT_PARENT_DIR holds the package `mixplane_client` that openapi-python-client generated.
Calls health (public), listOrders with an enum filter, getOrder of the first order, an
unknown order (a problem), and listEvents with a list filter, each through the generated
functions and models, and prints what the client parsed as one JSON object for the test to
compare with the server's raw answers. Exits 1 naming the call that did not parse.
"""

import json
import sys


def main(parent, base_url, token):
    sys.path.insert(0, parent)
    from mixplane_client import AuthenticatedClient, Client
    from mixplane_client.api.events import list_events
    from mixplane_client.api.operations import health
    from mixplane_client.api.orders import get_order, list_orders
    from mixplane_client.models import (
        Health,
        ListEventsTypeItem,
        ListOrdersMode,
        OrderPage,
        OrderState,
        Problem,
    )

    public = Client(base_url=base_url, raise_on_unexpected_status=True)
    client = AuthenticatedClient(base_url=base_url, token=token, raise_on_unexpected_status=True)
    out = {}

    answer = health.sync(client=public)
    expect(isinstance(answer, Health), "health", answer)
    out["health"] = {"status": answer.status, "events": answer.events}

    page = list_orders.sync(client=client, mode=ListOrdersMode.DISCRETE)
    expect(isinstance(page, OrderPage), "listOrders", page)
    out["orders"] = {
        "total": page.total,
        "ids": [item.order.id for item in page.items],
        "modes": sorted({item.mode for item in page.items}),
    }

    first = page.items[0].order.id
    order = get_order.sync(client=client, id=first)
    expect(isinstance(order, OrderState), "getOrder", order)
    out["order"] = {
        "id": order.order.id,
        "status": order.status.value,
        "steps_total": order.steps_total,
    }

    missing = get_order.sync_detailed(client=client, id="NO-SUCH-ORDER")
    expect(isinstance(missing.parsed, Problem), "getOrder (unknown)", missing.parsed)
    out["missing"] = {
        "http": int(missing.status_code),
        "status": missing.parsed.status,
        "type": missing.parsed.type_,
    }

    events = list_events.sync(client=client, type_=[ListEventsTypeItem.OPERATION_COMPLETED])
    expect(isinstance(events, list), "listEvents", events)
    out["events"] = {
        "seqs": [e.seq for e in events],
        "types": sorted({e.event.to_dict()["type"] for e in events}),
    }
    print(json.dumps(out))
    return 0


def expect(ok, call, answer):
    if not ok:
        print(f"{call}: the client did not parse the answer: {answer!r}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
