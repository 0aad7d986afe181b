"""Drives mixplane's MCP server with the official Python MCP SDK (`mcp` on PyPI), over stdio or
Streamable HTTP, the way an AI agent's client would.

    python client.py stdio --binary PATH --data-dir DIR --token T --area-token A --viewer-token V
                     --expect-tools a,b,... --characteristic C --lot L --nc N --hold H
    python client.py http --url http://127.0.0.1:PORT/mcp --token T --area-token A
                     --viewer-token V --expect-tools a,b,... --characteristic C --lot L --nc N
                     --hold H

`--token` is a site-wide agent (role agent, scope *), `--area-token` an agent scoped to one
area, `--viewer-token` an agent whose role is viewer (may read, may not propose). The script

1. lists the tools and checks the list is the one expected, each with a description and an
   object schema;
2. calls every tool with arguments found from earlier answers, and checks each answers
   without error (and the shape that matters: a list's items, a proposal's governance);
3. checks refusals: a what-if outside the area agent's scope, an order outside it, a
   proposal by a role that may not propose, a misspelt argument, an unknown id;
4. checks that a schedule change above the policy's threshold waits for a person, that a hold
   proposed by the agent is not placed by itself (agents may not place holds), and that a
   hold release and a nonconformance transition wait for the policy's approvers.

It prints one JSON line with what it saw and exits non-zero on the first failed check.
"""

import argparse
import asyncio
import json
import sys
from contextlib import asynccontextmanager

from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


class CheckFailed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


@asynccontextmanager
async def session(args, token):
    """An initialised client session as the principal of `token`."""
    if args.transport == "stdio":
        server_args = ["mcp", "--token", token, "--data-dir", args.data_dir, "--log-level", "warn"]
        if args.database:
            server_args += ["--database", args.database]
        params = StdioServerParameters(command=args.binary, args=server_args)
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as client:
                await client.initialize()
                yield client
    else:
        http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
        async with http:
            async with streamable_http_client(args.url, http_client=http) as (read, write):
                async with ClientSession(read, write) as client:
                    await client.initialize()
                    yield client


def text_of(result):
    return " ".join(getattr(block, "text", "") for block in result.content)


async def call(client, name, arguments):
    """A tool call that must succeed: its structured answer."""
    result = await client.call_tool(name, arguments)
    check(not result.is_error, f"{name}({json.dumps(arguments)[:200]}) failed: {text_of(result)}")
    check(isinstance(result.structured_content, dict), f"{name}: no structured answer")
    return result.structured_content


async def refused(client, name, arguments, *words):
    """A tool call that must fail, with an error naming every one of `words`."""
    result = await client.call_tool(name, arguments)
    message = text_of(result)
    check(result.is_error, f"{name}({json.dumps(arguments)}) should fail, answered {message[:300]}")
    for word in words:
        check(word in message, f"{name}: the error should say `{word}`: {message}")
    return message


