//! A BatchML master recipe (ISA-88) as a mixplane process routing.
//!
//! The recipe's procedure holds unit procedures, each holding operations, each holding
//! phases (`RecipeElement`s typed `Procedure`, `UnitProcedure`, `Operation`, `Phase`; their
//! order within a parent is its `ProcedureLogic`: `Step`s naming elements, joined by `Link`s
//! from `Begin` to `End` through `Transition`s). A recipe becomes one [`Routing`] in
//! [`Mode::Process`]:
//!
//! - one step per operation, in procedure order (unit procedure by unit procedure, each one's
//!   operations in its logic's order — a routing is a chain, so parallel branches run one
//!   after the other, in the order the links leaving their split are listed; an element no
//!   link reaches, or one on a loop, comes after the others in document order); a unit
//!   procedure without operations is one step itself; the step's name is the element's
//!   first `Description`, else its `ID`;
//! - the units that can run a step: its unit procedure's unit class, which mixplane calls a
//!   work center (every unit of it can run the step) or a single unit, given by the caller
//!   for the unit procedure's `ID` or description ([`RecipeOptions::equipment`]) or else by
//!   the unit procedure's (or its operation's) `EquipmentRequirement/Constraint/Condition`
//!   (`<anything> = <id>` or the id alone);
//! - the step's duration: the sum of its phases' parameters whose unit of measure is a time
//!   (seconds, minutes, hours), as a fixed duration; an operation with none takes
//!   [`RecipeOptions::default_step_minutes`], or is refused naming it;
//! - its parameters: every other phase parameter with a numeric value, named
//!   `<phase>: <parameter>`, target, low and high the value (a master recipe gives no window);
//! - batch size: `Header/BatchSize/Nominal`; product: `Header/ProductID` or the caller's;
//!   routing id: the caller's, else the recipe's `ID`.
//!
//! Materials named by phase parameters are enumeration names, not plant material ids, so no
//! consumption is derived. Element names follow MESAInternational/B2MML-BatchML @ 65cc665,
//! `Schema/BatchML-BatchInformation.xsd` (`MasterRecipeType`, `RecipeElementType`,
//! `ProcedureLogicType`, `LinkType`, `StepType`, `BatchParameterType`, `BatchValueType`,
//! `BatchEquipmentRequirementType`), which BatchML V02 and V0401 documents share.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use model::{
    Catalog, MaterialId, Mode, ProcessParameter, Routing, RoutingId, Step, StepAlternative,
    StepDuration, UnitId, WorkCenterId,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use trace::xml::{Document, Element, parse as parse_xml};

use crate::error::Isa95Error;

/// The BatchML namespaces read.
pub const NAMESPACES: [&str; 4] = [
    "http://www.wbf.org/xml/BatchML-V02",
    "http://www.wbf.org/xml/BatchML-V0401",
    "http://www.mesa.org/xml/BatchML-V0600",
    "http://www.mesa.org/xml/B2MML",
];

/// What the caller adds to a recipe.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RecipeOptions {
    /// The routing's id; the recipe's `ID` when none.
    #[serde(default)]
    pub routing: Option<RoutingId>,
    /// The product; the header's `ProductID` when none.
    #[serde(default)]
    pub product: Option<MaterialId>,
    /// Unit procedure (`ID` or description) → work center or unit that runs it.
    #[serde(default)]
    pub equipment: BTreeMap<String, String>,
    /// Minutes of an operation whose phases give no time.
    #[serde(default)]
    pub default_step_minutes: Option<f64>,
}

/// A routing read from a recipe, and where each step came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RecipeImport {
    pub routing: Routing,
    pub origins: Vec<StepOrigin>,
}

/// The recipe elements behind one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StepOrigin {
    pub unit_procedure: String,
    /// The operation's `ID` (the unit procedure's, when it has no operations).
    pub element: String,
    pub phases: Vec<String>,
    /// Whether the duration came from phase parameters (else from the caller's default).
    pub timed_by_phases: bool,
}

