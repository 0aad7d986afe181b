//! The RBAC matrix with data in several areas: what area-scoped callers read and change.
//!
//! The served plant has run three simulated days (orders, lots and serials of A-CHEM, A-PACK,
//! A-ASSY and A-SVC, alerts on discrete characteristics), and an admin has put holds and
//! nonconformances on items of several areas. Then, table by table:
//!
//! - every list answer an `area:X` caller gets is exactly the site-wide answer filtered by
//!   the area rule — an item is read when it is site-wide or one of its areas is X —
//!   and for at least one caller it is strictly smaller (the filter is not vacuous);
//! - every read of one object of A-PACK answers 200 to A-PACK and site callers and 404 to an
//!   A-CHEM caller;
//! - holds, releases and nonconformance transitions on another area's item answer 403 and
//!   change nothing; inside the caller's area they succeed; on an item that does not exist
//!   they answer 422 naming it;
//! - traces, recalls and reconciliations crossing areas show the rest as redacted nodes with
//!   a count and never name what they hide.
//!
//! The areas of every item are computed here from the plant document and the folded state,
//! independently of `app::scope`.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Setup, TestApp};
use govern::Role;
use model::{Plant, PlantState};
use serde_json::{Value, json};

type Areas = BTreeSet<String>;

/// The areas of the plant's objects, derived from the plant document and the state.
struct Oracle {
    unit_area: BTreeMap<String, String>,
    routing_areas: BTreeMap<String, Areas>,
    characteristic_areas: BTreeMap<String, Areas>,
    state: PlantState,
}

impl Oracle {
    fn new(plant: &Plant, state: PlantState) -> Oracle {
        let wc_area: BTreeMap<String, String> = plant
            .work_centers
            .iter()
            .map(|w| (w.id.to_string(), w.area.to_string()))
            .collect();
        let unit_area: BTreeMap<String, String> = plant
            .units
            .iter()
            .map(|u| (u.id.to_string(), wc_area[u.work_center.as_str()].clone()))
            .collect();
        let routing_areas: BTreeMap<String, Areas> = plant
            .routings
            .iter()
            .map(|r| {
                let areas = r
                    .steps
                    .iter()
                    .flat_map(|s| &s.alternatives)
                    .map(|a| unit_area[a.unit.as_str()].clone())
                    .collect();
                (r.id.to_string(), areas)
            })
            .collect();
        let characteristic_areas = plant
            .inspection_plans
            .iter()
            .flat_map(|plan| {
                let areas: Areas = plant
                    .routings
                    .iter()
                    .filter(|r| r.product == plan.material)
                    .flat_map(|r| routing_areas[r.id.as_str()].clone())
                    .collect();
                plan.characteristics
                    .iter()
                    .map(move |c| (c.id.to_string(), areas.clone()))
            })
            .collect();
        Oracle {
            unit_area,
            routing_areas,
            characteristic_areas,
            state,
        }
    }

    fn order(&self, id: &str) -> Option<Areas> {
        let order = self.state.orders.get(&id.into())?;
        Some(self.routing_areas[order.order.routing.as_str()].clone())
    }

    /// `None`: unknown to the state (only site-wide callers read it).
    fn item(&self, kind: &str, id: &str) -> Option<Areas> {
        let producer = match kind {
            "order" => return self.order(id),
            "lot" => self.state.lots.get(&id.into())?.produced_by.clone(),
            "serial" => self.state.serials.get(&id.into())?.produced_by.clone(),
            _ => return None,
        };
        Some(producer.map_or_else(Areas::new, |o| self.order(o.as_str()).unwrap()))
    }

    fn event(&self, event: &Value) -> Option<Areas> {
        if let Some(unit) = event["unit"].as_str() {
            return Some(self.unit_area.get(unit).into_iter().cloned().collect());
        }
        if let Some(order) = event["order"].as_str() {
            return Some(self.order(order).unwrap_or_default());
        }
        if let Some(routing) = event["order"]["routing"].as_str() {
            // A release carries the whole order.
            return Some(self.routing_areas[routing].clone());
        }
        let mut areas = Areas::new();
        if let Some(lot) = event["lot"].as_str() {
            areas.extend(self.item("lot", lot).unwrap_or_default());
        }
        for serial in event["serials"].as_array().into_iter().flatten() {
            areas.extend(
                self.item("serial", serial.as_str().unwrap())
                    .unwrap_or_default(),
            );
        }
        if let Some(serial) = event["serial"].as_str() {
            areas.extend(self.item("serial", serial).unwrap_or_default());
        }
        Some(areas)
    }
}

