//! Deterministic generator of `data/reference-plant.json`, the reference plant.
//!
//! Owns the design of the reference plant (a specialty adhesives and dispensing-systems site:
//! resin batches in reactors, dispenser assemblies bonded with those resins, cartridge and
//! kit packaging lines) and of its two-week order book. It is not compiled into the library:
//! the committed JSON is what ships. The example `generate_reference_plant` writes the file
//! and a test checks that this code still reproduces it byte for byte.

use std::collections::BTreeMap;

use model::rng::Rng;
use model::*;

/// First instant of the order book (a Monday).
pub const BOOK_START: &str = "2026-03-02T00:00:00Z";
const DAY_MIN: f64 = 1440.0;

/// The reference plant as pretty JSON with a trailing newline, exactly as committed.
pub fn generate_json() -> String {
    let mut text = serde_json::to_string_pretty(&generate()).expect("a plant serialises");
    text.push('\n');
    text
}

fn ts(text: &str) -> Timestamp {
    Timestamp::parse(text).expect("generator timestamps are valid")
}

fn held(cert: &str, level: u8) -> HeldCertification {
    HeldCertification {
        certification: cert.into(),
        level,
        expires: None,
    }
}

fn person(id: &str, name: &str, certs: &[(&str, u8)]) -> PoolMember {
    PoolMember {
        id: id.into(),
        name: name.into(),
        certifications: certs.iter().map(|&(c, l)| held(c, l)).collect(),
        capacity: 1.0,
    }
}

fn thing(id: &str, name: &str, capacity: f64) -> PoolMember {
    PoolMember {
        id: id.into(),
        name: name.into(),
        certifications: Vec::new(),
        capacity,
    }
}

fn people(pool: &str, quantity: u32, cert: &str, level: u8) -> PoolRequirement {
    PoolRequirement {
        pool: pool.into(),
        quantity,
        certification: Some(cert.into()),
        min_level: Some(level),
    }
}

fn equipment(pool: &str, quantity: u32) -> PoolRequirement {
    PoolRequirement {
        pool: pool.into(),
        quantity,
        certification: None,
        min_level: None,
    }
}

fn uses(items: &[(&str, f64)]) -> Vec<MaterialUse> {
    items
        .iter()
        .map(|&(m, q)| MaterialUse {
            material: m.into(),
            per_unit: q,
        })
        .collect()
}

fn param(name: &str, uom: &str, target: f64, low: f64, high: f64) -> ProcessParameter {
    ProcessParameter {
        name: name.into(),
        uom: uom.into(),
        target,
        low,
        high,
    }
}

fn fixed(unit: &str, minutes: f64) -> StepAlternative {
    StepAlternative {
        unit: unit.into(),
        duration: StepDuration::Fixed { minutes },
    }
}

fn per_item(unit: &str, setup: f64, per: f64) -> StepAlternative {
    StepAlternative {
        unit: unit.into(),
        duration: StepDuration::PerItem {
            setup_minutes: setup,
            minutes_per_item: per,
        },
    }
}

fn rate(unit: &str, setup: f64, per_hour: f64) -> StepAlternative {
    StepAlternative {
        unit: unit.into(),
        duration: StepDuration::Rate {
            setup_minutes: setup,
            items_per_hour: per_hour,
        },
    }
}

#[allow(clippy::too_many_arguments)]
fn characteristic(
    id: &str,
    name: &str,
    uom: &str,
    target: f64,
    lsl: Option<f64>,
    usl: Option<f64>,
    chart: ChartKind,
    subgroup: u32,
) -> Characteristic {
    Characteristic {
        id: id.into(),
        name: name.into(),
        uom: uom.into(),
        target,
        lsl,
        usl,
        chart,
        subgroup_size: subgroup,
    }
}

fn step(name: &str, alternatives: Vec<StepAlternative>) -> Step {
    Step {
        name: name.into(),
        alternatives,
        pools: Vec::new(),
        consumes: Vec::new(),
        parameters: Vec::new(),
        max_wait_minutes: None,
        inspection: None,
    }
}

fn family(id: &str, name: &str, attrs: &[(&str, &str)]) -> ProductFamily {
    ProductFamily {
        id: id.into(),
        name: name.into(),
        attributes: attrs
            .iter()
            .map(|&(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
    }
}

fn material(
    id: &str,
    name: &str,
    kind: MaterialKind,
    uom: &str,
    tracking: Tracking,
    family: Option<&str>,
    lead: Option<f64>,
) -> Material {
    Material {
        id: id.into(),
        name: name.into(),
        kind,
        uom: uom.into(),
        tracking,
        family: family.map(Into::into),
        lead_time_days: lead,
    }
}

fn shift(name: &str, days: &[u8], start_hour: u32, hours: u32) -> Shift {
    Shift {
        name: name.into(),
        weekdays: days.to_vec(),
        start_minute: start_hour * 60,
        length_minutes: hours * 60,
    }
}

/// A process recipe: charge, react, discharge/filter and optionally an oven post-cure.
struct Recipe {
    product: &'static str,
    routing: &'static str,
    batch: f64,
    yield_: f64,
    reactors: &'static [(&'static str, f64)],
    charge: &'static [(&'static str, f64)],
    temp: (f64, f64),
    hold: f64,
    drums: bool,
    post_cure: bool,
    plan: &'static str,
}

/// A discrete routing: assemble, cure in the shared oven, leak and function test.
struct Assembly {
    product: &'static str,
    routing: &'static str,
    lines: &'static [(&'static str, f64)],
    consumes: &'static [(&'static str, f64)],
    pneumatic: bool,
    plan: &'static str,
}

/// A repetitive line run: fill and pack cartridges, or pack kits.
struct LineRun {
    product: &'static str,
    routing: &'static str,
    lines: &'static [(&'static str, f64)],
    consumes: &'static [(&'static str, f64)],
    needs_tank: bool,
    plan: &'static str,
}

