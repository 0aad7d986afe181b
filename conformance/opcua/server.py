"""An OPC UA server of equipment states, the peer of mixplane's `opcua` source in its tests.

    python server.py --port 4841 --state-dir DIR [--user NAME:PASSWORD] [--history-page N]

It serves, on loopback only and without security (the tests' peer, never a plant's), one
variable per unit under namespace `urn:mixplane:conformance:opcua`:

    ns=2;s=R-101.State, R-102.State, R-103.State   String  (a PLC's words: "RUN", "IDLE", "FAULT", ...)
    ns=2;s=TB-1.StateCode                           Int32   (a PLC's numeric state code)

and keeps each variable's history (HistoryRead, raw values by source time), as a historian
beside a PLC would. With `--user`, only that user name and password may sign in (no
anonymous sessions). With `--history-page`, a history read answers at most N values
per node and a continuation point (as servers that page below what a client asks for do).
Every change is appended to `DIR/journal.jsonl` before it is applied, so
a server killed and started again on the same directory serves the same history and the same
current values (with their original source timestamps): the peer "down and back".

It is driven through stdin, one JSON command per line, and answers each on stdout with one
JSON line (the first line it prints is `{"ready": ..., "initial": [...]}` once it listens):

    {"set": "R-101.State", "value": "down"}                    a change, status Good
    {"set": "R-101.State", "value": "down", "status": "BadSensorFailure"}
    {"set": "TB-1.StateCode", "value": 3}

Each answer names the node, the value, the status and the source timestamp it was given
(`{"node": "ns=2;s=R-101.State", "value": "down", "status": "Good", "source_time": "..."}`);
source timestamps strictly increase, also across restarts, so each change has its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from asyncua import Server, ua
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.server.history import HistoryDict
from asyncua.server.user_managers import UserManager

NAMESPACE = "urn:mixplane:conformance:opcua"

# The served variables: name → (OPC UA type, the value it holds before any change).
VARIABLES = {
    "R-101.State": (ua.VariantType.String, "IDLE"),
    "R-102.State": (ua.VariantType.String, "IDLE"),
    "R-103.State": (ua.VariantType.String, "IDLE"),
    "TB-1.StateCode": (ua.VariantType.Int32, 1),
}


class JournalHistory(HistoryDict):
    """Raw value history kept in memory and in a journal file, written by `record` only.

    asyncua's own historizing subscribes to the node with a queue of one, so changes made
    faster than its publishing interval would be missing from history; the peer records
    every change itself instead, in the order it makes them.
    """

    def __init__(self, journal: Path, page: int) -> None:
        super().__init__(max_history_data_response_size=page)
        self.journal = journal

    def load(self, namespace: int) -> list[tuple[ua.NodeId, ua.DataValue]]:
        """The journal's changes, in order, now also in memory."""
        changes = []
        if self.journal.exists():
            for line in self.journal.read_text().splitlines():
                entry = json.loads(line)
                node = ua.NodeId(entry["node"], namespace)
                value = data_value(
                    VARIABLES[entry["node"]][0],
                    entry["value"],
                    entry["status"],
                    datetime.fromisoformat(entry["source_time"]),
                )
                self._datachanges.setdefault(node, []).append(value)
                changes.append((node, value))
        return changes

    def record(self, name: str, node: ua.NodeId, value: ua.DataValue) -> None:
        entry = {
            "node": name,
            "value": value.Value.Value,
            "status": value.StatusCode.name,
            "source_time": value.SourceTimestamp.isoformat(),
        }
        with self.journal.open("a") as journal:
            journal.write(json.dumps(entry) + "\n")
        self._datachanges.setdefault(node, []).append(value)

    async def new_historized_node(self, node_id, period, count=0) -> None:
        self._datachanges.setdefault(node_id, [])

    async def save_node_value(self, node_id, datavalue) -> None:
        # Only `record` writes history (see the class's doc).
        pass


class OneUser(UserManager):
    """Admits one user name and password, and nobody else."""

    def __init__(self, name: str, password: str) -> None:
        self.name = name
        self.password = password

    def get_user(self, iserver, username=None, password=None, certificate=None):
        if username == self.name and password == self.password:
            return User(role=UserRole.User, name=username)
        return None