/// Whether a caller of `scope` (an area id, or none for a site-wide scope) reads an object
/// in `areas` (none: unknown).
fn reads(scope: Option<&str>, areas: Option<Areas>) -> bool {
    match (scope, areas) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(own), Some(areas)) => areas.is_empty() || areas.contains(own),
    }
}

struct Fixture {
    app: TestApp,
    oracle: Oracle,
    tokens: BTreeMap<String, String>,
    /// A lot made in A-CHEM (by an EA100 recipe) that an A-PACK order consumed.
    chem_lot: String,
    /// A lot made in A-PACK (by a cartridge line) from `chem_lot`.
    pack_lot: String,
    /// An order of A-PACK.
    pack_order: String,
    /// An order whose routing runs in A-ASSY and A-SVC.
    assy_order: String,
    pack_nc: String,
}

const AREAS: [&str; 3] = ["A-CHEM", "A-PACK", "A-ASSY"];

impl Fixture {
    async fn start() -> Fixture {
        let app = TestApp::with(Setup {
            simulated_days: Some(3.0),
            ..Setup::default()
        })
        .await;
        let mut tokens = BTreeMap::new();
        for role in [
            Role::Viewer,
            Role::Operator,
            Role::QualityEngineer,
            Role::Supervisor,
        ] {
            for (label, scope) in AREAS
                .iter()
                .map(|a| (*a, format!("area:{a}")))
                .chain([("site", "site:RHF".to_owned())])
            {
                let name = format!("{role}-{label}");
                tokens.insert(name.clone(), app.token_for(&name, role, &scope).await);
            }
        }
        let state = (*app.store.state().await).clone();
        let oracle = Oracle::new(&sim::reference_plant(), state);
        let routing_of =
            |order: &model::OrderId| oracle.state.orders[order].order.routing.to_string();
        let (pack_lot, chem_lot) = oracle
            .state
            .lots
            .iter()
            .filter_map(|(id, lot)| {
                let order = lot.produced_by.as_ref()?;
                if !routing_of(order).starts_with("RUN-CRT-EA100") {
                    return None;
                }
                let source = oracle.state.lots.iter().find(|(_, l)| {
                    l.consumed_by.contains(order)
                        && l.produced_by
                            .as_ref()
                            .is_some_and(|p| routing_of(p) == "RCP-EA100")
                })?;
                Some((id.to_string(), source.0.to_string()))
            })
            .next()
            .expect("a cartridge lot filled from an A-CHEM batch");
        let pack_order = oracle.state.lots[&pack_lot.as_str().into()]
            .produced_by
            .clone()
            .unwrap()
            .to_string();
        let assy_order = oracle
            .state
            .orders
            .values()
            .find(|o| o.order.routing.as_str() == "RTG-M50")
            .unwrap()
            .order
            .id
            .to_string();
        let mut fx = Fixture {
            app,
            oracle,
            tokens,
            chem_lot,
            pack_lot,
            pack_order,
            assy_order,
            pack_nc: String::new(),
        };
        // The admin's holds and NCs on items of several areas.
        for (kind, id) in [
            ("lot", fx.chem_lot.clone()),
            ("lot", fx.pack_lot.clone()),
            ("order", fx.assy_order.clone()),
        ] {
            let body = json!({"item_kind": kind, "item_id": id, "reason": "setup"});
            let (status, answer) = fx.as_admin("POST", "/v1/quality/holds", Some(body)).await;
            assert!(status == 201 || status == 409, "{answer}");
        }
        for lot in [fx.chem_lot.clone(), fx.pack_lot.clone()] {
            let body = json!({"description": "setup", "items": [format!("lot:{lot}")]});
            let (status, nc) = fx
                .as_admin("POST", "/v1/quality/nonconformances", Some(body))
                .await;
            assert_eq!(status, 201, "{nc}");
            if lot == fx.pack_lot {
                fx.pack_nc = nc["id"].as_str().unwrap().to_owned();
            }
        }
        fx
    }

