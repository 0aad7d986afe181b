//! Properties of the BatchML reader on recipes generated with a known answer: however the
//! elements are ordered in the document, the steps come in the order the procedure logic
//! links them, each timed by the sum of its phases' times.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::OnceLock;

use isa95::{RecipeOptions, routing_from_master_recipe};
use model::{Catalog, StepDuration};
use proptest::prelude::*;

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog::new(sim::reference_plant()).unwrap())
}

/// A phase's time: a value and its unit, with the minutes it stands for.
const UNITS: [(&str, f64); 3] = [("second", 1.0 / 60.0), ("minute", 1.0), ("hour", 60.0)];

/// One operation: its phases' (value, unit index).
type Operation = Vec<(u32, usize)>;

/// The elements of `children` linked in this order through `Begin`/`End` and a transition
/// between each pair, written to the document in the order `written` gives.
fn logic_and_elements(
    prefix: &str,
    children: &[(String, String)],
    written: &[usize],
) -> (String, String) {
    let mut logic = String::from("<ProcedureLogic>");
    let mut chain = vec![format!("{prefix}-begin")];
    chain.extend(children.iter().map(|(id, _)| format!("{id}-step")));
    chain.push(format!("{prefix}-end"));
    for (k, pair) in chain.windows(2).enumerate() {
        let transition = format!("{prefix}-t{k}");
        write!(
            logic,
            "<Link><ID>{prefix}-l{k}a</ID><FromID><FromIDValue>{}</FromIDValue></FromID><ToID><ToIDValue>{transition}</ToIDValue></ToID><LinkType>ControlLink</LinkType><Depiction>Line</Depiction></Link>\
             <Link><ID>{prefix}-l{k}b</ID><FromID><FromIDValue>{transition}</FromIDValue></FromID><ToID><ToIDValue>{}</ToIDValue></ToID><LinkType>ControlLink</LinkType><Depiction>Line</Depiction></Link>",
            pair[0], pair[1]
        )
        .unwrap();
    }
    // Steps and transitions are listed in the written order too, so document order says
    // nothing about the logic's order.
    let mut steps = vec![
        (format!("{prefix}-begin"), format!("{prefix}-B")),
        (format!("{prefix}-end"), format!("{prefix}-E")),
    ];
    steps.extend(
        written
            .iter()
            .map(|k| (format!("{}-step", children[*k].0), children[*k].0.clone())),
    );
    for (step, element) in &steps {
        write!(logic, "<Step><ID>{step}</ID><RecipeElementID>{element}</RecipeElementID><RecipeElementVersion/></Step>").unwrap();
    }
    for k in (0..chain.len() - 1).rev() {
        write!(
            logic,
            "<Transition><ID>{prefix}-t{k}</ID><Condition>TRUE</Condition></Transition>"
        )
        .unwrap();
    }
    logic.push_str("</ProcedureLogic>");
    let mut elements = format!(
        "<RecipeElement><ID>{prefix}-E</ID><RecipeElementType>End</RecipeElementType></RecipeElement>"
    );
    for k in written {
        elements.push_str(&children[*k].1);
    }
    elements.push_str(&format!(
        "<RecipeElement><ID>{prefix}-B</ID><RecipeElementType>Begin</RecipeElementType></RecipeElement>"
    ));
    (logic, elements)
}

