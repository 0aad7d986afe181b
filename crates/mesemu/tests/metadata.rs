//! `$metadata` over HTTP: well-formed CSDL XML (OData v4.0) per app naming every entity set
//! of the profile, and the rows served carry exactly the properties their entity type
//! declares.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Emu, config};
use opcenter::{App, EntitySet};
use quick_xml::events::Event;

/// Per entity type its declared properties (structural and navigation), the entity sets
/// (name → type), and the `edmx:Edmx` version, read from a metadata document.
struct Metadata {
    version: String,
    types: BTreeMap<String, BTreeSet<String>>,
    sets: BTreeMap<String, String>,
}

fn read(xml: &str) -> Metadata {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut metadata = Metadata {
        version: String::new(),
        types: BTreeMap::new(),
        sets: BTreeMap::new(),
    };
    let mut current: Option<String> = None;
    let mut depth = 0i32;
    loop {
        let event = reader.read_event().expect("well-formed XML");
        let (element, empty) = match &event {
            Event::Start(e) => {
                depth += 1;
                (Some(e.clone()), false)
            }
            Event::Empty(e) => (Some(e.clone()), true),
            Event::End(e) => {
                depth -= 1;
                if e.name().as_ref() == b"EntityType" {
                    current = None;
                }
                (None, false)
            }
            Event::Eof => break,
            _ => (None, false),
        };
        let Some(element) = element else { continue };
        let attribute = |name: &str| {
            element
                .attributes()
                .map(|a| a.expect("a well-formed attribute"))
                .find(|a| a.key.as_ref() == name.as_bytes())
                .map(|a| String::from_utf8(a.value.to_vec()).unwrap())
        };
        match element.name().as_ref() {
            b"edmx:Edmx" => metadata.version = attribute("Version").unwrap_or_default(),
            b"EntityType" if !empty => {
                let name = attribute("Name").expect("EntityType Name");
                metadata.types.insert(name.clone(), BTreeSet::new());
                current = Some(name);
            }
            b"Property" | b"NavigationProperty" => {
                if let Some(entity) = &current {
                    metadata
                        .types
                        .get_mut(entity)
                        .unwrap()
                        .insert(attribute("Name").expect("Property Name"));
                }
            }
            b"EntitySet" => {
                let name = attribute("Name").expect("EntitySet Name");
                let entity_type = attribute("EntityType").expect("EntitySet EntityType");
                let short = entity_type.rsplit('.').next().unwrap().to_owned();
                metadata.sets.insert(name, short);
            }
            _ => {}
        }
    }
    assert_eq!(depth, 0, "every element closed");
    metadata
}

#[tokio::test]
async fn metadata_is_well_formed_csdl_naming_every_set_and_every_served_property() {
    let emu = Emu::start(config()).await;
    emu.advance(2.0 * 24.0 * 60.0).await;
    let token = emu.sign_in().await.access_token;
    for app in App::ALL {
        let answer = emu.get(&emu.service(app.name(), "$metadata"), &token).await;
        assert_eq!(answer.status(), 200);
        assert!(
            answer.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/xml")
        );
        assert_eq!(answer.headers()["OData-Version"], "4.0");
        let metadata = read(&answer.text().await.unwrap());
        assert_eq!(metadata.version, "4.0", "{app}");
        let expected: BTreeSet<&str> = app.sets().map(EntitySet::name).collect();
        let named: BTreeSet<&str> = metadata.sets.keys().map(String::as_str).collect();
        assert_eq!(named, expected, "{app}: every set, and no other");

        // The service document lists the same sets.
        let document = emu.get_json(&emu.service(app.name(), ""), &token).await;
        let listed: BTreeSet<&str> = document["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect();
        assert_eq!(listed, expected, "{app}: service document");

        // Every property of every row served is declared on its type.
        for set in app.sets() {
            let declared = &metadata.types[&metadata.sets[set.name()]];
            let page = emu
                .get_json(
                    &emu.service(app.name(), &format!("{}?$top=50", set.name())),
                    &token,
                )
                .await;
            for row in page["value"].as_array().unwrap() {
                for property in row.as_object().unwrap().keys() {
                    assert!(
                        declared.contains(property),
                        "{app}/{}: `{property}` is not in $metadata",
                        set.name()
                    );
                }
            }
        }
    }
    emu.emulator.stop().await;
}