    async fn as_admin(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.app.call(method, path, &self.app.token, body).await
    }

    async fn call(&self, who: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.app.call(method, path, &self.tokens[who], body).await
    }
}

/// A list endpoint, where its items are in the answer, and the areas of one item.
struct List {
    path: &'static str,
    items: fn(&Value) -> &Value,
    areas: fn(&Oracle, &Value) -> Option<Areas>,
    /// The answer carries a `total` over all pages.
    paged: bool,
}

fn field_items(answer: &Value) -> &Value {
    &answer["items"]
}

fn whole(answer: &Value) -> &Value {
    answer
}

const LISTS: &[List] = &[
    List {
        path: "/v1/orders?limit=1000",
        items: field_items,
        areas: |o, item| o.order(item["order"]["id"].as_str().unwrap()),
        paged: true,
    },
    List {
        path: "/v1/work-centers",
        items: whole,
        areas: |_, item| Some([item["area"].as_str().unwrap().to_owned()].into()),
        paged: false,
    },
    List {
        path: "/v1/events?limit=10000",
        items: field_items,
        areas: |o, item| o.event(&item["event"]),
        paged: false,
    },
    List {
        path: "/v1/quality/alerts?limit=1000",
        items: field_items,
        areas: |o, item| {
            o.characteristic_areas
                .get(item["characteristic"].as_str().unwrap())
                .cloned()
        },
        paged: true,
    },
    List {
        path: "/v1/quality/holds?limit=1000",
        items: field_items,
        areas: |o, item| {
            o.item(
                item["item_kind"].as_str().unwrap(),
                item["item_id"].as_str().unwrap(),
            )
        },
        paged: true,
    },
    List {
        path: "/v1/quality/nonconformances?limit=1000",
        items: field_items,
        areas: |o, item| {
            let mut any = None;
            for key in item["items"].as_array().unwrap() {
                let (kind, id) = key.as_str().unwrap().split_once(':').unwrap();
                if let Some(areas) = o.item(kind, id) {
                    any.get_or_insert_with(Areas::new).extend(areas);
                }
            }
            any
        },
        paged: true,
    },
];

#[tokio::test]
async fn area_scoped_callers_list_exactly_what_touches_their_area() {
    let fx = Fixture::start().await;
    for list in LISTS {
        let (status, site) = fx.call("viewer-site", "GET", list.path, None).await;
        assert_eq!(status, 200, "{}: {site}", list.path);
        let everything: Vec<Value> = (list.items)(&site).as_array().unwrap().clone();
        let mut narrower = false;
        for area in AREAS {
            let (status, answer) = fx
                .call(&format!("viewer-{area}"), "GET", list.path, None)
                .await;
            assert_eq!(status, 200, "{} as {area}: {answer}", list.path);
            let got = (list.items)(&answer).as_array().unwrap();
            let expected: Vec<&Value> = everything
                .iter()
                .filter(|item| reads(Some(area), (list.areas)(&fx.oracle, item)))
                .collect();
            let got: Vec<&Value> = got.iter().collect();
            if got != expected {
                let extra: Vec<&&Value> = got
                    .iter()
                    .filter(|i| !expected.contains(i))
                    .take(3)
                    .collect();
                let missing: Vec<&&Value> = expected
                    .iter()
                    .filter(|i| !got.contains(i))
                    .take(3)
                    .collect();
                panic!(
                    "{} as area:{area}: {} items, {} expected; shown but not expected: {extra:?}; expected but not shown: {missing:?}",
                    list.path,
                    got.len(),
                    expected.len()
                );
            }
            if list.paged {
                assert_eq!(answer["total"], json!(expected.len()), "{}", list.path);
            }
            narrower |= got.len() < everything.len();
        }
        assert!(narrower, "{}: no area sees less than the site", list.path);
    }
    // Items of each area are there to be seen: the filter does not just answer nothing.
    for (area, path) in [
        ("A-CHEM", "/v1/quality/holds"),
        ("A-PACK", "/v1/quality/holds"),
        ("A-PACK", "/v1/quality/nonconformances"),
        ("A-ASSY", "/v1/quality/alerts"),
        ("A-CHEM", "/v1/orders"),
    ] {
        let (_, answer) = fx.call(&format!("viewer-{area}"), "GET", path, None).await;
        assert!(answer["total"].as_u64().unwrap() > 0, "{path} as {area}");
    }
}