const RECIPES: &[Recipe] = &[
    Recipe {
        product: "RES-EA100",
        routing: "RCP-EA100",
        batch: 1000.0,
        yield_: 0.97,
        reactors: &[("R-101", 300.0), ("R-102", 320.0)],
        charge: &[("RM-BPA", 0.70), ("RM-SILICA", 0.25), ("RM-ADDPACK", 0.06)],
        temp: (85.0, 5.0),
        hold: 240.0,
        drums: false,
        post_cure: false,
        plan: "IP-EA100",
    },
    Recipe {
        product: "RES-EA220",
        routing: "RCP-EA220",
        batch: 1500.0,
        yield_: 0.96,
        reactors: &[("R-102", 360.0), ("R-103", 350.0)],
        charge: &[
            ("RM-NOVOLAC", 0.72),
            ("RM-SILICA", 0.22),
            ("RM-ADDPACK", 0.07),
        ],
        temp: (110.0, 6.0),
        hold: 300.0,
        drums: false,
        post_cure: true,
        plan: "IP-EA220",
    },
    Recipe {
        product: "RES-PU300",
        routing: "RCP-PU300",
        batch: 1500.0,
        yield_: 0.975,
        reactors: &[("R-101", 240.0), ("R-102", 250.0), ("R-103", 260.0)],
        charge: &[("RM-POLYOL", 0.55), ("RM-MDI", 0.40), ("RM-ADDPACK", 0.06)],
        temp: (70.0, 5.0),
        hold: 180.0,
        drums: false,
        post_cure: false,
        plan: "IP-PU300",
    },
    Recipe {
        product: "RES-AC410",
        routing: "RCP-AC410",
        batch: 1000.0,
        yield_: 0.965,
        reactors: &[("R-101", 270.0), ("R-102", 280.0)],
        charge: &[
            ("RM-MMA", 0.65),
            ("RM-TOUGHENER", 0.30),
            ("RM-ADDPACK", 0.06),
        ],
        temp: (60.0, 5.0),
        hold: 210.0,
        drums: false,
        post_cure: false,
        plan: "IP-AC410",
    },
    Recipe {
        product: "FIN-ER500",
        routing: "RCP-ER500",
        batch: 4000.0,
        yield_: 0.98,
        reactors: &[("R-103", 420.0)],
        charge: &[("RM-BPA", 0.80), ("RM-SILICA", 0.15), ("RM-ADDPACK", 0.06)],
        temp: (90.0, 5.0),
        hold: 360.0,
        drums: true,
        post_cure: false,
        plan: "IP-ER500",
    },
    Recipe {
        product: "FIN-PC600",
        routing: "RCP-PC600",
        batch: 3000.0,
        yield_: 0.975,
        reactors: &[("R-102", 330.0), ("R-103", 320.0)],
        charge: &[("RM-POLYOL", 0.60), ("RM-MDI", 0.35), ("RM-ADDPACK", 0.06)],
        temp: (75.0, 5.0),
        hold: 240.0,
        drums: true,
        post_cure: false,
        plan: "IP-PC600",
    },
];

const ASSEMBLIES: &[Assembly] = &[
    Assembly {
        product: "DSP-M50",
        routing: "RTG-M50",
        lines: &[("ASM-L1", 1.2), ("ASM-L2", 1.5)],
        consumes: &[
            ("CMP-HOUSING-M", 1.0),
            ("CMP-PISTON", 1.0),
            ("RES-EA100", 0.02),
        ],
        pneumatic: false,
        plan: "IP-M50",
    },
    Assembly {
        product: "DSP-M200",
        routing: "RTG-M200",
        lines: &[("ASM-L1", 1.5), ("ASM-L2", 1.8)],
        consumes: &[
            ("CMP-HOUSING-M", 1.0),
            ("CMP-PISTON", 1.0),
            ("CMP-RATCHET", 1.0),
            ("RES-EA100", 0.03),
        ],
        pneumatic: false,
        plan: "IP-M200",
    },
    Assembly {
        product: "DSP-P400",
        routing: "RTG-P400",
        lines: &[("ASM-L1", 2.6), ("ASM-L2", 2.2)],
        consumes: &[
            ("CMP-HOUSING-P", 1.0),
            ("CMP-VALVE", 1.0),
            ("RES-EA100", 0.04),
        ],
        pneumatic: true,
        plan: "IP-P400",
    },
    Assembly {
        product: "DSP-P600",
        routing: "RTG-P600",
        lines: &[("ASM-L1", 3.4), ("ASM-L2", 2.8)],
        consumes: &[
            ("CMP-HOUSING-P", 1.0),
            ("CMP-VALVE", 1.0),
            ("CMP-MIXER", 1.0),
            ("RES-AC410", 0.05),
        ],
        pneumatic: true,
        plan: "IP-P600",
    },
];

const LINE_RUNS: &[LineRun] = &[
    LineRun {
        product: "CRT-EA100-50",
        routing: "RUN-CRT-EA100-50",
        lines: &[("PK-L1", 150.0), ("PK-L2", 90.0)],
        consumes: &[("RES-EA100", 1.35), ("PKG-CART50", 24.0), ("PKG-CASE", 1.0)],
        needs_tank: true,
        plan: "IP-CRT-EA100-50",
    },
    LineRun {
        product: "CRT-EA220-400",
        routing: "RUN-CRT-EA220-400",
        lines: &[("PK-L1", 110.0), ("PK-L2", 70.0)],
        consumes: &[("RES-EA220", 5.6), ("PKG-CART400", 12.0), ("PKG-CASE", 1.0)],
        needs_tank: true,
        plan: "IP-CRT-EA220-400",
    },
    LineRun {
        product: "CRT-PU300-310",
        routing: "RUN-CRT-PU300-310",
        lines: &[("PK-L1", 120.0), ("PK-L2", 80.0)],
        consumes: &[("RES-PU300", 4.3), ("PKG-CART310", 12.0), ("PKG-CASE", 1.0)],
        needs_tank: true,
        plan: "IP-CRT-PU300-310",
    },
    LineRun {
        product: "CRT-AC410-50",
        routing: "RUN-CRT-AC410-50",
        lines: &[("PK-L1", 150.0), ("PK-L2", 90.0)],
        consumes: &[("RES-AC410", 1.35), ("PKG-CART50", 24.0), ("PKG-CASE", 1.0)],
        needs_tank: true,
        plan: "IP-CRT-AC410-50",
    },
    LineRun {
        product: "KIT-M50",
        routing: "RUN-KIT-M50",
        lines: &[("PK-L2", 70.0), ("PK-L1", 45.0)],
        consumes: &[
            ("DSP-M50", 1.0),
            ("RES-EA100", 0.12),
            ("PKG-CART50", 2.0),
            ("PKG-KITBOX", 1.0),
        ],
        needs_tank: false,
        plan: "IP-KIT-M50",
    },
    LineRun {
        product: "KIT-M200",
        routing: "RUN-KIT-M200",
        lines: &[("PK-L2", 60.0), ("PK-L1", 40.0)],
        consumes: &[
            ("DSP-M200", 1.0),
            ("RES-EA100", 0.25),
            ("PKG-CART50", 4.0),
            ("PKG-KITBOX", 1.0),
        ],
        needs_tank: false,
        plan: "IP-KIT-M200",
    },
];

/// The whole reference plant.
pub fn generate() -> Plant {
    let mut plant = structure();
    plant.routings = routings();
    plant.inspection_plans = inspection_plans();
    plant.orders = order_book(&plant);
    plant
}