def data_value(kind: ua.VariantType, value, status: str, at: datetime) -> ua.DataValue:
    return ua.DataValue(
        ua.Variant(value, kind),
        StatusCode=ua.StatusCode(getattr(ua.StatusCodes, status)),
        SourceTimestamp=at,
        ServerTimestamp=at,
    )


def describe(node: ua.NodeId, value: ua.DataValue) -> dict:
    return {
        "node": node.to_string(),
        "value": value.Value.Value,
        "status": value.StatusCode.name,
        "source_time": value.SourceTimestamp.isoformat(),
    }


class Peer:
    def __init__(self, server: Server, history: JournalHistory, namespace: int) -> None:
        self.server = server
        self.history = history
        self.namespace = namespace
        self.variables: dict[str, object] = {}
        self.last_time = datetime.fromtimestamp(0, timezone.utc)

    def next_time(self) -> datetime:
        """Now, or a microsecond after the last change (OPC UA keeps 100 ns, Python 1 µs)."""
        now = datetime.now(timezone.utc)
        self.last_time = max(now, self.last_time + timedelta(microseconds=1))
        return self.last_time

    async def change(self, name: str, value, status: str = "Good") -> dict:
        if name not in VARIABLES:
            raise ValueError(f"no variable `{name}` (served: {', '.join(VARIABLES)})")
        if not hasattr(ua.StatusCodes, status):
            raise ValueError(f"no status code `{status}`")
        kind = VARIABLES[name][0]
        node = ua.NodeId(name, self.namespace)
        value = data_value(kind, value, status, self.next_time())
        # The journal first: a change answered is a change a restart still serves.
        self.history.record(name, node, value)
        await self.server.write_attribute_value(node, value)
        return describe(node, value)


async def serve(port: int, state_dir: Path, user: str | None, page: int) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    if user is None:
        server = Server()
    else:
        name, _, password = user.partition(":")
        server = Server(user_manager=OneUser(name, password))
    await server.init()
    if user is not None:
        server.set_identity_tokens([ua.UserNameIdentityToken])
    server.set_endpoint(f"opc.tcp://127.0.0.1:{port}/mixplane/")
    server.set_server_name("mixplane conformance peer")
    # Loopback tests only: no security, anonymous sign-in.
    server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
    namespace = await server.register_namespace(NAMESPACE)
    history = JournalHistory(state_dir / "journal.jsonl", page)
    server.iserver.history_manager.set_storage(history)
    journaled = history.load(namespace)
    peer = Peer(server, history, namespace)

    units = await server.nodes.objects.add_object(ua.NodeId("Units", namespace), "Units")
    current: dict[ua.NodeId, ua.DataValue] = dict(journaled)
    initial = []
    for name, (kind, first) in VARIABLES.items():
        node_id = ua.NodeId(name, namespace)
        variable = await units.add_variable(node_id, name, ua.Variant(first, kind))
        # Readable now and in history; written by this script only (a reader cannot).
        await variable.set_attr_bit(ua.AttributeIds.AccessLevel, ua.AccessLevel.HistoryRead)
        await variable.set_attr_bit(ua.AttributeIds.UserAccessLevel, ua.AccessLevel.HistoryRead)
        await variable.write_attribute(
            ua.AttributeIds.Historizing, ua.DataValue(ua.Variant(True, ua.VariantType.Boolean))
        )
        peer.variables[name] = variable
        if node_id in current:
            # Started again: the value it held, with its own source timestamp.
            await server.write_attribute_value(node_id, current[node_id])
            peer.last_time = max(peer.last_time, current[node_id].SourceTimestamp)
        else:
            initial.append(await peer.change(name, first))

    async with server:
        print(json.dumps({"ready": port, "initial": initial}), flush=True)
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break  # the driver closed stdin: stop serving
            try:
                command = json.loads(line)
                answer = await peer.change(
                    command["set"], command["value"], command.get("status", "Good")
                )
            except (ValueError, KeyError, TypeError) as error:
                answer = {"error": str(error)}
            print(json.dumps(answer), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--user", help="NAME:PASSWORD, the only sign-in admitted")
    parser.add_argument("--history-page", type=int, default=10000, help="values per history read")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    asyncio.run(serve(args.port, args.state_dir, args.user, args.history_page))


if __name__ == "__main__":
    main()