async def tools_and_reads(client, args, seen):
    listed = await client.list_tools()
    names = sorted(tool.name for tool in listed.tools)
    check(names == sorted(args.expect_tools.split(",")), f"tools listed: {names}")
    for tool in listed.tools:
        check(len(tool.description or "") > 60, f"{tool.name}: no useful description")
        check(tool.input_schema.get("type") == "object", f"{tool.name}: schema is not an object")
    seen["tools"] = len(names)

    orders = await call(client, "list_orders", {"limit": 500})
    check(orders["items"], "list_orders answered no order")
    order = orders["items"][0]["order"]["id"]
    seen["orders"] = orders["total"]
    got = await call(client, "get_order", {"order_id": order})
    check(got["order"]["id"] == order, "get_order answered another order")
    centers = await call(client, "list_work_centers", {})
    check(centers["items"] and centers["items"][0]["units"], "no work centers or units")
    plan = await call(client, "get_schedule", {})
    check("kpis" in plan and plan["assignments"], "the schedule has no KPIs or assignments")
    late = await call(client, "explain_lateness", {})
    check("late_orders" in late and "units" in late, "no lateness explanation")
    one = await call(client, "explain_lateness", {"order_id": order})
    check(one["order"]["id"] == order, "explain_lateness did not answer the order asked")
    chart = await call(client, "get_control_chart", {"characteristic": args.characteristic})
    check(chart, "empty chart")
    for name in ("list_alerts", "list_holds", "list_nonconformances"):
        answer = await call(client, name, {"limit": 5})
        check("items" in answer and "total" in answer, f"{name}: not a list answer")
    gate = await call(client, "release_gate", {"lot": args.lot})
    check(gate, "empty release gate answer")
    back = await call(client, "trace_backward", {"id": args.lot})
    forward = await call(client, "trace_forward", {"id": args.lot, "max_depth": 3})
    check(back and forward, "empty trace")
    recall = await call(client, "simulate_recall", {"id": args.lot})
    check(recall, "empty recall")
    causes = await call(
        client, "rank_root_causes", {"characteristics": [args.characteristic], "top": 3}
    )
    check(causes["results"] > 0 and "causes" in causes, f"no root-cause ranking: {causes}")
    for cause in causes["causes"]:
        check(cause["suggested_action"], f"a cause without a suggested action: {cause}")
    kpis = await call(client, "get_rollout_kpis", {})
    check("recommendations" in kpis and kpis["total"]["made"] >= 0, f"no KPIs: {kpis}")
    return orders


async def proposals(client, args, seen):
    what_if = await call(client, "run_what_if", {"iterations": 200, "seed": 7})
    check(what_if["scenarios"], f"no what-if answered: {json.dumps(what_if)[:400]}")
    # The scenario moving the most operations: above the policy's threshold of 5.
    scenario = what_if["scenarios"][0]
    commit = await call(
        client,
        "commit_scenario",
        {
            "scenario": scenario["scenario"],
            "changes": scenario.get("changes", {}),
            "schedule": scenario["schedule"],
            "seed": 7,
            # The scenario moves work in every area; the proposal is filed under one.
            "area": "A-CHEM",
        },
    )
    governance = commit["governance"]
    seen["schedule_change"] = {k: governance[k] for k in ("proposal", "status", "waits_for")}
    moved = len(commit["proposal"]["diff"])
    if moved > 5:
        check(governance["status"] == "proposed", f"a change of {moved} operations: {governance}")
        check(not governance["applied_by_itself"], "a change above threshold applied by itself")
        check("approval" in governance["waits_for"], f"waits for whom? {governance}")
    followed = await call(client, "get_proposal", {"proposal_id": governance["proposal"]})
    check(followed["governance"]["status"] == governance["status"], "get_proposal disagrees")

    hold = await call(
        client,
        "propose_hold",
        {"item_kind": "lot", "item_id": args.lot, "reason": "viscosity drift seen by the agent",
         "severity": "major"},
    )
    seen["hold"] = {k: hold["governance"][k] for k in ("proposal", "status", "waits_for")}
    check(not hold["governance"]["applied_by_itself"], "an agent's hold was placed by itself")
    check(hold["governance"]["waits_for"], "the hold should wait for a person")
    proposer = hold["proposal"]["proposed_by"]
    check(proposer != "agent-site", "the agent read a principal's name, not its pseudonym")
    if args.transport == "http":
        # The REST API shows the agent the same pseudonym: pseudonymised once, as the policy says.
        base = args.url.rsplit("/mcp", 1)[0]
        async with create_mcp_http_client(headers={"Authorization": f"Bearer {args.token}"}) as http:
            rest = await http.get(f"{base}/v1/proposals/{hold['governance']['proposal']}")
        check(rest.status_code == 200, f"GET the proposal: {rest.status_code} {rest.text}")
        check(rest.json()["proposed_by"] == proposer, f"REST {rest.json()['proposed_by']} vs MCP {proposer}")

    release = await call(
        client,
        "propose_hold_release",
        {"hold_id": args.hold, "reason": "retest in spec"},
    )
    seen["release"] = {k: release["governance"][k] for k in ("proposal", "status", "waits_for")}
    check(release["governance"]["status"] == "proposed", f"a release by an agent: {seen['release']}")
    check("approval" in release["governance"]["waits_for"], f"waits for whom? {seen['release']}")

    moved = await call(
        client,
        "propose_nc_transition",
        {"nc_id": args.nc, "transition": {"action": "start_investigation"}},
    )
    seen["nc"] = {k: moved["governance"][k] for k in ("proposal", "status", "waits_for")}
    check(moved["governance"]["status"] == "proposed", f"an NC move by an agent: {seen['nc']}")
    check("approval" in moved["governance"]["waits_for"], f"waits for whom? {seen['nc']}")