#[tokio::test]
async fn one_object_of_another_area_is_not_found() {
    let fx = Fixture::start().await;
    let reads = [
        format!("/v1/orders/{}", fx.pack_order),
        format!("/v1/quality/nonconformances/{}", fx.pack_nc),
        format!("/v1/quality/release-gate?lot={}", fx.pack_lot),
        "/v1/quality/characteristics/CRT-EA100-50-FILLWT/chart".to_owned(),
        format!("/v1/trace/backward/{}", fx.pack_lot),
        format!("/v1/trace/forward/{}", fx.pack_lot),
        format!("/v1/trace/recall/{}", fx.pack_lot),
    ];
    for path in &reads {
        for (who, expected) in [
            ("viewer-A-PACK", 200),
            ("viewer-site", 200),
            ("viewer-A-CHEM", 404),
            ("viewer-A-ASSY", 404),
        ] {
            let (status, answer) = fx.call(who, "GET", path, None).await;
            assert_eq!(status, expected, "{path} as {who}: {answer}");
        }
    }
    // The gate of the cartridge lot checks the A-CHEM batch upstream: blocked by its hold
    // and NC for A-PACK too, but the batch is counted, not named.
    let gate = format!("/v1/quality/release-gate?lot={}", fx.pack_lot);
    let (_, site) = fx.call("viewer-site", "GET", &gate, None).await;
    let (_, pack) = fx.call("viewer-A-PACK", "GET", &gate, None).await;
    assert!(site["checked"].to_string().contains(&fx.chem_lot), "{site}");
    assert!(!pack.to_string().contains(&fx.chem_lot), "{pack}");
    assert_eq!(site["redacted"], 0);
    assert!(pack["redacted"].as_u64().unwrap() >= 1, "{pack}");
    assert_eq!(pack["decision"], site["decision"]);
    assert_eq!(pack["allowed"], false);
    // Area-less records: the audit trail and raw EPCIS events need a site-wide scope.
    for (who, expected) in [("supervisor-A-PACK", 403), ("supervisor-site", 200)] {
        assert_eq!(fx.call(who, "GET", "/v1/audit", None).await.0, expected);
        assert_eq!(fx.call(who, "GET", "/epcis/events", None).await.0, expected);
    }
}