/// Reads the master recipe in `text` as a routing of the plant `catalog`.
pub fn routing_from_master_recipe(
    text: &str,
    catalog: &Catalog,
    options: &RecipeOptions,
) -> Result<RecipeImport, Isa95Error> {
    let doc = parse_xml(text)?;
    let recipe = the_master_recipe(&doc)?;
    let recipe_id = recipe.child_text("ID").unwrap_or("");
    let routing_id = options
        .routing
        .clone()
        .or_else(|| (!recipe_id.is_empty()).then(|| RoutingId::from(recipe_id)))
        .ok_or_else(|| {
            Isa95Error::document("MasterRecipe.ID", "missing, and no routing id given")
        })?;
    let header = recipe.child("Header");
    let product = product_of(header, catalog, options)?;
    let batch_size = batch_size_of(header)?;
    let procedures: Vec<&Element> = ordered_children(recipe)
        .into_iter()
        .filter(|e| element_type(e) == "Procedure")
        .collect();
    let [procedure] = procedures.as_slice() else {
        return Err(Isa95Error::document(
            "MasterRecipe.RecipeElement",
            format!(
                "a master recipe holds one Procedure element, this one {}",
                procedures.len()
            ),
        ));
    };
    let mut steps = Vec::new();
    let mut origins = Vec::new();
    for unit_procedure in ordered_children(procedure)
        .into_iter()
        .filter(|e| element_type(e) == "UnitProcedure")
    {
        let units = unit_procedure_units(unit_procedure, catalog, options)?;
        let operations: Vec<&Element> = ordered_children(unit_procedure)
            .into_iter()
            .filter(|e| element_type(e) == "Operation")
            .collect();
        let runs = if operations.is_empty() {
            vec![unit_procedure]
        } else {
            operations
        };
        for element in runs {
            let (step, origin) = step_of(unit_procedure, element, &units, options)?;
            steps.push(step);
            origins.push(origin);
        }
    }
    if steps.is_empty() {
        return Err(Isa95Error::recipe(
            describe(procedure),
            "RecipeElement",
            "the procedure holds no unit procedure",
        ));
    }
    let routing = Routing {
        id: routing_id,
        product,
        mode: Mode::Process,
        batch_size,
        expected_yield: 1.0,
        steps,
    };
    Ok(RecipeImport { routing, origins })
}

/// The one master recipe of a BatchML document in a namespace this reader takes.
fn the_master_recipe(doc: &Document) -> Result<&Element, Isa95Error> {
    let root = &doc.root;
    let prefix = root.name.split_once(':').map_or("", |(p, _)| p);
    let namespace = doc.namespaces.get(prefix).map(String::as_str).unwrap_or("");
    if !NAMESPACES.contains(&namespace) {
        return Err(Isa95Error::document(
            "xmlns",
            format!("`{namespace}` is not a BatchML namespace (V02, V0401, V0600 or V0700)"),
        ));
    }
    let recipes: Vec<&Element> = match root.local() {
        "MasterRecipe" => vec![root],
        "BatchInformation" => root.children_named("MasterRecipe").collect(),
        other => {
            return Err(Isa95Error::document(
                other,
                "not a master recipe (expected MasterRecipe, alone or in BatchInformation)",
            ));
        }
    };
    match recipes.as_slice() {
        [one] => Ok(one),
        [] => Err(Isa95Error::document(
            "MasterRecipe",
            "the document holds none",
        )),
        _ => Err(Isa95Error::document(
            "MasterRecipe",
            format!("the document holds {}; send one at a time", recipes.len()),
        )),
    }
}

/// The product: the caller's, else the header's `ProductID`; a material of the plant.
fn product_of(
    header: Option<&Element>,
    catalog: &Catalog,
    options: &RecipeOptions,
) -> Result<MaterialId, Isa95Error> {
    let product = options
        .product
        .clone()
        .or_else(|| {
            header
                .and_then(|h| h.child_text("ProductID"))
                .filter(|p| !p.is_empty())
                .map(MaterialId::from)
        })
        .ok_or_else(|| Isa95Error::document("Header.ProductID", "missing, and no product given"))?;
    if catalog.material(&product).is_none() {
        return Err(Isa95Error::document(
            "Header.ProductID",
            format!("`{product}` is not a material of the plant"),
        ));
    }
    Ok(product)
}

/// `Header/BatchSize/Nominal`, when given: a positive number.
fn batch_size_of(header: Option<&Element>) -> Result<Option<f64>, Isa95Error> {
    let Some(text) = header
        .and_then(|h| h.child("BatchSize"))
        .and_then(|b| b.child_text("Nominal"))
        .filter(|n| !n.is_empty())
    else {
        return Ok(None);
    };
    text.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v > 0.0)
        .map(Some)
        .ok_or_else(|| {
            Isa95Error::document(
                "Header.BatchSize.Nominal",
                format!("`{text}` is not a positive number"),
            )
        })
}

fn element_type(element: &Element) -> &str {
    element.child_text("RecipeElementType").unwrap_or("")
}

/// `ID` and first description, for messages.
fn describe(element: &Element) -> String {
    let id = element.child_text("ID").unwrap_or("?");
    match element.child_text("Description").filter(|d| !d.is_empty()) {
        Some(description) => format!("{} `{description}` (ID {id})", element_type(element)),
        None => format!("{} (ID {id})", element_type(element)),
    }
}

