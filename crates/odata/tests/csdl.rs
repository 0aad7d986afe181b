//! CSDL: the `$metadata` XML read back with an XML parser (well-formed, the elements and
//! attributes of an OData v4.0 document, escaping that round-trips), model validation, the
//! service document and the error body.

use odata::csdl::{
    Action, ComplexType, CsdlError, EntitySet, EntityType, NavigationProperty,
    NavigationPropertyBinding, ODataError, Property, Schema, escape_attribute,
};
use odata::{EvalError, QueryError, QueryOptions};
use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::json;

fn schema() -> Schema {
    Schema {
        namespace: "Siemens.SimaticIT.U4DM.AppU4DM".into(),
        container: String::new(),
        entity_types: vec![
            EntityType {
                name: "WorkOrder".into(),
                key: vec!["Id".into()],
                properties: vec![
                    Property::new("Id", "Edm.Guid").required(),
                    Property::new("NId", "Edm.String").required(),
                    Property::new("Quantity", "Edm.Decimal"),
                    Property::new("ModifiedOn", "Edm.DateTimeOffset").required(),
                    Property::new("Tags", "Edm.String").many(),
                    Property::new("Site", "Address"),
                ],
                navigation: vec![NavigationProperty {
                    name: "Operations".into(),
                    target: "WorkOrderOperation".into(),
                    collection: true,
                    nullable: false,
                    partner: Some("WorkOrder".into()),
                }],
            },
            EntityType {
                name: "WorkOrderOperation".into(),
                key: vec!["Id".into()],
                properties: vec![
                    Property::new("Id", "Edm.Guid").required(),
                    Property::new("WorkOrder_Id", "Edm.Guid"),
                ],
                navigation: vec![NavigationProperty {
                    name: "WorkOrder".into(),
                    target: "WorkOrder".into(),
                    collection: false,
                    nullable: false,
                    partner: Some("Operations".into()),
                }],
            },
        ],
        complex_types: vec![ComplexType {
            name: "Address".into(),
            properties: vec![Property::new("City", "Edm.String")],
        }],
        entity_sets: vec![
            EntitySet {
                name: "WorkOrder".into(),
                entity_type: "WorkOrder".into(),
                bindings: vec![NavigationPropertyBinding {
                    path: "Operations".into(),
                    target: "WorkOrderOperation".into(),
                }],
            },
            EntitySet {
                name: "WorkOrderOperation".into(),
                entity_type: "Siemens.SimaticIT.U4DM.AppU4DM.WorkOrderOperation".into(),
                bindings: vec![],
            },
        ],
        actions: vec![Action {
            name: "UADMReleaseWorkOrder".into(),
            parameters: vec![Property::new("WorkOrderId", "Edm.Guid").required()],
            returns: Some(Property::new("Address", "Address")),
        }],
    }
}

/// Every element of the document: its name and its attributes (unescaped), in order.
fn elements(xml: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut reader = Reader::from_str(xml);
    let mut out = Vec::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) | Event::Empty(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                let attributes = e
                    .attributes()
                    .map(|a| {
                        let a = a.expect("attribute");
                        let key = String::from_utf8(a.key.as_ref().to_vec()).unwrap();
                        (key, a.unescape_value().expect("escaped value").into_owned())
                    })
                    .collect();
                out.push((name, attributes));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

fn attr<'a>(element: &'a (String, Vec<(String, String)>), key: &str) -> Option<&'a str> {
    element
        .1
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[test]
fn metadata_is_csdl_v4_xml() {
    let xml = schema().to_xml().unwrap();
    let els = elements(&xml);
    let names: Vec<&str> = els.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "edmx:Edmx",
            "edmx:DataServices",
            "Schema",
            "EntityType",
            "Key",
            "PropertyRef",
            "Property",
            "Property",
            "Property",
            "Property",
            "Property",
            "Property",
            "NavigationProperty",
            "EntityType",
            "Key",
            "PropertyRef",
            "Property",
            "Property",
            "NavigationProperty",
            "ComplexType",
            "Property",
            "Action",
            "Parameter",
            "ReturnType",
            "EntityContainer",
            "EntitySet",
            "NavigationPropertyBinding",
            "EntitySet",
            "ActionImport",
        ]
    );
    assert_eq!(attr(&els[0], "Version"), Some("4.0"));
    assert_eq!(
        attr(&els[0], "xmlns:edmx"),
        Some("http://docs.oasis-open.org/odata/ns/edmx")
    );
    assert_eq!(
        attr(&els[2], "Namespace"),
        Some("Siemens.SimaticIT.U4DM.AppU4DM")
    );
    assert_eq!(
        attr(&els[2], "xmlns"),
        Some("http://docs.oasis-open.org/odata/ns/edm")
    );
    assert_eq!(attr(&els[5], "Name"), Some("Id"));
    let id = &els[6];
    assert_eq!(
        (attr(id, "Name"), attr(id, "Type"), attr(id, "Nullable")),
        (Some("Id"), Some("Edm.Guid"), Some("false"))
    );
    assert_eq!(attr(&els[8], "Nullable"), None, "nullable is the default");
    assert_eq!(attr(&els[10], "Type"), Some("Collection(Edm.String)"));
    assert_eq!(
        attr(&els[11], "Type"),
        Some("Siemens.SimaticIT.U4DM.AppU4DM.Address")
    );
    let nav = &els[12];
    assert_eq!(
        attr(nav, "Type"),
        Some("Collection(Siemens.SimaticIT.U4DM.AppU4DM.WorkOrderOperation)")
    );
    assert_eq!(
        (attr(nav, "Partner"), attr(nav, "Nullable")),
        (Some("WorkOrder"), None)
    );
    assert_eq!(attr(&els[18], "Nullable"), Some("false"));
    assert_eq!(attr(&els[21], "IsBound"), Some("false"));
    assert_eq!(attr(&els[24], "Name"), Some("Container"));
    assert_eq!(
        attr(&els[25], "EntityType"),
        Some("Siemens.SimaticIT.U4DM.AppU4DM.WorkOrder")
    );
    assert_eq!(
        (attr(&els[26], "Path"), attr(&els[26], "Target")),
        (Some("Operations"), Some("WorkOrderOperation"))
    );
    assert_eq!(
        attr(&els[27], "EntityType"),
        Some("Siemens.SimaticIT.U4DM.AppU4DM.WorkOrderOperation")
    );
    assert_eq!(
        attr(&els[28], "Action"),
        Some("Siemens.SimaticIT.U4DM.AppU4DM.UADMReleaseWorkOrder")
    );
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>"));
}