#[tokio::test]
async fn holds_releases_and_nonconformances_act_only_inside_the_callers_area() {
    let fx = Fixture::start().await;
    let (pack_lot, pack_order) = (fx.pack_lot.clone(), fx.pack_order.clone());
    let hold = |kind: &str, id: &str| json!({"item_kind": kind, "item_id": id, "reason": "r"});
    let (_, holds) = fx
        .as_admin("GET", "/v1/quality/holds?active=true&limit=1000", None)
        .await;
    let pack_hold = holds["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["item_id"] == json!(pack_lot))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let release = format!("/v1/quality/holds/{pack_hold}/release");
    let transition = format!("/v1/quality/nonconformances/{}/transitions", fx.pack_nc);
    let investigate = json!({"action": "start_investigation"});
    let nc_on = |item: &str| json!({"description": "d", "items": [item]});
    // (caller, method, path, body, expected status, a word the refusal must name)
    let table: Vec<(&str, &str, String, Value, u16, &str)> = vec![
        // Another area's items: 403 naming the area, before anything is written.
        (
            "operator-A-CHEM",
            "POST",
            "/v1/quality/holds".into(),
            hold("order", &pack_order),
            403,
            "A-PACK",
        ),
        (
            "operator-A-CHEM",
            "POST",
            "/v1/quality/holds".into(),
            hold("lot", &pack_lot),
            403,
            "A-PACK",
        ),
        (
            "operator-A-CHEM",
            "POST",
            release.clone(),
            json!({"reason": "r"}),
            403,
            "A-PACK",
        ),
        (
            "quality_engineer-A-CHEM",
            "POST",
            "/v1/quality/nonconformances".into(),
            nc_on(&format!("lot:{pack_lot}")),
            403,
            "A-PACK",
        ),
        (
            "quality_engineer-A-CHEM",
            "POST",
            transition.clone(),
            investigate.clone(),
            403,
            "A-PACK",
        ),
        (
            "quality_engineer-A-CHEM",
            "POST",
            transition.clone(),
            json!({"action": "disposition", "disposition": "scrap"}),
            403,
            "A-PACK",
        ),
        // An order that also runs in A-SVC is not wholly A-ASSY's.
        (
            "operator-A-ASSY",
            "POST",
            "/v1/quality/holds".into(),
            hold("order", &fx.assy_order),
            403,
            "A-SVC",
        ),
        // A lot bought in is site-wide: an area scope does not hold it.
        (
            "operator-A-PACK",
            "POST",
            "/v1/quality/holds".into(),
            hold("lot", &bought_lot(&fx)),
            403,
            "site-wide",
        ),
        // Items that do not exist: 422 naming them, whatever the scope.
        (
            "operator-site",
            "POST",
            "/v1/quality/holds".into(),
            hold("lot", "LOT-NOWHERE"),
            422,
            "LOT-NOWHERE",
        ),
        (
            "operator-A-PACK",
            "POST",
            "/v1/quality/holds".into(),
            hold("serial", "SN-NOWHERE"),
            422,
            "SN-NOWHERE",
        ),
        (
            "supervisor-site",
            "POST",
            "/v1/quality/holds".into(),
            hold("order", "MO-NOWHERE"),
            422,
            "MO-NOWHERE",
        ),
        (
            "quality_engineer-site",
            "POST",
            "/v1/quality/nonconformances".into(),
            nc_on("lot:LOT-NOWHERE"),
            422,
            "LOT-NOWHERE",
        ),
        // Inside the caller's area.
        (
            "operator-A-PACK",
            "POST",
            "/v1/quality/holds".into(),
            hold("order", &pack_order),
            201,
            "",
        ),
        (
            "operator-A-PACK",
            "POST",
            release.clone(),
            json!({"reason": "checked"}),
            200,
            "",
        ),
        (
            "quality_engineer-A-PACK",
            "POST",
            "/v1/quality/nonconformances".into(),
            nc_on(&format!("lot:{pack_lot}")),
            201,
            "",
        ),
        (
            "quality_engineer-A-PACK",
            "POST",
            transition.clone(),
            investigate.clone(),
            200,
            "",
        ),
        (
            "quality_engineer-A-CHEM",
            "POST",
            "/v1/quality/nonconformances".into(),
            nc_on(&format!("lot:{}", fx.chem_lot)),
            201,
            "",
        ),
    ];
    for (who, method, path, body, expected, names) in table {
        let audit_before = fx.app.store.audit_log(0, 10_000).await.unwrap().len();
        let (status, answer) = fx.call(who, method, &path, Some(body.clone())).await;
        assert_eq!(status, expected, "{who} {path} {body}: {answer}");
        if expected >= 400 {
            let detail = answer["detail"].as_str().unwrap_or_default();
            assert!(
                detail.contains(names),
                "{who} {path}: `{detail}` names no `{names}`"
            );
            let audit_after = fx.app.store.audit_log(0, 10_000).await.unwrap().len();
            assert_eq!(audit_before, audit_after, "{who} {path} wrote something");
        }
    }
    let (_, nc) = fx
        .as_admin(
            "GET",
            &format!("/v1/quality/nonconformances/{}", fx.pack_nc),
            None,
        )
        .await;
    let history: Vec<&str> = nc["nonconformance"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["by"].as_str().unwrap())
        .collect();
    assert!(
        !history.iter().any(|by| by.contains("A-CHEM")),
        "{history:?}"
    );
    assert!(
        history
            .iter()
            .any(|by| by.contains("quality_engineer-A-PACK"))
    );
}

/// A lot received from a supplier (made by no order of the plant).
fn bought_lot(fx: &Fixture) -> String {
    fx.oracle
        .state
        .lots
        .iter()
        .find(|(_, l)| l.produced_by.is_none())
        .map(|(id, _)| id.to_string())
        .expect("a purchased lot")
}

#[tokio::test]
async fn traces_and_recalls_across_areas_redact_what_lies_outside() {
    let fx = Fixture::start().await;
    // Backward from the cartridge lot: the A-CHEM batch it was filled from is redacted for
    // A-PACK, shown to the site.
    let path = format!("/v1/trace/backward/{}", fx.pack_lot);
    let (status, site) = fx.call("viewer-site", "GET", &path, None).await;
    assert_eq!(status, 200, "{site}");
    assert_eq!(site["redacted"], 0);
    assert!(site.to_string().contains(&fx.chem_lot));
    let (status, pack) = fx.call("viewer-A-PACK", "GET", &path, None).await;
    assert_eq!(status, 200, "{pack}");
    let redacted = pack["redacted"].as_u64().unwrap();
    assert!(redacted >= 1, "{pack}");
    assert!(!pack.to_string().contains(&fx.chem_lot), "{pack}");
    let nodes = pack["nodes"].as_array().unwrap();
    assert_eq!(
        nodes.len(),
        site["nodes"].as_array().unwrap().len(),
        "the shape stays"
    );
    let hidden: Vec<&Value> = nodes
        .iter()
        .filter(|n| n["id"].as_str().unwrap().starts_with("redacted:"))
        .collect();
    assert_eq!(hidden.len() as u64, redacted);
    assert!(
        hidden
            .iter()
            .all(|n| n["label"] == "redacted" && n.get("time").is_none())
    );
    // Every node the A-PACK viewer does see is one it reads.
    for node in nodes
        .iter()
        .filter(|n| !n["id"].as_str().unwrap().starts_with("redacted:"))
    {
        let id = node["id"].as_str().unwrap();
        if let Some(rest) = id.strip_prefix("urn:mixplane:") {
            let (kind, local) = rest.split_once(':').unwrap();
            let areas = match kind {
                "unit" => Some([fx.oracle.unit_area[local].clone()].into()),
                "lot" | "serial" | "order" => fx.oracle.item(kind, local),
                _ => Some(Areas::new()),
            };
            assert!(reads(Some("A-PACK"), areas), "{id} shown to A-PACK");
        }
    }

    // A recall from the A-CHEM batch: A-CHEM sees its own part, the rest is counted.
    let path = format!("/v1/trace/recall/{}", fx.chem_lot);
    let (_, site) = fx.call("viewer-site", "GET", &path, None).await;
    let (status, chem) = fx.call("viewer-A-CHEM", "GET", &path, None).await;
    assert_eq!(status, 200, "{chem}");
    assert_eq!(
        chem["totals"], site["totals"],
        "the totals are the whole recall's"
    );
    let mut hidden_total = 0;
    for list in ["orders", "lots", "serials", "pallets", "other"] {
        let seen = chem[list].as_array().unwrap().len() as u64;
        let all = site[list].as_array().unwrap().len() as u64;
        let hidden = chem["redacted"][list].as_u64().unwrap();
        assert_eq!(seen + hidden, all, "{list}");
        hidden_total += hidden;
    }
    assert!(hidden_total > 0, "the batch went into other areas: {chem}");
    assert!(!chem.to_string().contains(&fx.pack_lot));
    // The CSV form leaves them out too.
    let (_, csv) = fx
        .call("viewer-A-CHEM", "GET", &format!("{path}?format=csv"), None)
        .await;
    assert!(!csv.as_str().unwrap().contains(&fx.pack_lot));

    // Reconciliation: each area sees its own findings, the rest counted.
    let (_, site) = fx
        .call("viewer-site", "GET", "/v1/trace/reconcile", None)
        .await;
    let (status, chem) = fx
        .call("viewer-A-CHEM", "GET", "/v1/trace/reconcile", None)
        .await;
    assert_eq!(status, 200, "{chem}");
    let count = |r: &Value| {
        [
            "consumption_without_producer",
            "mass_balance",
            "orphan_serials",
        ]
        .iter()
        .map(|k| r[k].as_array().unwrap().len() as u64)
        .sum::<u64>()
    };
    assert_eq!(
        count(&chem) + chem["redacted"].as_u64().unwrap(),
        count(&site)
    );
    assert!(chem["redacted"].as_u64().unwrap() > 0);
    for balance in chem["mass_balance"].as_array().unwrap() {
        let order = balance["label"].as_str().unwrap();
        assert!(reads(Some("A-CHEM"), fx.oracle.order(order)), "{order}");
    }
}

/// Review of issue #12: beneath a redacted order, the purchased lots it consumed are
/// site-wide and stay listed, but the link itself (when, how much, by which event) is the
/// redacted order's business: an A-PACK reader of a cartridge lot must not learn the A-CHEM
/// recipe's quantities and consumption events.
#[tokio::test]
async fn links_from_a_redacted_node_carry_no_time_quantity_or_event() {
    let fx = Fixture::start().await;
    let path = format!("/v1/trace/backward/{}", fx.pack_lot);
    let (status, site) = fx.call("viewer-site", "GET", &path, None).await;
    assert_eq!(status, 200, "{site}");
    let (status, pack) = fx.call("viewer-A-PACK", "GET", &path, None).await;
    assert_eq!(status, 200, "{pack}");
    let under_redacted: Vec<&Value> = pack["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| {
            n["parent"]
                .as_str()
                .is_some_and(|p| p.starts_with("redacted:"))
                && n["kind"] != "order"
                && !n["id"].as_str().unwrap().starts_with("redacted:")
        })
        .collect();
    assert!(
        !under_redacted.is_empty(),
        "the A-CHEM batch consumed purchased lots: {pack}"
    );
    for node in under_redacted {
        for field in ["time", "quantity", "uom", "event", "location"] {
            assert!(node.get(field).is_none(), "{field} shown in {node}");
        }
    }
    // No event of the redacted A-CHEM order is named anywhere in the A-PACK answer.
    let shown = pack.to_string();
    for node in site["nodes"].as_array().unwrap() {
        let parent = node["parent"].as_str().unwrap_or_default();
        if parent.contains(":order:")
            && !reads(
                Some("A-PACK"),
                fx.oracle
                    .order(parent.rsplit(':').next().unwrap_or_default()),
            )
            && let Some(event) = node["event"].as_str()
        {
            assert!(
                !shown.contains(event),
                "{event} of {parent} shown to A-PACK"
            );
        }
    }
}