fn structure() -> Plant {
    use Mode::*;
    let area = |id: &str, name: &str| Area {
        id: id.into(),
        name: name.into(),
    };
    let wc = |id: &str, name: &str, area: &str, mode: Mode| WorkCenter {
        id: id.into(),
        name: name.into(),
        area: area.into(),
        mode,
    };
    let unit = |id: &str, name: &str, wc: &str, cal: &str, mtbf: f64, mttr: f64| Unit {
        id: id.into(),
        name: name.into(),
        work_center: wc.into(),
        calendar: cal.into(),
        changeover_matrix: None,
        cip: None,
        max_batch_size: None,
        mtbf_hours: Some(mtbf),
        mttr_hours: Some(mttr),
    };
    let cip = |minutes: f64, change: bool, batches: Option<u32>, run: Option<f64>| CipRule {
        duration_minutes: minutes,
        on_product_change: change,
        after_batches: batches,
        max_run_minutes: run,
    };
    let mut units = vec![
        Unit {
            cip: Some(cip(120.0, true, Some(4), Some(4320.0))),
            max_batch_size: Some(1500.0),
            ..unit(
                "R-101",
                "Reactor R-101, 1.5 t glass-lined",
                "WC-RX",
                "CAL-3SHIFT",
                160.0,
                3.0,
            )
        },
        Unit {
            cip: Some(cip(150.0, true, Some(5), None)),
            max_batch_size: Some(3000.0),
            ..unit(
                "R-102",
                "Reactor R-102, 3 t stainless",
                "WC-RX",
                "CAL-3SHIFT",
                180.0,
                4.0,
            )
        },
        Unit {
            cip: Some(cip(180.0, true, Some(3), Some(5760.0))),
            max_batch_size: Some(4000.0),
            ..unit(
                "R-103",
                "Reactor R-103, 4 t stainless",
                "WC-RX",
                "CAL-3SHIFT",
                140.0,
                5.0,
            )
        },
        Unit {
            cip: Some(cip(45.0, true, None, None)),
            ..unit(
                "FS-1",
                "Filtration and discharge skid 1",
                "WC-FILT",
                "CAL-3SHIFT",
                120.0,
                1.5,
            )
        },
        Unit {
            cip: Some(cip(45.0, true, None, None)),
            ..unit(
                "FS-2",
                "Filtration and discharge skid 2",
                "WC-FILT",
                "CAL-3SHIFT",
                120.0,
                1.5,
            )
        },
        unit(
            "CB-1",
            "Resin conditioning bay (loads the curing oven)",
            "WC-COND",
            "CAL-CONT",
            400.0,
            2.0,
        ),
        Unit {
            changeover_matrix: Some("CO-ASM".into()),
            ..unit(
                "ASM-L1",
                "Dispenser assembly line 1",
                "WC-ASM1",
                "CAL-2SHIFT",
                60.0,
                1.0,
            )
        },
        Unit {
            changeover_matrix: Some("CO-ASM".into()),
            ..unit(
                "ASM-L2",
                "Dispenser assembly line 2",
                "WC-ASM2",
                "CAL-2SHIFT",
                70.0,
                1.2,
            )
        },
        unit(
            "CC-1",
            "Bond cure cell (loads the curing oven)",
            "WC-CURE",
            "CAL-3SHIFT",
            300.0,
            2.0,
        ),
        unit(
            "TB-1",
            "Leak and function test bench 1",
            "WC-TEST",
            "CAL-2SHIFT",
            200.0,
            0.5,
        ),
        unit(
            "TB-2",
            "Leak and function test bench 2",
            "WC-TEST",
            "CAL-2SHIFT",
            200.0,
            0.5,
        ),
        Unit {
            changeover_matrix: Some("CO-PK1".into()),
            ..unit(
                "PK-L1",
                "Cartridge fill and pack line 1",
                "WC-PK1",
                "CAL-PACK",
                40.0,
                0.75,
            )
        },
        Unit {
            changeover_matrix: Some("CO-PK2".into()),
            ..unit(
                "PK-L2",
                "Kit and cartridge pack line 2",
                "WC-PK2",
                "CAL-PACK",
                50.0,
                0.75,
            )
        },
    ];
    units.sort_by(|a, b| a.id.cmp(&b.id));
    let chem_people = vec![
        person(
            "CH-01",
            "Anna Becker",
            &[("reactor", 3), ("cip", 3), ("filtration", 2)],
        ),
        person(
            "CH-02",
            "Murat Yilmaz",
            &[("reactor", 2), ("filtration", 3), ("cip", 2)],
        ),
        person(
            "CH-03",
            "Jana Novak",
            &[("reactor", 2), ("cip", 1), ("filtration", 1)],
        ),
        person(
            "CH-04",
            "Sofia Ferreira",
            &[("reactor", 1), ("filtration", 2), ("oven", 2)],
        ),
        person(
            "CH-05",
            "Karl Lindqvist",
            &[("reactor", 3), ("oven", 1), ("filtration", 1)],
        ),
        PoolMember {
            certifications: vec![
                HeldCertification {
                    expires: Some(ts("2026-03-09T00:00:00Z")),
                    ..held("reactor", 2)
                },
                held("filtration", 2),
                held("packaging", 1),
            ],
            ..person("CH-06", "Peter Okafor", &[])
        },
    ];
    let assy_people = vec![
        person(
            "AS-01",
            "Lena Hoffmann",
            &[("assembly", 3), ("leak_test", 3)],
        ),
        person(
            "AS-02",
            "Tomasz Kowalski",
            &[("assembly", 2), ("leak_test", 2)],
        ),
        person("AS-03", "Aylin Demir", &[("assembly", 2), ("packaging", 1)]),
        person("AS-04", "Marco Rossi", &[("assembly", 1), ("packaging", 2)]),
        person(
            "AS-05",
            "Julia Schmidt",
            &[("assembly", 1), ("leak_test", 2)],
        ),
        person(
            "AS-06",
            "Nikolai Petrov",
            &[("packaging", 3), ("assembly", 1)],
        ),
        person(
            "AS-07",
            "Emma Dubois",
            &[("packaging", 2), ("leak_test", 1)],
        ),
        person("AS-08", "Ravi Sharma", &[("packaging", 2), ("assembly", 2)]),
        person(
            "AS-09",
            "Greta Nilsson",
            &[("packaging", 1), ("assembly", 1)],
        ),
        person(
            "AS-10",
            "Omar Haddad",
            &[("assembly", 2), ("packaging", 2), ("leak_test", 2)],
        ),
    ];
    let pools = vec![
        ResourcePool {
            id: "P-CHEM-OPS".into(),
            name: "Process operators".into(),
            kind: PoolKind::People,
            areas: vec!["A-CHEM".into(), "A-SVC".into()],
            calendar: "CAL-3SHIFT".into(),
            members: chem_people,
        },
        ResourcePool {
            id: "P-ASSY-OPS".into(),
            name: "Assembly and packaging technicians".into(),
            kind: PoolKind::People,
            areas: vec!["A-ASSY".into(), "A-PACK".into()],
            calendar: "CAL-PACK".into(),
            members: assy_people,
        },
        ResourcePool {
            id: "P-TANKS".into(),
            name: "Mobile stainless IBC tanks".into(),
            kind: PoolKind::MobileTank,
            areas: vec!["A-CHEM".into(), "A-PACK".into()],
            calendar: "CAL-CONT".into(),
            members: vec![
                thing("T-01", "IBC T-01, 1000 l", 1000.0),
                thing("T-02", "IBC T-02, 1000 l", 1000.0),
                thing("T-03", "Mobile tank T-03, 3000 l", 3000.0),
                thing("T-04", "Mobile tank T-04, 4000 l", 4000.0),
            ],
        },
        ResourcePool {
            id: "P-TEST".into(),
            name: "Helium leak test stations".into(),
            kind: PoolKind::TestStation,
            areas: vec!["A-ASSY".into()],
            calendar: "CAL-2SHIFT".into(),
            members: vec![
                thing("TS-1", "Helium leak detector station TS-1", 1.0),
                thing("TS-2", "Helium leak detector station TS-2", 1.0),
            ],
        },
        ResourcePool {
            id: "P-OVEN".into(),
            name: "Walk-in curing oven OV-1".into(),
            kind: PoolKind::Oven,
            areas: vec!["A-CHEM".into(), "A-ASSY".into(), "A-SVC".into()],
            calendar: "CAL-CONT".into(),
            members: vec![thing("OV-1", "Walk-in curing oven OV-1, 2 racks", 1.0)],
        },
    ];
    let certifications = [
        ("reactor", "Reactor operation"),
        ("cip", "Clean-in-place"),
        ("filtration", "Filtration and discharge"),
        ("oven", "Curing oven loading"),
        ("assembly", "Dispenser assembly"),
        ("leak_test", "Helium leak and function testing"),
        ("packaging", "Packaging line operation"),
    ]
    .iter()
    .map(|&(id, name)| Certification {
        id: id.into(),
        name: name.into(),
    })
    .collect();
    let families = vec![
        family(
            "FAM-EPX",
            "Epoxy adhesive bases and resins",
            &[("chemistry", "epoxy"), ("viscosity_class", "medium")],
        ),
        family(
            "FAM-EPX-HT",
            "High-temperature epoxy bases",
            &[("chemistry", "epoxy"), ("viscosity_class", "high")],
        ),
        family(
            "FAM-PU",
            "Polyurethane adhesives and coatings",
            &[("chemistry", "polyurethane"), ("viscosity_class", "low")],
        ),
        family(
            "FAM-ACR",
            "Acrylic structural adhesives",
            &[("chemistry", "acrylic"), ("viscosity_class", "medium")],
        ),
        family(
            "FAM-DSP-M",
            "Manual dispensers",
            &[("drive", "manual"), ("chemistry", "epoxy")],
        ),
        family(
            "FAM-DSP-P",
            "Pneumatic dispensers",
            &[("drive", "pneumatic"), ("chemistry", "epoxy")],
        ),
        family(
            "FAM-CRT-EPX",
            "Epoxy cartridges",
            &[("chemistry", "epoxy"), ("format", "cartridge")],
        ),
        family(
            "FAM-CRT-PU",
            "Polyurethane cartridges",
            &[("chemistry", "polyurethane"), ("format", "cartridge")],
        ),
        family(
            "FAM-CRT-ACR",
            "Acrylic cartridges",
            &[("chemistry", "acrylic"), ("format", "cartridge")],
        ),
        family(
            "FAM-KIT",
            "Dispenser kits",
            &[("chemistry", "epoxy"), ("format", "kit")],
        ),
    ];
    use MaterialKind::*;
    use Tracking::*;
    let materials = vec![
        material(
            "RM-BPA",
            "Bisphenol-A liquid epoxy resin",
            Raw,
            "kg",
            Lot,
            None,
            Some(10.0),
        ),
        material(
            "RM-NOVOLAC",
            "Epoxy novolac resin",
            Raw,
            "kg",
            Lot,
            None,
            Some(14.0),
        ),
        material(
            "RM-SILICA",
            "Fumed silica thixotrope",
            Raw,
            "kg",
            Lot,
            None,
            Some(7.0),
        ),
        material(
            "RM-ADDPACK",
            "Adhesion promoter and pigment package",
            Raw,
            "kg",
            Lot,
            None,
            Some(7.0),
        ),
        material(
            "RM-POLYOL",
            "Polyether polyol",
            Raw,
            "kg",
            Lot,
            None,
            Some(10.0),
        ),
        material(
            "RM-MDI",
            "Polymeric MDI isocyanate",
            Raw,
            "kg",
            Lot,
            None,
            Some(10.0),
        ),
        material(
            "RM-MMA",
            "Methyl methacrylate monomer",
            Raw,
            "kg",
            Lot,
            None,
            Some(7.0),
        ),
        material(
            "RM-TOUGHENER",
            "Core-shell elastomer toughener",
            Raw,
            "kg",
            Lot,
            None,
            Some(21.0),
        ),
        material(
            "CMP-HOUSING-M",
            "Manual dispenser housing, glass-filled PA",
            Raw,
            "ea",
            Lot,
            None,
            Some(14.0),
        ),
        material(
            "CMP-HOUSING-P",
            "Pneumatic dispenser housing, aluminium",
            Raw,
            "ea",
            Lot,
            None,
            Some(14.0),
        ),
        material(
            "CMP-PISTON",
            "Piston and rod assembly",
            Raw,
            "ea",
            Lot,
            None,
            Some(10.0),
        ),
        material(
            "CMP-RATCHET",
            "Ratchet drive mechanism",
            Raw,
            "ea",
            Lot,
            None,
            Some(10.0),
        ),
        material(
            "CMP-VALVE",
            "Pneumatic valve block",
            Raw,
            "ea",
            Lot,
            None,
            Some(21.0),
        ),
        material(
            "CMP-MIXER",
            "Static mixer head",
            Raw,
            "ea",
            Lot,
            None,
            Some(7.0),
        ),
        material(
            "PKG-CART50",
            "Empty dual cartridge 50 ml",
            Packaging,
            "ea",
            Lot,
            None,
            Some(7.0),
        ),
        material(
            "PKG-CART310",
            "Empty cartridge 310 ml",
            Packaging,
            "ea",
            Lot,
            None,
            Some(7.0),
        ),
        material(
            "PKG-CART400",
            "Empty cartridge 400 ml",
            Packaging,
            "ea",
            Lot,
            None,
            Some(7.0),
        ),
        material(
            "PKG-CASE",
            "Corrugated shipping case",
            Packaging,
            "ea",
            Lot,
            None,
            Some(5.0),
        ),
        material(
            "PKG-KITBOX",
            "Printed kit box with insert",
            Packaging,
            "ea",
            Lot,
            None,
            Some(10.0),
        ),
        material(
            "PKG-DRUM",
            "200 l open-head steel drum",
            Packaging,
            "ea",
            Lot,
            None,
            Some(5.0),
        ),
        material(
            "RES-EA100",
            "EA-100 epoxy adhesive base",
            Intermediate,
            "kg",
            Lot,
            Some("FAM-EPX"),
            None,
        ),
        material(
            "RES-EA220",
            "EA-220 high-temperature epoxy base",
            Intermediate,
            "kg",
            Lot,
            Some("FAM-EPX-HT"),
            None,
        ),
        material(
            "RES-PU300",
            "PU-300 polyurethane adhesive base",
            Intermediate,
            "kg",
            Lot,
            Some("FAM-PU"),
            None,
        ),
        material(
            "RES-AC410",
            "AC-410 acrylic structural adhesive base",
            Intermediate,
            "kg",
            Lot,
            Some("FAM-ACR"),
            None,
        ),
        material(
            "FIN-ER500",
            "ER-500 epoxy casting resin, 200 kg drums",
            Finished,
            "kg",
            Lot,
            Some("FAM-EPX"),
            None,
        ),
        material(
            "FIN-PC600",
            "PC-600 polyurethane coating resin, 200 kg drums",
            Finished,
            "kg",
            Lot,
            Some("FAM-PU"),
            None,
        ),
        material(
            "DSP-M50",
            "MD-50 manual dual-cartridge dispenser",
            Intermediate,
            "ea",
            Serial,
            Some("FAM-DSP-M"),
            None,
        ),
        material(
            "DSP-M200",
            "MD-200 manual dispenser, 200 ml",
            Intermediate,
            "ea",
            Serial,
            Some("FAM-DSP-M"),
            None,
        ),
        material(
            "DSP-P400",
            "PD-400 pneumatic dispenser",
            Finished,
            "ea",
            Serial,
            Some("FAM-DSP-P"),
            None,
        ),
        material(
            "DSP-P600",
            "PD-600 pneumatic dispenser with static-mixer head",
            Finished,
            "ea",
            Serial,
            Some("FAM-DSP-P"),
            None,
        ),
        material(
            "CRT-EA100-50",
            "EA-100 50 ml dual cartridge, case of 24",
            Finished,
            "case",
            Lot,
            Some("FAM-CRT-EPX"),
            None,
        ),
        material(
            "CRT-EA220-400",
            "EA-220 400 ml cartridge, case of 12",
            Finished,
            "case",
            Lot,
            Some("FAM-CRT-EPX"),
            None,
        ),
        material(
            "CRT-PU300-310",
            "PU-300 310 ml cartridge, case of 12",
            Finished,
            "case",
            Lot,
            Some("FAM-CRT-PU"),
            None,
        ),
        material(
            "CRT-AC410-50",
            "AC-410 50 ml dual cartridge, case of 24",
            Finished,
            "case",
            Lot,
            Some("FAM-CRT-ACR"),
            None,
        ),
        material(
            "KIT-M50",
            "MD-50 starter kit (dispenser, 2 EA-100 cartridges)",
            Finished,
            "ea",
            Lot,
            Some("FAM-KIT"),
            None,
        ),
        material(
            "KIT-M200",
            "MD-200 professional kit (dispenser, 4 EA-100 cartridges)",
            Finished,
            "ea",
            Lot,
            Some("FAM-KIT"),
            None,
        ),
    ];
    let entry = |from: &str, to: &str, minutes: f64, cost: f64| ChangeoverEntry {
        from: from.into(),
        to: to.into(),
        minutes,
        cost,
    };
    let changeover_matrices = vec![
        ChangeoverMatrix {
            id: "CO-ASM".into(),
            keyed_by: ChangeoverKey::Family,
            default_minutes: 30.0,
            default_cost: 90.0,
            entries: vec![
                entry("FAM-DSP-M", "FAM-DSP-P", 45.0, 140.0),
                entry("FAM-DSP-P", "FAM-DSP-M", 35.0, 110.0),
            ],
        },
        ChangeoverMatrix {
            id: "CO-PK1".into(),
            keyed_by: ChangeoverKey::Attribute {
                name: "chemistry".into(),
            },
            default_minutes: 60.0,
            default_cost: 250.0,
            entries: vec![
                entry("epoxy", "polyurethane", 90.0, 380.0),
                entry("polyurethane", "epoxy", 120.0, 520.0),
                entry("epoxy", "acrylic", 75.0, 300.0),
                entry("acrylic", "epoxy", 60.0, 240.0),
                entry("polyurethane", "acrylic", 110.0, 450.0),
                entry("acrylic", "polyurethane", 100.0, 420.0),
            ],
        },
        ChangeoverMatrix {
            id: "CO-PK2".into(),
            keyed_by: ChangeoverKey::Family,
            default_minutes: 40.0,
            default_cost: 150.0,
            entries: vec![
                entry("FAM-KIT", "FAM-CRT-EPX", 50.0, 200.0),
                entry("FAM-CRT-EPX", "FAM-KIT", 35.0, 120.0),
                entry("FAM-CRT-PU", "FAM-KIT", 80.0, 330.0),
                entry("FAM-CRT-PU", "FAM-CRT-EPX", 95.0, 400.0),
                entry("FAM-CRT-EPX", "FAM-CRT-PU", 70.0, 280.0),
            ],
        },
    ];
    let calendars = vec![
        Calendar {
            id: "CAL-3SHIFT".into(),
            name: "Three shifts, Sunday night to Saturday late (process)".into(),
            shifts: vec![
                shift("night", &[7, 1, 2, 3, 4, 5], 22, 8),
                shift("early", &[1, 2, 3, 4, 5, 6], 6, 8),
                shift("late", &[1, 2, 3, 4, 5, 6], 14, 8),
            ],
            blackouts: vec![Blackout {
                reason: "Planned maintenance: R-102 agitator gearbox and seal".into(),
                start: ts("2026-03-10T06:00:00Z"),
                end: ts("2026-03-10T18:00:00Z"),
                units: vec!["R-102".into()],
            }],
        },
        Calendar {
            id: "CAL-2SHIFT".into(),
            name: "Two shifts, Monday to Friday (assembly and test)".into(),
            shifts: vec![
                shift("early", &[1, 2, 3, 4, 5], 6, 8),
                shift("late", &[1, 2, 3, 4, 5], 14, 8),
            ],
            blackouts: Vec::new(),
        },
        Calendar {
            id: "CAL-PACK".into(),
            name: "Two shifts Monday to Friday plus Saturday early (packaging)".into(),
            shifts: vec![
                shift("early", &[1, 2, 3, 4, 5, 6], 6, 8),
                shift("late", &[1, 2, 3, 4, 5], 14, 8),
            ],
            blackouts: vec![Blackout {
                reason: "Planned maintenance: PK-L1 servo filler overhaul".into(),
                start: ts("2026-03-12T06:00:00Z"),
                end: ts("2026-03-12T14:00:00Z"),
                units: vec!["PK-L1".into()],
            }],
        },
        Calendar {
            id: "CAL-CONT".into(),
            name: "Continuous (oven, tanks)".into(),
            shifts: vec![shift("all day", &[1, 2, 3, 4, 5, 6, 7], 0, 24)],
            blackouts: Vec::new(),
        },
    ];
    Plant {
        schema_version: PLANT_SCHEMA_VERSION,
        site: Site {
            id: "RHF".into(),
            name: "Rheinfeld adhesives and dispensing systems plant".into(),
            time_zone: Some("Europe/Berlin".into()),
        },
        areas: vec![
            area("A-CHEM", "Resin and adhesive production"),
            area("A-ASSY", "Dispenser assembly and test"),
            area("A-PACK", "Filling and packaging"),
            area("A-SVC", "Curing and shared services"),
        ],
        work_centers: vec![
            wc("WC-RX", "Reactor bay", "A-CHEM", Process),
            wc("WC-FILT", "Filtration and discharge", "A-CHEM", Process),
            wc("WC-COND", "Resin conditioning", "A-SVC", Process),
            wc("WC-ASM1", "Dispenser assembly line 1", "A-ASSY", Discrete),
            wc("WC-ASM2", "Dispenser assembly line 2", "A-ASSY", Discrete),
            wc("WC-CURE", "Bond cure cell", "A-SVC", Discrete),
            wc("WC-TEST", "End-of-line test", "A-ASSY", Discrete),
            wc(
                "WC-PK1",
                "Cartridge fill and pack line 1",
                "A-PACK",
                Repetitive,
            ),
            wc(
                "WC-PK2",
                "Kit and cartridge pack line 2",
                "A-PACK",
                Repetitive,
            ),
        ],
        units,
        pools,
        certifications,
        families,
        materials,
        routings: Vec::new(),
        changeover_matrices,
        calendars,
        inspection_plans: Vec::new(),
        orders: Vec::new(),
    }
}

