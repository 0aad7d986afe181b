//! The `opcenter` profile as the OData source's [`RowMapper`]: rows mapped by
//! [`opcenter::map_row`] against what the store already knows (the folded plant state of a
//! fresh snapshot, taken once per page; the runner stores a page before the next is read).

use model::{Event, PlantState};
use serde_json::Value;

use super::source::RowMapper;

/// Maps rows against the store's current plant state.
pub struct ProfileMapper {
    app: app::App,
}

impl ProfileMapper {
    pub fn new(app: app::App) -> ProfileMapper {
        ProfileMapper { app }
    }
}

/// Maps one page's rows against `known`.
pub fn map_page(
    app: &str,
    entity_set: &str,
    rows: &[Value],
    known: &PlantState,
) -> Vec<Result<Vec<Event>, String>> {
    rows.iter()
        .map(|row| opcenter::map_row(app, entity_set, row, known).map_err(|e| e.to_string()))
        .collect()
}

impl RowMapper for ProfileMapper {
    async fn map_rows(
        &self,
        app: &str,
        entity_set: &str,
        rows: &[Value],
    ) -> Vec<Result<Vec<Event>, String>> {
        let snapshot = self.app.store.snapshot().await;
        map_page(app, entity_set, rows, &snapshot.state)
    }
}