/// Review of issue #12: an A-CHEM quality engineer recorded results of an A-PACK
/// characteristic (naming an A-CHEM unit, so the event looked like A-CHEM's), which joined
/// A-PACK's control chart and had the enforcer hold A-PACK's material and open a
/// nonconformance. A result is recorded only by a principal of an area inspecting its
/// characteristic, at `POST /v1/quality/results` and `POST /v1/events` alike; its own
/// characteristics still record.
#[tokio::test]
async fn results_of_another_areas_characteristic_are_refused() {
    let fx = Fixture::start().await;
    let result = |id: &str, characteristic: &str| {
        json!({"id": id, "time": "2026-03-03T23:10:00Z", "characteristic": characteristic,
               "value": 999.0, "unit": "FS-1"})
    };
    let (status, body) = fx
        .call(
            "quality_engineer-A-CHEM",
            "POST",
            "/v1/quality/results",
            Some(json!([result("review-q1", "CRT-EA100-50-SEAL")])),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("CRT-EA100-50-SEAL"), "{detail}");
    assert!(detail.contains("A-PACK"), "{detail}");
    let mut event = result("review-q2", "CRT-EA100-50-SEAL");
    event["type"] = json!("quality_result_recorded");
    let (status, body) = fx
        .call(
            "operator-A-CHEM",
            "POST",
            "/v1/events",
            Some(json!([event])),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        fx.app
            .store
            .events_with_ids(&["review-q1", "review-q2"])
            .await
            .unwrap()
            .is_empty(),
        "nothing stored"
    );
    // A-CHEM's own characteristic records, and A-PACK records its own.
    let (status, body) = fx
        .call(
            "quality_engineer-A-CHEM",
            "POST",
            "/v1/quality/results",
            Some(json!([result("review-q3", "PU300-VISC")])),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let mut pack = result("review-q4", "CRT-EA100-50-SEAL");
    pack["unit"] = json!("PK-L1");
    let (status, body) = fx
        .call(
            "quality_engineer-A-PACK",
            "POST",
            "/v1/quality/results",
            Some(json!([pack])),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}