fn name_of(element: &Element) -> String {
    element
        .child_text("Description")
        .filter(|d| !d.is_empty())
        .or_else(|| element.child_text("ID"))
        .unwrap_or("")
        .to_owned()
}

/// The recipe elements of `parent` in the order of its procedure logic (see the module doc).
fn ordered_children(parent: &Element) -> Vec<&Element> {
    let children: Vec<&Element> = parent.children_named("RecipeElement").collect();
    let by_id: BTreeMap<&str, usize> = children
        .iter()
        .enumerate()
        .filter_map(|(k, e)| e.child_text("ID").map(|id| (id, k)))
        .collect();
    let Some(logic) = parent.child("ProcedureLogic") else {
        return children;
    };
    // Nodes are step and transition ids; a step stands for the element it names.
    let step_element: BTreeMap<&str, usize> = logic
        .children_named("Step")
        .filter_map(|s| {
            let element = by_id.get(s.child_text("RecipeElementID")?)?;
            Some((s.child_text("ID")?, *element))
        })
        .collect();
    // Links join steps and transitions, and also bare ids (the bars where parallel branches
    // split and join), which are nodes too.
    let links: Vec<(&str, &str)> = logic
        .children_named("Link")
        .filter_map(|link| {
            let from = link.child("FromID")?.child_text("FromIDValue")?;
            let to = link.child("ToID")?.child_text("ToIDValue")?;
            Some((from, to))
        })
        .collect();
    let mut rank: BTreeMap<&str, usize> = BTreeMap::new();
    let named = logic
        .children_named("Step")
        .chain(logic.children_named("Transition"))
        .filter_map(|n| n.child_text("ID"));
    for node in named.chain(links.iter().flat_map(|(from, to)| [*from, *to])) {
        let next = rank.len();
        rank.entry(node).or_insert(next);
    }
    let mut successors: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut incoming: BTreeMap<&str, usize> = rank.keys().map(|n| (*n, 0)).collect();
    for (from, to) in links {
        if let Some(count) = incoming.get_mut(to) {
            *count += 1;
        }
        successors.entry(from).or_default().push(to);
    }
    // Kahn's order with a queue: the nodes without predecessors in document order, then each
    // node's successors in the order its links are listed once all their predecessors are
    // placed, so parallel branches come in the order their split lists them.
    let mut starts: Vec<(usize, &str)> = incoming
        .iter()
        .filter(|(_, count)| **count == 0)
        .map(|(node, _)| (rank[node], *node))
        .collect();
    starts.sort();
    let mut ready: VecDeque<&str> = starts.into_iter().map(|(_, node)| node).collect();
    let mut placed = BTreeSet::new();
    let mut order = Vec::new();
    while let Some(node) = ready.pop_front() {
        if let Some(&element) = step_element.get(node)
            && placed.insert(element)
        {
            order.push(element);
        }
        for next in successors.get(node).into_iter().flatten() {
            if let Some(count) = incoming.get_mut(next) {
                *count -= 1;
                if *count == 0 {
                    ready.push_back(next);
                }
            }
        }
    }
    for k in 0..children.len() {
        if placed.insert(k) {
            order.push(k);
        }
    }
    order.into_iter().map(|k| children[k]).collect()
}

/// The units that can run the steps of `unit_procedure` (see the module doc).
fn unit_procedure_units(
    unit_procedure: &Element,
    catalog: &Catalog,
    options: &RecipeOptions,
) -> Result<Vec<UnitId>, Isa95Error> {
    let id = unit_procedure.child_text("ID").unwrap_or("");
    let given = options.equipment.get(id).or_else(|| {
        unit_procedure
            .children_named("Description")
            .find_map(|d| options.equipment.get(d.text.trim()))
    });
    let (field, class) = match given {
        Some(class) => ("equipment option", class.clone()),
        None => {
            let condition = std::iter::once(unit_procedure)
                .chain(unit_procedure.children_named("RecipeElement"))
                .flat_map(|e| e.children_named("EquipmentRequirement"))
                .flat_map(|r| r.children_named("Constraint"))
                .filter_map(|c| c.child_text("Condition"))
                .find(|c| !c.is_empty());
            let condition = condition.ok_or_else(|| {
                Isa95Error::recipe(
                    describe(unit_procedure),
                    "EquipmentRequirement",
                    "names no equipment: map the unit procedure to a work center or unit",
                )
            })?;
            let class = condition.rsplit('=').next().unwrap_or(condition).trim();
            (
                "EquipmentRequirement.Constraint.Condition",
                class.trim_matches(|c| c == '"' || c == '\'').to_owned(),
            )
        }
    };
    let work_center = WorkCenterId::from(class.as_str());
    let unit = UnitId::from(class.as_str());
    let mode = catalog
        .work_center(&work_center)
        .map(|w| w.mode)
        .or_else(|| catalog.unit_mode(&unit));
    if let Some(mode) = mode
        && mode != Mode::Process
    {
        return Err(Isa95Error::recipe(
            describe(unit_procedure),
            field,
            format!(
                "`{class}` runs in {} mode; a recipe's steps run on process units",
                mode.as_str()
            ),
        ));
    }
    if catalog.work_center(&work_center).is_some() {
        let units: Vec<UnitId> = catalog
            .plant()
            .units
            .iter()
            .filter(|u| u.work_center == work_center)
            .map(|u| u.id.clone())
            .collect();
        if units.is_empty() {
            return Err(Isa95Error::recipe(
                describe(unit_procedure),
                field,
                format!("work center `{class}` has no units"),
            ));
        }
        return Ok(units);
    }
    if catalog.unit(&unit).is_some() {
        return Ok(vec![unit]);
    }
    Err(Isa95Error::recipe(
        describe(unit_procedure),
        field,
        format!("`{class}` is neither a work center nor a unit of the plant"),
    ))
}