fn routings() -> Vec<Routing> {
    let mut out = Vec::new();
    for r in RECIPES {
        let (t, half) = r.temp;
        let mut charge = step(
            "Charge and pre-mix",
            r.reactors.iter().map(|&(u, _)| fixed(u, 75.0)).collect(),
        );
        charge.pools = vec![people("P-CHEM-OPS", 1, "reactor", 1)];
        charge.consumes = uses(r.charge);
        charge.parameters = vec![
            param("charge_temperature", "degC", 25.0, 18.0, 32.0),
            param("agitator_speed", "rpm", 60.0, 50.0, 70.0),
        ];
        let mut react = step(
            "React and hold",
            r.reactors.iter().map(|&(u, m)| fixed(u, m)).collect(),
        );
        react.pools = vec![people("P-CHEM-OPS", 1, "reactor", 2)];
        react.parameters = vec![
            param("reactor_temperature", "degC", t, t - half, t + half),
            param("hold_time", "min", r.hold, r.hold - 15.0, r.hold + 30.0),
            param("vacuum", "mbar", 50.0, 20.0, 80.0),
        ];
        react.max_wait_minutes = Some(120.0);
        let mut discharge = step(
            if r.drums {
                "Filter and drum off"
            } else {
                "Filter and discharge to mobile tank"
            },
            vec![fixed("FS-1", 80.0), fixed("FS-2", 90.0)],
        );
        discharge.pools = vec![
            people("P-CHEM-OPS", 1, "filtration", 1),
            equipment("P-TANKS", 1),
        ];
        if r.drums {
            discharge.consumes = uses(&[("PKG-DRUM", 0.005)]);
        }
        discharge.parameters = vec![
            param("filter_differential_pressure", "bar", 1.2, 0.5, 2.0),
            param("discharge_temperature", "degC", 45.0, 35.0, 55.0),
        ];
        discharge.inspection = Some(r.plan.into());
        let mut steps = vec![charge, react, discharge];
        if r.post_cure {
            steps[2].max_wait_minutes = Some(480.0);
            let mut cure = step("Post-cure in curing oven", vec![fixed("CB-1", 180.0)]);
            cure.pools = vec![equipment("P-OVEN", 1), people("P-CHEM-OPS", 1, "oven", 1)];
            cure.parameters = vec![
                param("oven_temperature", "degC", 120.0, 115.0, 125.0),
                param("cure_time", "min", 180.0, 170.0, 200.0),
            ];
            steps.push(cure);
        }
        out.push(Routing {
            id: r.routing.into(),
            product: r.product.into(),
            mode: Mode::Process,
            batch_size: Some(r.batch),
            expected_yield: r.yield_,
            steps,
        });
    }
    for a in ASSEMBLIES {
        let mut assemble = step(
            "Assemble and bond",
            a.lines.iter().map(|&(u, m)| per_item(u, 20.0, m)).collect(),
        );
        assemble.pools = vec![people("P-ASSY-OPS", 2, "assembly", 1)];
        if a.pneumatic {
            assemble.pools.push(equipment("P-TEST", 1));
        }
        assemble.consumes = uses(a.consumes);
        assemble.parameters = vec![
            param("adhesive_bead_mass", "g", 2.5, 2.2, 2.8),
            param("press_force", "kN", 4.0, 3.6, 4.4),
        ];
        assemble.max_wait_minutes = Some(240.0);
        let mut cure = step("Cure bond in curing oven", vec![fixed("CC-1", 150.0)]);
        cure.pools = vec![equipment("P-OVEN", 1)];
        cure.parameters = vec![
            param("oven_temperature", "degC", 80.0, 75.0, 85.0),
            param("cure_time", "min", 150.0, 140.0, 170.0),
        ];
        let mut test = step(
            "Leak and function test",
            vec![per_item("TB-1", 10.0, 0.6), per_item("TB-2", 10.0, 0.65)],
        );
        test.pools = vec![
            people("P-ASSY-OPS", 1, "leak_test", 2),
            equipment("P-TEST", 1),
        ];
        test.parameters = vec![param("test_pressure", "bar", 6.0, 5.8, 6.2)];
        test.inspection = Some(a.plan.into());
        out.push(Routing {
            id: a.routing.into(),
            product: a.product.into(),
            mode: Mode::Discrete,
            batch_size: None,
            expected_yield: 0.985,
            steps: vec![assemble, cure, test],
        });
    }
    for l in LINE_RUNS {
        let kit = !l.needs_tank;
        let mut run = step(
            if kit { "Kit pack" } else { "Fill and pack" },
            l.lines
                .iter()
                .map(|&(u, r)| rate(u, if kit { 15.0 } else { 25.0 }, r))
                .collect(),
        );
        run.pools = vec![people("P-ASSY-OPS", 2, "packaging", 1)];
        if l.needs_tank {
            run.pools.push(equipment("P-TANKS", 1));
        }
        run.consumes = uses(l.consumes);
        run.parameters = if kit {
            vec![param("line_speed", "kits/h", 60.0, 40.0, 75.0)]
        } else {
            vec![
                param("fill_temperature", "degC", 30.0, 25.0, 35.0),
                param("line_speed", "cartridges/min", 40.0, 30.0, 50.0),
            ]
        };
        run.inspection = Some(l.plan.into());
        out.push(Routing {
            id: l.routing.into(),
            product: l.product.into(),
            mode: Mode::Repetitive,
            batch_size: None,
            expected_yield: if kit { 0.995 } else { 0.985 },
            steps: vec![run],
        });
    }
    out
}