/// A master recipe of `unit_procedures` (each a list of operations), every list written in
/// the document in the order `shuffle` permutes it to; the expected step names and minutes.
fn recipe(unit_procedures: &[Vec<Operation>], shuffle: u64) -> (String, Vec<(String, f64)>) {
    let permuted = |n: usize, salt: u64| -> Vec<usize> {
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|k| (*k as u64 + 1).wrapping_mul(shuffle.wrapping_add(salt) | 1) % 97);
        order
    };
    let mut expected = Vec::new();
    let mut procedures = Vec::new();
    for (u, operations) in unit_procedures.iter().enumerate() {
        let mut ops = Vec::new();
        for (o, phases) in operations.iter().enumerate() {
            let name = format!("Op {u}.{o}");
            let mut minutes = 0.0;
            let mut phase_elements = Vec::new();
            for (p, (value, unit)) in phases.iter().enumerate() {
                let (unit_name, per) = UNITS[*unit];
                minutes += f64::from(*value) * per;
                phase_elements.push((
                    format!("ph{u}-{o}-{p}"),
                    format!(
                        "<RecipeElement><ID>ph{u}-{o}-{p}</ID><Description>Phase {p}</Description><RecipeElementType>Phase</RecipeElementType>\
                         <Parameter><ID>1</ID><Description>TIME</Description><ParameterType>ProcessParameter</ParameterType><Value><ValueString>{value}</ValueString><DataInterpretation>Constant</DataInterpretation><DataType>integer</DataType><UnitOfMeasure>{unit_name}</UnitOfMeasure></Value></Parameter></RecipeElement>"
                    ),
                ));
            }
            let (logic, elements) = logic_and_elements(
                &format!("o{u}-{o}"),
                &phase_elements,
                &permuted(phase_elements.len(), 7 + o as u64),
            );
            ops.push((
                format!("op{u}-{o}"),
                format!(
                    "<RecipeElement><ID>op{u}-{o}</ID><Description>{name}</Description><RecipeElementType>Operation</RecipeElementType>{logic}{elements}</RecipeElement>"
                ),
            ));
            expected.push((name, if phases.is_empty() { 30.0 } else { minutes }));
        }
        let (logic, elements) =
            logic_and_elements(&format!("u{u}"), &ops, &permuted(ops.len(), 3 + u as u64));
        procedures.push((
            format!("up{u}"),
            format!(
                "<RecipeElement><ID>up{u}</ID><Description>Unit {u}</Description><RecipeElementType>UnitProcedure</RecipeElementType>\
                 <EquipmentRequirement><ID>eq{u}</ID><Constraint><ID>c{u}</ID><Condition>Unit Class = WC-RX</Condition></Constraint></EquipmentRequirement>{logic}{elements}</RecipeElement>"
            ),
        ));
    }
    let (logic, elements) = logic_and_elements("p", &procedures, &permuted(procedures.len(), 11));
    let text = format!(
        "<?xml version=\"1.0\"?><BatchInformation xmlns=\"http://www.wbf.org/xml/BatchML-V02\"><MasterRecipe><ID>R</ID>\
         <ProcedureLogic><Step><ID>s</ID><RecipeElementID>P</RecipeElementID><RecipeElementVersion/></Step></ProcedureLogic>\
         <RecipeElement><ID>P</ID><Description>Procedure</Description><RecipeElementType>Procedure</RecipeElementType>{logic}{elements}</RecipeElement>\
         </MasterRecipe></BatchInformation>"
    );
    (text, expected)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn steps_follow_the_procedure_logic_whatever_the_document_order(
        unit_procedures in prop::collection::vec(
            prop::collection::vec(prop::collection::vec((1u32..500, 0usize..3), 0..4), 1..4),
            1..4,
        ),
        shuffle in any::<u64>(),
    ) {
        let (text, expected) = recipe(&unit_procedures, shuffle);
        let options = RecipeOptions {
            product: Some("RES-EA100".into()),
            default_step_minutes: Some(30.0),
            equipment: BTreeMap::new(),
            ..RecipeOptions::default()
        };
        let import = routing_from_master_recipe(&text, catalog(), &options).unwrap();
        let read: Vec<(String, f64)> = import
            .routing
            .steps
            .iter()
            .map(|s| {
                let StepDuration::Fixed { minutes } = s.alternatives[0].duration else {
                    panic!("a recipe step has a fixed duration");
                };
                (s.name.clone(), minutes)
            })
            .collect();
        prop_assert_eq!(read.len(), expected.len());
        for ((name, minutes), (want_name, want_minutes)) in read.iter().zip(&expected) {
            prop_assert_eq!(name, want_name);
            prop_assert!((minutes - want_minutes).abs() < 1e-9, "{name}: {minutes} != {want_minutes}");
        }
    }
}
