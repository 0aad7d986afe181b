//! The CBV 2.0 vocabularies the rules hold bare terms to, and the other term lists of the JSON schema.

/// The CBV 2.0 business steps.
pub const CBV_BIZ_STEPS: [&str; 41] = [
    "accepting",
    "arriving",
    "assembling",
    "collecting",
    "commissioning",
    "consigning",
    "creating_class_instance",
    "cycle_counting",
    "decommissioning",
    "departing",
    "destroying",
    "disassembling",
    "dispensing",
    "encoding",
    "entering_exiting",
    "holding",
    "inspecting",
    "installing",
    "killing",
    "loading",
    "other",
    "packing",
    "picking",
    "receiving",
    "removing",
    "repackaging",
    "repairing",
    "replacing",
    "reserving",
    "retail_selling",
    "sampling",
    "sensor_reporting",
    "shipping",
    "staging_outbound",
    "stock_taking",
    "stocking",
    "storing",
    "transporting",
    "unloading",
    "unpacking",
    "void_shipping",
];

/// The CBV 2.0 dispositions.
pub const CBV_DISPOSITIONS: [&str; 33] = [
    "active",
    "available",
    "completeness_inferred",
    "completeness_verified",
    "conformant",
    "container_closed",
    "container_open",
    "damaged",
    "destroyed",
    "dispensed",
    "disposed",
    "encoded",
    "expired",
    "in_progress",
    "in_transit",
    "inactive",
    "mismatch_class",
    "mismatch_instance",
    "mismatch_quantity",
    "needs_replacement",
    "no_pedigree_match",
    "non_conformant",
    "non_sellable_other",
    "partially_dispensed",
    "recalled",
    "reserved",
    "retail_sold",
    "returned",
    "sellable_accessible",
    "sellable_not_accessible",
    "stolen",
    "unavailable",
    "unknown",
];

/// The terms of a CBV vocabulary, with its URN and Web URI prefixes.
pub(super) struct Terms {
    pub(super) rule: &'static str,
    pub(super) terms: &'static [&'static str],
    pub(super) urn: &'static str,
    pub(super) web: &'static str,
}

pub(super) const BIZ_STEP: Terms = Terms {
    rule: "cbv-bizstep",
    terms: &CBV_BIZ_STEPS,
    urn: "urn:epcglobal:cbv:bizstep:",
    web: "https://ref.gs1.org/cbv/BizStep-",
};

pub(super) const DISPOSITION: Terms = Terms {
    rule: "cbv-disposition",
    terms: &CBV_DISPOSITIONS,
    urn: "urn:epcglobal:cbv:disp:",
    web: "https://ref.gs1.org/cbv/Disp-",
};

/// The types of a business transaction the JSON schema names
/// (`bizTransaction-type-JSON-Schema.json`).
pub(super) const BIZ_TRANSACTION_TYPE: Terms = Terms {
    rule: "value-format",
    terms: &[
        "bol",
        "cert",
        "desadv",
        "inv",
        "pedigree",
        "po",
        "poc",
        "prodorder",
        "recadv",
        "rma",
        "testprd",
        "testres",
        "upevt",
    ],
    urn: "urn:epcglobal:cbv:btt:",
    web: "https://ref.gs1.org/cbv/BTT-",
};

/// The source and destination types (`source-dest-type-JSON-Schema.json`).
pub(super) const SOURCE_DEST_TYPE: Terms = Terms {
    rule: "value-format",
    terms: &["owning_party", "possessing_party", "location"],
    urn: "urn:epcglobal:cbv:sdt:",
    web: "https://ref.gs1.org/cbv/SDT-",
};

/// The reasons of an error declaration (`error-reason-JSON-Schema.json`).
pub(super) const ERROR_REASON: Terms = Terms {
    rule: "value-format",
    terms: &["did_not_occur", "incorrect_data"],
    urn: "urn:epcglobal:cbv:er:",
    web: "https://ref.gs1.org/cbv/ER-",
};