async def refusals(args, all_orders, seen):
    async with session(args, args.area_token) as client:
        await refused(client, "run_what_if", {}, "out of scope", "site-wide")
        mine = await call(client, "list_orders", {"limit": 500})
        readable = {o["order"]["id"] for o in mine["items"]}
        others = [o["order"]["id"] for o in all_orders["items"] if o["order"]["id"] not in readable]
        check(others, "the area agent reads every order; no out-of-scope order to ask for")
        await refused(client, "get_order", {"order_id": others[0]}, "does not exist", "list_orders")
        seen["area_orders"] = len(readable)
    async with session(args, args.viewer_token) as client:
        await refused(
            client,
            "propose_hold",
            {"item_kind": "lot", "item_id": args.lot, "reason": "r", "severity": "minor"},
            "propose_changes",
            "viewer",
        )
    async with session(args, args.token) as client:
        await refused(client, "get_order", {"order": "x"}, "unknown field", "order_id")
        await refused(client, "get_order", {"order_id": "NO-SUCH-ORDER"}, "list_orders")
        await refused(client, "list_holds", {"item_kind": "pallet"}, "item_kind")


async def http_door(args, seen):
    """The HTTP route itself: a bearer token is required, and the tools' answers (already
    pseudonymised by the MCP server) are not pseudonymised a second time by the API layer."""
    request = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
               "params": {"name": "list_work_centers", "arguments": {}}}
    accept = {"Accept": "application/json, text/event-stream"}
    async with create_mcp_http_client(headers=accept) as http:
        anonymous = await http.post(args.url, json=request)
    check(anonymous.status_code == 401, f"no token: {anonymous.status_code}")
    check(anonymous.headers["content-type"] == "application/problem+json", "401 not a problem")
    headers = {**accept, "Authorization": f"Bearer {args.token}"}
    async with create_mcp_http_client(headers=headers) as http:
        answer = await http.post(args.url, json=request)
    check(answer.status_code == 200, f"tools/call over HTTP: {answer.status_code} {answer.text}")
    check("x-mixplane-pseudonymised" not in answer.headers, "pseudonymised twice")
    check(answer.json()["result"]["structuredContent"]["items"], "no work centers over HTTP")
    seen["http_door"] = "ok"


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("transport", choices=["stdio", "http"])
    parser.add_argument("--binary")
    parser.add_argument("--data-dir")
    parser.add_argument("--database", help="the store's database URL, when not the data directory's file")
    parser.add_argument("--url")
    parser.add_argument("--token", required=True)
    parser.add_argument("--area-token", required=True)
    parser.add_argument("--viewer-token", required=True)
    parser.add_argument("--expect-tools", required=True)
    parser.add_argument("--characteristic", required=True)
    parser.add_argument("--lot", required=True)
    parser.add_argument("--nc", required=True)
    parser.add_argument("--hold", required=True)
    args = parser.parse_args()
    seen = {"transport": args.transport}
    try:
        async with session(args, args.token) as client:
            orders = await tools_and_reads(client, args, seen)
            await proposals(client, args, seen)
        await refusals(args, orders, seen)
        if args.transport == "http":
            await http_door(args, seen)
    except* CheckFailed as failed:
        # Raised inside the SDK's task groups, it arrives wrapped in an exception group.
        first = failed.exceptions[0]
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        print(json.dumps({"failed": str(first), "seen": seen}))
        sys.exit(1)
    print(json.dumps({"ok": True, "seen": seen}))


if __name__ == "__main__":
    asyncio.run(main())
