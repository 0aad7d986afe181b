//! An app's model from the profile (`opcenter::schema::app_schema`) as `odata`'s CSDL
//! model, which renders the `$metadata` document and the service document: entity types
//! keyed by `Id`, each foreign key `{Entity}_Id` with a navigation property to the entity it
//! names (bound to that entity's set), the complex types, one entity set per type.

use odata::csdl::{
    ComplexType, EntitySet, EntityType, NavigationProperty, NavigationPropertyBinding, Property,
    Schema,
};
use opcenter::App;
use opcenter::schema::app_schema;

/// The CSDL model of `app`.
pub fn schema(app: App) -> Schema {
    let model = app_schema(app);
    let namespace = model.namespace.clone();
    let property = |p: &opcenter::PropertyDef| Property {
        name: p.name.to_owned(),
        edm_type: p.edm.type_name(&namespace),
        nullable: p.nullable,
        collection: p.collection,
    };
    let entity_types = model
        .entity_types
        .iter()
        .map(|t| EntityType {
            name: t.name.to_owned(),
            key: vec![t.key.to_owned()],
            properties: t.properties.iter().map(property).collect(),
            navigation: t
                .navigation
                .iter()
                .map(|(name, target, foreign_key)| NavigationProperty {
                    name: name.clone(),
                    target: (*target).to_owned(),
                    collection: false,
                    nullable: t
                        .properties
                        .iter()
                        .find(|p| p.name == *foreign_key)
                        .is_none_or(|p| p.nullable),
                    partner: None,
                })
                .collect(),
        })
        .collect();
    let entity_sets = model
        .entity_types
        .iter()
        .map(|t| EntitySet {
            name: t.set.name().to_owned(),
            entity_type: t.name.to_owned(),
            bindings: t
                .navigation
                .iter()
                .map(|(name, target, _)| NavigationPropertyBinding {
                    path: name.clone(),
                    target: (*target).to_owned(),
                })
                .collect(),
        })
        .collect();
    let complex_types = model
        .complex_types
        .iter()
        .map(|(name, properties)| ComplexType {
            name: name.clone(),
            properties: properties.iter().map(property).collect(),
        })
        .collect();
    Schema {
        namespace,
        container: "Container".into(),
        entity_types,
        complex_types,
        entity_sets,
        actions: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_app_model_is_valid_csdl() {
        for app in App::ALL {
            let schema = schema(app);
            schema.validate().unwrap_or_else(|e| panic!("{app}: {e}"));
            assert_eq!(schema.entity_sets.len(), app.sets().count());
        }
    }
}
