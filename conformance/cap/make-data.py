#!/usr/bin/env python3
"""Writes the sample data of db/data/ (committed; rerun after changing the model).

Deterministic: GUIDs are uuid5 of the natural key, times step from a fixed start. Several
rows share a ModifiedOn so a reader must break ties by Id to page without loss.
"""
import csv, pathlib, uuid
from datetime import datetime, timedelta, timezone

NS = uuid.UUID("6f1c1d2e-5a4b-4c3d-9e8f-0a1b2c3d4e5f")
START = datetime(2026, 12, 1, 6, 0, tzinfo=timezone.utc)
OUT = pathlib.Path(__file__).parent / "db" / "data"

def gid(kind, nid):
    return str(uuid.uuid5(NS, f"{kind}/{nid}"))

def ts(minutes):
    return (START + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.000Z")

def write(entity, rows):
    path = OUT / f"mixplane.opcenter-{entity}.csv"
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)

orders = []
for i in range(1, 13):
    nid = f"WO-{i:04d}"
    orders.append(dict(Id=gid("WorkOrder", nid), NId=nid, Name=f"Order {i}", Plant="site-1",
                       Material="bracket", Quantity=f"{10 * i}", Priority=str(1 + i % 3),
                       DueDate=ts(60 * 24 + 60 * i), Status="Released",
                       ModifiedOn=ts(10 * (i // 3))))  # three orders per instant
write("WorkOrder", orders)

operations = []
for i, order in enumerate(orders[:6], start=1):
    for seq in (10, 20):
        nid = f"{order['NId']}/{seq}"
        operations.append(dict(Id=gid("WorkOrderOperation", nid), NId=nid, WorkOrder_Id=order["Id"],
                               Sequence=str(seq), Equipment=f"unit-{seq // 10}", Status="Active",
                               PlannedStartTime=ts(30 * i + seq), ActualStartTime=ts(30 * i + seq),
                               ActualEndTime="", ModifiedOn=ts(30 * i + seq)))
write("WorkOrderOperation", operations)

lots = []
for i in range(1, 5):
    nid = f"LOT-{i:03d}"
    lots.append(dict(Id=gid("MaterialTrackingUnit", nid), NId=nid, Material="steel-sheet",
                     Quantity="100", Status="Available", ModifiedOn=ts(5 * i)))
write("MaterialTrackingUnit", lots)

moves = []
for i, lot in enumerate(lots, start=1):
    op = operations[i - 1]
    nid = f"{lot['NId']}>{op['NId']}"
    moves.append(dict(Id=gid("MTUOperationTracking", nid), NId=nid, MaterialTrackingUnit_Id=lot["Id"],
                      WorkOrderOperation_Id=op["Id"], Direction="Consumed", Quantity="10",
                      Time=ts(40 + i), ModifiedOn=ts(40 + i)))
write("MTUOperationTracking", moves)

states = []
for i, state in enumerate(["Running", "Down", "Running", "Idle"], start=1):
    nid = f"unit-1@{i}"
    states.append(dict(Id=gid("EquipmentStateChange", nid), NId=nid, Equipment="unit-1", State=state,
                       Reason="breakdown" if state == "Down" else "", Time=ts(15 * i), ModifiedOn=ts(15 * i)))
write("EquipmentStateChange", states)

results = []
for i, op in enumerate(operations[:4], start=1):
    nid = f"{op['NId']}#diameter"
    results.append(dict(Id=gid("QualityResult", nid), NId=nid, WorkOrderOperation_Id=op["Id"],
                        Characteristic="diameter", Value=f"{10 + i / 100:.2f}", Time=ts(50 + i),
                        ModifiedOn=ts(50 + i)))
write("QualityResult", results)