fn inspection_plans() -> Vec<InspectionPlan> {
    use ChartKind::*;
    let mut plans = Vec::new();
    let batch = [
        ("IP-EA100", "RES-EA100", "EA100", 12000.0, 188.0),
        ("IP-EA220", "RES-EA220", "EA220", 25000.0, 176.0),
        ("IP-AC410", "RES-AC410", "AC410", 18000.0, 0.0),
        ("IP-ER500", "FIN-ER500", "ER500", 9000.0, 192.0),
    ];
    for (id, mat, code, visc, eew) in batch {
        let mut chars = vec![characteristic(
            &format!("{code}-VISC"),
            "Brookfield viscosity at 25 degC",
            "mPa.s",
            visc,
            Some(visc * 0.85),
            Some(visc * 1.15),
            Imr,
            1,
        )];
        if eew > 0.0 {
            chars.push(characteristic(
                &format!("{code}-EEW"),
                "Epoxy equivalent weight (assay)",
                "g/eq",
                eew,
                Some(eew - 6.0),
                Some(eew + 6.0),
                Imr,
                1,
            ));
        } else {
            chars.push(characteristic(
                &format!("{code}-RESMON"),
                "Residual monomer (assay)",
                "%",
                0.30,
                None,
                Some(0.50),
                Imr,
                1,
            ));
        }
        plans.push(InspectionPlan {
            id: id.into(),
            name: format!("{code} batch release: viscosity and assay"),
            material: mat.into(),
            characteristics: chars,
        });
    }
    for (id, mat, code, visc) in [
        ("IP-PU300", "RES-PU300", "PU300", 6000.0),
        ("IP-PC600", "FIN-PC600", "PC600", 3500.0),
    ] {
        plans.push(InspectionPlan {
            id: id.into(),
            name: format!("{code} batch release: viscosity and NCO assay"),
            material: mat.into(),
            characteristics: vec![
                characteristic(
                    &format!("{code}-VISC"),
                    "Brookfield viscosity at 25 degC",
                    "mPa.s",
                    visc,
                    Some(visc * 0.85),
                    Some(visc * 1.15),
                    Imr,
                    1,
                ),
                characteristic(
                    &format!("{code}-NCO"),
                    "NCO content (assay)",
                    "%",
                    12.5,
                    Some(12.0),
                    Some(13.0),
                    Ewma,
                    1,
                ),
            ],
        });
    }
    for a in ASSEMBLIES {
        let code = a.product.trim_start_matches("DSP-");
        plans.push(InspectionPlan {
            id: a.plan.into(),
            name: format!("{} end-of-line: leak, dimensions, failures", a.product),
            material: a.product.into(),
            characteristics: vec![
                characteristic(
                    &format!("{code}-LEAK"),
                    "Helium leak rate",
                    "1e-6 mbar.l/s",
                    0.8,
                    None,
                    Some(2.0),
                    Imr,
                    1,
                ),
                characteristic(
                    &format!("{code}-BORE"),
                    "Cartridge bore diameter",
                    "mm",
                    22.0,
                    Some(21.95),
                    Some(22.05),
                    XbarR,
                    5,
                ),
                characteristic(
                    &format!("{code}-FAIL"),
                    "Leak or function test failures",
                    "count",
                    0.01,
                    None,
                    None,
                    P,
                    1,
                ),
            ],
        });
    }
    for l in LINE_RUNS {
        let code = l.product.to_owned();
        let chars = if l.needs_tank {
            let nominal = match l.product {
                "CRT-EA220-400" => 520.0,
                "CRT-PU300-310" => 400.0,
                _ => 62.0,
            };
            vec![
                characteristic(
                    &format!("{code}-FILLWT"),
                    "Cartridge fill weight",
                    "g",
                    nominal,
                    Some(nominal * 0.98),
                    Some(nominal * 1.03),
                    XbarS,
                    5,
                ),
                characteristic(
                    &format!("{code}-SEAL"),
                    "Seal and cap defects per 100 cases",
                    "count",
                    0.8,
                    None,
                    None,
                    C,
                    1,
                ),
            ]
        } else {
            let nominal = if l.product == "KIT-M50" {
                640.0
            } else {
                1150.0
            };
            vec![
                characteristic(
                    &format!("{code}-KITWT"),
                    "Kit gross weight",
                    "g",
                    nominal,
                    Some(nominal - 25.0),
                    Some(nominal + 25.0),
                    Imr,
                    1,
                ),
                characteristic(
                    &format!("{code}-MISSING"),
                    "Kits with a missing or wrong item, per 50 checked",
                    "count",
                    0.2,
                    None,
                    None,
                    Np,
                    1,
                ),
            ]
        };
        plans.push(InspectionPlan {
            id: l.plan.into(),
            name: format!("{} packaging: fill weight and defects", l.product),
            material: l.product.into(),
            characteristics: chars,
        });
    }
    plans
}

