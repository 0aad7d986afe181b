//! Helpers shared by the connector tests.
#![allow(dead_code)]

pub mod brokers;
pub mod cap;
pub mod emu;
pub mod sample;

/// Maps pages against a plant state the test folds each batch into, as the runner stores
/// them.
pub struct FoldingMapper {
    pub state: std::sync::Arc<std::sync::Mutex<model::PlantState>>,
}

impl connect::odata::RowMapper for FoldingMapper {
    async fn map_rows(
        &self,
        app: &str,
        set: &str,
        rows: &[serde_json::Value],
    ) -> Vec<Result<Vec<model::Event>, connect::odata::Unmapped>> {
        let known = self.state.lock().unwrap().clone();
        connect::odata::profile::map_page(app, set, rows, &known)
    }
}