#[test]
fn attribute_escaping_round_trips_through_an_xml_parser() {
    let nasty = "a&b<c>d\"e'f\ng\th\ri ]]> &amp;";
    let xml = format!("<x v=\"{}\"/>", escape_attribute(nasty));
    let els = elements(&xml);
    assert_eq!(attr(&els[0], "v"), Some(nasty));
    assert_eq!(escape_attribute("a\u{1}b"), "a\u{FFFD}b");
}

#[test]
fn inconsistent_models_are_refused() {
    let mut s = schema();
    s.entity_types[0].key = vec!["Quantity".into()];
    assert!(matches!(s.validate(), Err(CsdlError::BadKey { .. })));
    let mut s = schema();
    s.entity_types[0].key.clear();
    assert!(matches!(s.to_xml(), Err(CsdlError::BadKey { .. })));
    let mut s = schema();
    s.entity_types[0].navigation[0].target = "Nope".into();
    assert!(matches!(s.validate(), Err(CsdlError::Unknown { .. })));
    let mut s = schema();
    s.entity_sets[0].bindings[0].target = "Nope".into();
    assert!(matches!(s.validate(), Err(CsdlError::Unknown { .. })));
    let mut s = schema();
    s.entity_types[0].properties[5].edm_type = "Nope".into();
    assert!(matches!(s.validate(), Err(CsdlError::Unknown { .. })));
    let mut s = schema();
    s.entity_types[1].name = "WorkOrder".into();
    assert!(matches!(s.validate(), Err(CsdlError::Duplicate { .. })));
    let mut s = schema();
    s.actions[0].name = "WorkOrder".into();
    assert!(matches!(s.validate(), Err(CsdlError::Duplicate { .. })));
    let mut s = schema();
    s.entity_types[0].properties[1].name = "N\"Id".into();
    let err = s.validate().unwrap_err();
    assert!(matches!(err, CsdlError::BadName { .. }), "{err}");
    let mut s = schema();
    s.namespace = "Bad..Ns".into();
    assert!(matches!(s.validate(), Err(CsdlError::BadNamespace(_))));
}

#[test]
fn service_document_lists_the_entity_sets() {
    let doc = schema().service_document("http://h/sit-svc/Application/AppU4DM/odata");
    assert_eq!(
        doc,
        json!({
            "@odata.context": "http://h/sit-svc/Application/AppU4DM/odata/$metadata",
            "value": [
                {"name": "WorkOrder", "kind": "EntitySet", "url": "WorkOrder"},
                {"name": "WorkOrderOperation", "kind": "EntitySet", "url": "WorkOrderOperation"}
            ]
        })
    );
}

#[test]
fn error_bodies() {
    let mut error = ODataError::new("NotFound", "no such entity set");
    assert_eq!(
        error.to_json(),
        json!({"error": {"code": "NotFound", "message": "no such entity set"}})
    );
    error.target = Some("Nope".into());
    error.details.push(odata::csdl::ErrorDetail {
        code: "Hint".into(),
        message: "see $metadata".into(),
        target: None,
    });
    let body = error.to_json();
    assert_eq!(body["error"]["details"][0]["code"], "Hint");
    assert_eq!(ODataError::from_json(&body), Some(error));
    assert_eq!(ODataError::from_json(&json!({"message": "x"})), None);

    let query_error: QueryError = QueryOptions::parse("$top=x").unwrap_err();
    let body = ODataError::from(&query_error);
    assert_eq!(body.target.as_deref(), Some("$top"));
    assert!(body.message.contains("non-negative"));
    let eval_error = EvalError::BadSkipToken("forged".into());
    assert_eq!(
        ODataError::from(&eval_error).target.as_deref(),
        Some("$skiptoken")
    );
}