/// Minutes in one `unit` of time, when `unit` names one.
fn minutes_per(unit: &str) -> Option<f64> {
    match unit.trim().to_ascii_lowercase().as_str() {
        "s" | "sec" | "secs" | "second" | "seconds" => Some(1.0 / 60.0),
        "min" | "mins" | "minute" | "minutes" => Some(1.0),
        "h" | "hr" | "hrs" | "hour" | "hours" => Some(60.0),
        _ => None,
    }
}

/// A parameter's numeric value and unit of measure, when it has a numeric value.
fn numeric_value(parameter: &Element) -> Option<(f64, String)> {
    let value = parameter.child("Value")?;
    let number = value
        .child_text("ValueString")?
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())?;
    let uom = value
        .child_text("UnitOfMeasure")
        .filter(|u| !u.eq_ignore_ascii_case("NULL"))
        .unwrap_or("")
        .to_owned();
    Some((number, uom))
}

/// One routing step from an operation (or a unit procedure without operations).
fn step_of(
    unit_procedure: &Element,
    element: &Element,
    units: &[UnitId],
    options: &RecipeOptions,
) -> Result<(Step, StepOrigin), Isa95Error> {
    let phases: Vec<&Element> = ordered_children(element)
        .into_iter()
        .filter(|e| element_type(e) == "Phase")
        .collect();
    let mut minutes = 0.0;
    let mut timed = false;
    let mut parameters = Vec::new();
    let owners = std::iter::once(element).chain(phases.iter().copied());
    for owner in owners {
        for parameter in owner.children_named("Parameter") {
            let Some((value, uom)) = numeric_value(parameter) else {
                continue;
            };
            if let Some(per) = minutes_per(&uom) {
                if value < 0.0 {
                    return Err(Isa95Error::recipe(
                        describe(owner),
                        "Parameter.Value.ValueString",
                        format!("a negative time {value} {uom}"),
                    ));
                }
                minutes += value * per;
                timed = true;
                continue;
            }
            parameters.push(ProcessParameter {
                name: format!("{}: {}", name_of(owner), name_of(parameter)),
                uom,
                target: value,
                low: value,
                high: value,
            });
        }
    }
    if timed && !(minutes.is_finite() && minutes > 0.0) {
        return Err(Isa95Error::recipe(
            describe(element),
            "Parameter.Value.ValueString",
            format!("the phases' times add up to {minutes} minutes; a step takes some time"),
        ));
    }
    if !timed {
        minutes = match options.default_step_minutes {
            Some(m) if m.is_finite() && m > 0.0 => m,
            _ => {
                return Err(Isa95Error::recipe(
                    describe(element),
                    "Parameter",
                    "no phase parameter gives a time (seconds, minutes or hours): give a default step duration",
                ));
            }
        };
    }
    let step = Step {
        name: name_of(element),
        alternatives: units
            .iter()
            .map(|unit| StepAlternative {
                unit: unit.clone(),
                duration: StepDuration::Fixed { minutes },
            })
            .collect(),
        pools: Vec::new(),
        consumes: Vec::new(),
        parameters,
        max_wait_minutes: None,
        inspection: None,
    };
    let origin = StepOrigin {
        unit_procedure: name_of(unit_procedure),
        element: element.child_text("ID").unwrap_or("").to_owned(),
        phases: phases.iter().map(|p| name_of(p)).collect(),
        timed_by_phases: timed,
    };
    Ok((step, origin))
}