/// Product, routing, order count, first and last release day, quantity min, max and step,
/// lead time in days.
type MixRow = (
    &'static str,
    &'static str,
    usize,
    f64,
    f64,
    f64,
    f64,
    f64,
    f64,
);

/// A customer order before it gets its id.
struct Draft {
    product: &'static str,
    routing: &'static str,
    quantity: f64,
    release: Timestamp,
    due: Timestamp,
    priority: Priority,
    customer: Option<String>,
}

const CUSTOMERS: &[&str] = &[
    "Hollmann Fensterbau GmbH",
    "Nordic Marine Composites AS",
    "Alpine Composites AG",
    "Vertex Electronics Ltd",
    "Brightline Automotive s.r.o.",
    "Kestrel Aerospace Structures",
    "Delta Joinery Supplies BV",
    "Baltic Wind Blades SIA",
    "Meridian Medical Devices Inc",
    "Castell Flooring SA",
    "Orbis Rail Interiors GmbH",
    "Pacific Signage Co",
];

fn order_book(plant: &Plant) -> Vec<ProductionOrder> {
    let start = ts(BOOK_START);
    let mut rng = Rng::derive(2026, "reference-order-book");
    let mut drafts: Vec<Draft> = Vec::new();
    // (product, routing, count, first day, last day, qty min, qty max, step, lead days)
    let customer_mix: &[MixRow] = &[
        (
            "FIN-ER500",
            "RCP-ER500",
            8,
            0.2,
            12.5,
            4000.0,
            4000.0,
            1.0,
            4.0,
        ),
        (
            "FIN-PC600",
            "RCP-PC600",
            7,
            0.3,
            12.5,
            3000.0,
            3000.0,
            1.0,
            4.0,
        ),
        (
            "DSP-P400", "RTG-P400", 12, 1.5, 12.0, 60.0, 220.0, 20.0, 5.0,
        ),
        (
            "DSP-P600", "RTG-P600", 10, 1.8, 12.0, 40.0, 160.0, 20.0, 6.0,
        ),
        (
            "CRT-EA100-50",
            "RUN-CRT-EA100-50",
            14,
            1.6,
            12.5,
            300.0,
            800.0,
            50.0,
            4.0,
        ),
        (
            "CRT-EA220-400",
            "RUN-CRT-EA220-400",
            9,
            1.8,
            12.5,
            150.0,
            400.0,
            25.0,
            5.0,
        ),
        (
            "CRT-PU300-310",
            "RUN-CRT-PU300-310",
            11,
            1.6,
            12.5,
            200.0,
            600.0,
            50.0,
            4.0,
        ),
        (
            "CRT-AC410-50",
            "RUN-CRT-AC410-50",
            9,
            1.8,
            12.5,
            200.0,
            600.0,
            50.0,
            4.0,
        ),
        (
            "KIT-M50",
            "RUN-KIT-M50",
            12,
            3.5,
            12.5,
            80.0,
            300.0,
            20.0,
            5.0,
        ),
        (
            "KIT-M200",
            "RUN-KIT-M200",
            10,
            3.6,
            12.5,
            60.0,
            240.0,
            20.0,
            5.0,
        ),
    ];
    for &(product, routing, count, first, last, qmin, qmax, qstep, lead) in customer_mix {
        for k in 0..count {
            // Spread releases evenly with jitter, inside the working day.
            let slot = first + (last - first) * (k as f64 + rng.uniform()) / count as f64;
            let day = slot.floor();
            let minute = 360.0 + (rng.below(48) as f64) * 15.0;
            let release = start.plus_minutes(day * DAY_MIN + minute);
            let steps = ((qmax - qmin) / qstep).round() as u64 + 1;
            let quantity = qmin + qstep * rng.below(steps) as f64;
            let lead = lead + rng.below(3) as f64 * 0.5;
            let due = release.plus_minutes(lead * DAY_MIN);
            let due = Timestamp(due.0 - due.0.rem_euclid(3_600_000)).plus_minutes(60.0 * 16.0);
            let p = rng.uniform();
            let priority = if p < 0.15 {
                Priority::High
            } else if p < 0.75 {
                Priority::Medium
            } else {
                Priority::Low
            };
            let customer = rng.pick(CUSTOMERS).to_string();
            drafts.push(Draft {
                product,
                routing,
                quantity,
                release,
                due,
                priority,
                customer: Some(customer),
            });
        }
    }
    // Kits need dispensers assembled first: one make-to-order dispenser order per kit order.
    let mut chained = Vec::new();
    for d in &drafts {
        let (product, routing) = match d.product {
            "KIT-M50" => ("DSP-M50", "RTG-M50"),
            "KIT-M200" => ("DSP-M200", "RTG-M200"),
            _ => continue,
        };
        let quantity = (d.quantity * 1.04 / 10.0).ceil() * 10.0;
        let release = Timestamp(d.release.0.max(start.0) - 3 * 86_400_000);
        let release = if release < start { start } else { release };
        chained.push(Draft {
            product,
            routing,
            quantity,
            release,
            due: d.release,
            priority: d.priority,
            customer: None,
        });
    }
    drafts.extend(chained);
    // Intermediate resins: make batches ahead of the consumers' releases.
    let routings: BTreeMap<&str, &Routing> = plant
        .routings
        .iter()
        .map(|r| (r.product.as_str(), r))
        .collect();
    let mut demand: BTreeMap<&str, Vec<(Timestamp, f64)>> = BTreeMap::new();
    for d in &drafts {
        let routing = routings[d.product];
        for s in &routing.steps {
            for u in &s.consumes {
                if u.material.as_str().starts_with("RES-") {
                    let key: &str = RECIPES
                        .iter()
                        .find(|r| r.product == u.material.as_str())
                        .map(|r| r.product)
                        .expect("resin has a recipe");
                    demand
                        .entry(key)
                        .or_default()
                        .push((d.release, u.per_unit * d.quantity * 1.03));
                }
            }
        }
    }
    let mut batches = Vec::new();
    for recipe in RECIPES.iter().filter(|r| r.product.starts_with("RES-")) {
        let Some(points) = demand.get_mut(recipe.product) else {
            continue;
        };
        points.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let good = recipe.batch * recipe.yield_;
        let (mut supplied, mut needed) = (0.0, 0.0);
        for &(time, qty) in points.iter() {
            needed += qty;
            while supplied < needed + 0.15 * good {
                let due = time.plus_minutes(-6.0 * 60.0);
                let release = due.plus_minutes(-36.0 * 60.0);
                let release = if release < start { start } else { release };
                let due = if due.minutes_since(release) < 16.0 * 60.0 {
                    release.plus_minutes(16.0 * 60.0)
                } else {
                    due
                };
                let priority = if due.minutes_since(release) < 30.0 * 60.0 {
                    Priority::High
                } else {
                    Priority::Medium
                };
                batches.push(Draft {
                    product: recipe.product,
                    routing: recipe.routing,
                    quantity: recipe.batch,
                    release,
                    due,
                    priority,
                    customer: None,
                });
                supplied += good;
            }
        }
    }
    drafts.extend(batches);
    drafts.sort_by(|a, b| {
        a.release
            .cmp(&b.release)
            .then(a.due.cmp(&b.due))
            .then(a.product.cmp(b.product))
    });
    drafts
        .into_iter()
        .enumerate()
        .map(|(i, d)| ProductionOrder {
            id: format!("MO-{}", 260_001 + i).into(),
            product: d.product.into(),
            routing: d.routing.into(),
            quantity: d.quantity,
            release: d.release,
            due: d.due,
            priority: d.priority,
            customer: d.customer,
        })
        .collect()
}
