//! The `opcenter` profile as the OData source's [`RowMapper`]: rows mapped by
//! [`opcenter::map_row`] against what the store already knows (the folded plant state of a
//! fresh snapshot, taken once per page; the runner stores a page before the next is read).

use model::{Event, PlantState};
use serde_json::Value;

use super::source::{RowMapper, Unmapped};

/// Maps rows against the store's current plant state.
pub struct ProfileMapper {
    app: app::App,
}

impl ProfileMapper {
    pub fn new(app: app::App) -> ProfileMapper {
        ProfileMapper { app }
    }
}

/// Maps one page's rows against `known`; a row referring to what `known` lacks waits.
pub fn map_page(
    app: &str,
    entity_set: &str,
    rows: &[Value],
    known: &PlantState,
) -> Vec<Result<Vec<Event>, Unmapped>> {
    rows.iter()
        .map(|row| {
            opcenter::map_row(app, entity_set, row, known).map_err(|e| {
                if e.is_waiting() {
                    Unmapped::Waiting(e.to_string())
                } else {
                    Unmapped::Refused(e.to_string())
                }
            })
        })
        .collect()
}

impl RowMapper for ProfileMapper {
    async fn map_rows(
        &self,
        app: &str,
        entity_set: &str,
        rows: &[Value],
    ) -> Vec<Result<Vec<Event>, Unmapped>> {
        let snapshot = self.app.store.snapshot().await;
        map_page(app, entity_set, rows, &snapshot.state)
    }
}
