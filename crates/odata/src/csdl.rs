//! The service's description: a small entity model ([`Schema`]) rendered as the OData v4.0
//! CSDL XML of `$metadata` ([`Schema::to_xml`], checked first by [`Schema::validate`]), the
//! service document ([`Schema::service_document`]) and the OData JSON error body
//! ([`ODataError`]).
//!
//! Type names in the model may be written unqualified (`WorkOrder`, `Address`): they are
//! qualified with the schema's namespace when rendered; `Edm.*` and dotted names are kept.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use thiserror::Error;

use crate::error::{EvalError, QueryError};

/// One schema and its entity container.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Schema {
    pub namespace: String,
    /// The entity container's name (`Container` when empty).
    pub container: String,
    pub entity_types: Vec<EntityType>,
    pub complex_types: Vec<ComplexType>,
    pub entity_sets: Vec<EntitySet>,
    pub actions: Vec<Action>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EntityType {
    pub name: String,
    /// The key's property names.
    pub key: Vec<String>,
    pub properties: Vec<Property>,
    pub navigation: Vec<NavigationProperty>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ComplexType {
    pub name: String,
    pub properties: Vec<Property>,
}

/// A structural property (also an action parameter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    pub name: String,
    /// `Edm.String`, `Edm.Guid`, `Edm.DateTimeOffset`, … or a complex type's name.
    pub edm_type: String,
    pub nullable: bool,
    /// `Collection(edm_type)`.
    pub collection: bool,
}

impl Property {
    /// A nullable single-valued property.
    pub fn new(name: &str, edm_type: &str) -> Property {
        Property {
            name: name.into(),
            edm_type: edm_type.into(),
            nullable: true,
            collection: false,
        }
    }

    /// The same property, not nullable.
    pub fn required(mut self) -> Property {
        self.nullable = false;
        self
    }

    /// The same property as a collection.
    pub fn many(mut self) -> Property {
        self.collection = true;
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NavigationProperty {
    pub name: String,
    /// The target entity type's name.
    pub target: String,
    pub collection: bool,
    /// Single-valued only (a collection is never null).
    pub nullable: bool,
    /// The navigation property of the target that points back, if any.
    pub partner: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EntitySet {
    pub name: String,
    pub entity_type: String,
    pub bindings: Vec<NavigationPropertyBinding>,
}

/// Which entity set a navigation property's entities are in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NavigationPropertyBinding {
    pub path: String,
    /// The target entity set's name.
    pub target: String,
}

/// An unbound action (each gets an `ActionImport` in the container).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Action {
    pub name: String,
    pub parameters: Vec<Property>,
    /// The return type, if any (`nullable` and `collection` as for a property).
    pub returns: Option<Property>,
}

/// A model that would render an invalid or inconsistent `$metadata`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CsdlError {
    #[error(
        "{what} {name:?} is not an OData identifier (a letter or _ then letters, digits or _, at most 128)"
    )]
    BadName { what: &'static str, name: String },
    #[error("{0:?} is not a namespace (identifiers separated by dots)")]
    BadNamespace(String),
    #[error("{what} {name:?} is defined twice")]
    Duplicate { what: &'static str, name: String },
    #[error("entity type {entity}: {problem}")]
    BadKey { entity: String, problem: String },
    #[error("{owner}: refers to {what} {name:?}, which the schema does not define")]
    Unknown {
        owner: String,
        what: &'static str,
        name: String,
    },
}

const EDMX_NS: &str = "http://docs.oasis-open.org/odata/ns/edmx";
const EDM_NS: &str = "http://docs.oasis-open.org/odata/ns/edm";

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_alphabetic() || c == '_');
    first_ok && name.chars().count() <= 128 && chars.all(|c| c.is_alphanumeric() || c == '_')
}

