//! Each app's data model: its entity types (key `Id`), their properties, navigation from each
//! foreign key `{Entity}_Id` to the entity it names (within the app), the complex type
//! `ParameterValue`, and one entity set per type, as the app's `$metadata` describes them.

use crate::sets::{App, Edm, EntitySet, PropertyDef};

/// One app's model: what its `$metadata` says.
#[derive(Debug, Clone, PartialEq)]
pub struct AppModel {
    pub app: App,
    pub namespace: String,
    pub entity_types: Vec<EntityTypeModel>,
    /// Complex types the entity types use (`ParameterValue`), with their properties.
    pub complex_types: Vec<(String, Vec<PropertyDef>)>,
}

/// One entity type, served by the entity set of the same name.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityTypeModel {
    pub set: EntitySet,
    pub name: &'static str,
    pub key: &'static str,
    pub properties: Vec<PropertyDef>,
    /// Navigation properties: (name, target entity type, foreign key), within the app.
    pub navigation: Vec<(String, &'static str, &'static str)>,
}

/// The models of every app.
pub fn schema() -> Vec<AppModel> {
    App::ALL.into_iter().map(app_schema).collect()
}

/// The model of app `app`.
pub fn app_schema(app: App) -> AppModel {
    let entity_types: Vec<EntityTypeModel> = app
        .sets()
        .map(|set| EntityTypeModel {
            set,
            name: set.name(),
            key: "Id",
            properties: set.properties().collect(),
            navigation: set
                .foreign_keys()
                .into_iter()
                .filter(|(_, target)| target.app() == app)
                .map(|(fk, target)| (fk.trim_end_matches("_Id").to_owned(), target.name(), fk))
                .collect(),
        })
        .collect();
    let uses_parameters = entity_types
        .iter()
        .any(|t| t.properties.iter().any(|p| p.edm == Edm::ParameterValue));
    let complex_types = if uses_parameters {
        vec![(
            "ParameterValue".to_owned(),
            vec![
                PropertyDef {
                    name: "Name",
                    edm: Edm::String,
                    nullable: false,
                    collection: false,
                },
                PropertyDef {
                    name: "Value",
                    edm: Edm::Double,
                    nullable: false,
                    collection: false,
                },
            ],
        )]
    } else {
        Vec::new()
    };
    AppModel {
        app,
        namespace: app.namespace(),
        entity_types,
        complex_types,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_set_is_in_its_app_model_once() {
        let models = schema();
        let total: usize = models.iter().map(|m| m.entity_types.len()).sum();
        assert_eq!(total, EntitySet::ALL.len());
        let u4dm = app_schema(App::AppU4DM);
        let operation = u4dm
            .entity_types
            .iter()
            .find(|t| t.name == "WorkOrderOperation")
            .unwrap();
        assert_eq!(
            operation.navigation,
            vec![("WorkOrder".to_owned(), "WorkOrder", "WorkOrder_Id")]
        );
        assert_eq!(u4dm.complex_types.len(), 1);
        assert!(app_schema(App::Equipment).complex_types.is_empty());
    }
}