/// Escapes text for a double-quoted XML attribute (line breaks and tabs as character
/// references so that attribute normalisation keeps them).
pub fn escape_attribute(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            // Not representable in XML 1.0 at all: the replacement character stands in.
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

impl Schema {
    fn container_name(&self) -> &str {
        if self.container.is_empty() {
            "Container"
        } else {
            &self.container
        }
    }

    /// A type name as `$metadata` writes it: `Edm.*` and dotted names kept, others qualified.
    fn qualified(&self, name: &str) -> String {
        if name.contains('.') {
            name.to_owned()
        } else {
            format!("{}.{name}", self.namespace)
        }
    }

    fn type_ref(&self, edm_type: &str, collection: bool) -> String {
        let name = self.qualified(edm_type);
        if collection {
            format!("Collection({name})")
        } else {
            name
        }
    }

    /// Checks names, keys and references: what `to_xml` renders is then consistent.
    pub fn validate(&self) -> Result<(), CsdlError> {
        if self.namespace.is_empty() || !self.namespace.split('.').all(is_identifier) {
            return Err(CsdlError::BadNamespace(self.namespace.clone()));
        }
        check_name("entity container", self.container_name())?;
        let mut types: Vec<&str> = Vec::new();
        let type_names = self
            .entity_types
            .iter()
            .map(|t| ("entity type", t.name.as_str()))
            .chain(
                self.complex_types
                    .iter()
                    .map(|t| ("complex type", t.name.as_str())),
            );
        for (what, name) in type_names {
            check_name(what, name)?;
            if types.contains(&name) {
                return Err(CsdlError::Duplicate {
                    what,
                    name: name.into(),
                });
            }
            types.push(name);
        }
        let complex: Vec<&str> = self.complex_types.iter().map(|t| t.name.as_str()).collect();
        let entities: Vec<&str> = self.entity_types.iter().map(|t| t.name.as_str()).collect();
        let known_type = |owner: &str, edm_type: &str, within: &[&str], what| {
            let local = edm_type
                .strip_prefix(&format!("{}.", self.namespace))
                .unwrap_or(edm_type);
            if edm_type.starts_with("Edm.") || within.contains(&local) {
                Ok(())
            } else {
                Err(CsdlError::Unknown {
                    owner: owner.into(),
                    what,
                    name: edm_type.into(),
                })
            }
        };
        for t in &self.complex_types {
            check_properties(&t.name, &t.properties, |o, ty| {
                known_type(o, ty, &complex, "type")
            })?;
        }
        for t in &self.entity_types {
            check_properties(&t.name, &t.properties, |o, ty| {
                known_type(o, ty, &complex, "type")
            })?;
            check_key(t)?;
            for nav in &t.navigation {
                check_name("navigation property", &nav.name)?;
                if t.properties.iter().any(|p| p.name == nav.name) {
                    return Err(CsdlError::Duplicate {
                        what: "property",
                        name: format!("{}/{}", t.name, nav.name),
                    });
                }
                known_type(&t.name, &nav.target, &entities, "entity type")?;
            }
        }
        let sets: Vec<&str> = self.entity_sets.iter().map(|s| s.name.as_str()).collect();
        let mut children: Vec<&str> = Vec::new();
        for name in sets
            .iter()
            .copied()
            .chain(self.actions.iter().map(|a| a.name.as_str()))
        {
            check_name("entity set or action", name)?;
            if children.contains(&name) {
                return Err(CsdlError::Duplicate {
                    what: "entity set or action",
                    name: name.into(),
                });
            }
            children.push(name);
        }
        for set in &self.entity_sets {
            known_type(&set.name, &set.entity_type, &entities, "entity type")?;
            for binding in &set.bindings {
                if !sets.contains(&binding.target.as_str()) {
                    return Err(CsdlError::Unknown {
                        owner: set.name.clone(),
                        what: "entity set",
                        name: binding.target.clone(),
                    });
                }
            }
        }
        for action in &self.actions {
            check_properties(&action.name, &action.parameters, |o, ty| {
                known_type(o, ty, &types, "type")
            })?;
            if let Some(returns) = &action.returns {
                known_type(&action.name, &returns.edm_type, &types, "type")?;
            }
        }
        Ok(())
    }

    /// The `$metadata` document (CSDL XML, OData v4.0).
    pub fn to_xml(&self) -> Result<String, CsdlError> {
        self.validate()?;
        let mut x = String::new();
        let a = escape_attribute;
        x.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
        let _ = writeln!(x, "<edmx:Edmx Version=\"4.0\" xmlns:edmx=\"{EDMX_NS}\">");
        x.push_str("  <edmx:DataServices>\n");
        let _ = writeln!(
            x,
            "    <Schema Namespace=\"{}\" xmlns=\"{EDM_NS}\">",
            a(&self.namespace)
        );
        for t in &self.entity_types {
            let _ = writeln!(x, "      <EntityType Name=\"{}\">", a(&t.name));
            x.push_str("        <Key>\n");
            for key in &t.key {
                let _ = writeln!(x, "          <PropertyRef Name=\"{}\"/>", a(key));
            }
            x.push_str("        </Key>\n");
            self.write_properties(&mut x, "Property", &t.properties);
            for nav in &t.navigation {
                let _ = write!(
                    x,
                    "        <NavigationProperty Name=\"{}\" Type=\"{}\"",
                    a(&nav.name),
                    a(&self.type_ref(&nav.target, nav.collection))
                );
                if !nav.collection && !nav.nullable {
                    x.push_str(" Nullable=\"false\"");
                }
                if let Some(partner) = &nav.partner {
                    let _ = write!(x, " Partner=\"{}\"", a(partner));
                }
                x.push_str("/>\n");
            }
            x.push_str("      </EntityType>\n");
        }
        for t in &self.complex_types {
            let _ = writeln!(x, "      <ComplexType Name=\"{}\">", a(&t.name));
            self.write_properties(&mut x, "Property", &t.properties);
            x.push_str("      </ComplexType>\n");
        }
        for action in &self.actions {
            let _ = writeln!(
                x,
                "      <Action Name=\"{}\" IsBound=\"false\">",
                a(&action.name)
            );
            self.write_properties(&mut x, "Parameter", &action.parameters);
            if let Some(returns) = &action.returns {
                self.write_properties(&mut x, "ReturnType", std::slice::from_ref(returns));
            }
            x.push_str("      </Action>\n");
        }
        let _ = writeln!(
            x,
            "      <EntityContainer Name=\"{}\">",
            a(self.container_name())
        );
        for set in &self.entity_sets {
            let _ = write!(
                x,
                "        <EntitySet Name=\"{}\" EntityType=\"{}\"",
                a(&set.name),
                a(&self.qualified(&set.entity_type))
            );
            if set.bindings.is_empty() {
                x.push_str("/>\n");
                continue;
            }
            x.push_str(">\n");
            for b in &set.bindings {
                let _ = writeln!(
                    x,
                    "          <NavigationPropertyBinding Path=\"{}\" Target=\"{}\"/>",
                    a(&b.path),
                    a(&b.target)
                );
            }
            x.push_str("        </EntitySet>\n");
        }
        for action in &self.actions {
            let _ = writeln!(
                x,
                "        <ActionImport Name=\"{}\" Action=\"{}\"/>",
                a(&action.name),
                a(&self.qualified(&action.name))
            );
        }
        x.push_str("      </EntityContainer>\n");
        x.push_str("    </Schema>\n  </edmx:DataServices>\n</edmx:Edmx>\n");
        Ok(x)
    }

    /// `<Property …/>`, `<Parameter …/>` or `<ReturnType …/>` elements.
    fn write_properties(&self, x: &mut String, element: &str, properties: &[Property]) {
        for p in properties {
            let _ = write!(x, "        <{element}");
            if element != "ReturnType" {
                let _ = write!(x, " Name=\"{}\"", escape_attribute(&p.name));
            }
            let _ = write!(
                x,
                " Type=\"{}\"",
                escape_attribute(&self.type_ref(&p.edm_type, p.collection))
            );
            if !p.nullable {
                x.push_str(" Nullable=\"false\"");
            }
            x.push_str("/>\n");
        }
    }

    /// The service document (`GET` of the service root) in OData JSON: each entity set's
    /// name, kind and URL (relative to the root). `service_root` ends with `/`, or one is
    /// added.
    pub fn service_document(&self, service_root: &str) -> Value {
        let slash = if service_root.ends_with('/') { "" } else { "/" };
        let sets: Vec<Value> = self
            .entity_sets
            .iter()
            .map(|s| json!({"name": s.name, "kind": "EntitySet", "url": s.name}))
            .collect();
        json!({
            "@odata.context": format!("{service_root}{slash}$metadata"),
            "value": sets,
        })
    }
}

fn check_name(what: &'static str, name: &str) -> Result<(), CsdlError> {
    if is_identifier(name) {
        Ok(())
    } else {
        Err(CsdlError::BadName {
            what,
            name: name.into(),
        })
    }
}

fn check_properties(
    owner: &str,
    properties: &[Property],
    known_type: impl Fn(&str, &str) -> Result<(), CsdlError>,
) -> Result<(), CsdlError> {
    for (i, p) in properties.iter().enumerate() {
        check_name("property", &p.name)?;
        if properties[..i].iter().any(|q| q.name == p.name) {
            return Err(CsdlError::Duplicate {
                what: "property",
                name: format!("{owner}/{}", p.name),
            });
        }
        known_type(owner, &p.edm_type)?;
    }
    Ok(())
}

fn check_key(t: &EntityType) -> Result<(), CsdlError> {
    let bad = |problem: String| CsdlError::BadKey {
        entity: t.name.clone(),
        problem,
    };
    if t.key.is_empty() {
        return Err(bad("no key".into()));
    }
    for key in &t.key {
        match t.properties.iter().find(|p| &p.name == key) {
            None => return Err(bad(format!("key {key:?} is not a property"))),
            Some(p) if p.nullable || p.collection => {
                return Err(bad(format!(
                    "key {key:?} must be a single, non-nullable property"
                )));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// The OData JSON error body: `{"error": {"code", "message", "target"?, "details"?}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ODataError {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<ErrorDetail>,
}

/// One entry of an error's `details`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

impl ODataError {
    pub fn new(code: &str, message: &str) -> ODataError {
        ODataError {
            code: code.into(),
            message: message.into(),
            target: None,
            details: Vec::new(),
        }
    }

    /// The body to send.
    pub fn to_json(&self) -> Value {
        json!({ "error": self })
    }

    /// Reads a body a service sent (`None` when it is not an OData error body).
    pub fn from_json(body: &Value) -> Option<ODataError> {
        serde_json::from_value(body.get("error")?.clone()).ok()
    }
}

impl From<&QueryError> for ODataError {
    /// A request whose query options cannot be read (HTTP 400): the option is the target.
    fn from(error: &QueryError) -> ODataError {
        let target = match error {
            QueryError::Syntax { option, .. } | QueryError::Invalid { option, .. } => {
                Some(option.clone())
            }
            QueryError::UnknownOption(option) | QueryError::Repeated(option) => {
                Some(option.clone())
            }
            QueryError::Encoding { .. } => None,
        };
        ODataError {
            target,
            ..ODataError::new("InvalidQueryOption", &error.to_string())
        }
    }
}

impl From<&EvalError> for ODataError {
    /// A query that cannot be evaluated over the data (HTTP 400).
    fn from(error: &EvalError) -> ODataError {
        let target = match error {
            EvalError::BadSkipToken(_) => Some("$skiptoken".to_owned()),
            _ => Some("$filter".to_owned()),
        };
        ODataError {
            target,
            ..ODataError::new("InvalidQuery", &error.to_string())
        }
    }
}
