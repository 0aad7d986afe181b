//! The schema migrations, embedded in the binary and handed to sqlx's migrator.
//!
//! Each file of `migrations/` is listed here once, with the version and description sqlx
//! derives from its name (`0010_quality.sql` is version 10, "quality"; underscores in the
//! description become spaces). sqlx checksums the text (SHA-384), so a store migrated by an
//! earlier build, which embedded the same files with `sqlx::migrate!`, opens unchanged. A test
//! checks that this list and the directory agree file for file, checksum for checksum.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

use crate::error::Result;

/// `(version, description, SQL)` of every migration, in version order.
const MIGRATIONS: [(i64, &str, &str); 13] = [
    (1, "init", include_str!("../../migrations/0001_init.sql")),
    (
        2,
        "projection rowid tables",
        include_str!("../../migrations/0002_projection_rowid_tables.sql"),
    ),
    (
        10,
        "quality",
        include_str!("../../migrations/0010_quality.sql"),
    ),
    (
        11,
        "quality hold proposals",
        include_str!("../../migrations/0011_quality_hold_proposals.sql"),
    ),
    (
        20,
        "governance",
        include_str!("../../migrations/0020_governance.sql"),
    ),
    (30, "trace", include_str!("../../migrations/0030_trace.sql")),
    (40, "plans", include_str!("../../migrations/0040_plans.sql")),
    (
        41,
        "supply",
        include_str!("../../migrations/0041_supply.sql"),
    ),
    (
        42,
        "connectors",
        include_str!("../../migrations/0042_connectors.sql"),
    ),
    (
        43,
        "read model indexes",
        include_str!("../../migrations/0043_read_model_indexes.sql"),
    ),
    (
        44,
        "state snapshots",
        include_str!("../../migrations/0044_state_snapshots.sql"),
    ),
    (
        45,
        "quality results by seq",
        include_str!("../../migrations/0045_quality_results_by_seq.sql"),
    ),
    (
        46,
        "leases",
        include_str!("../../migrations/0046_leases.sql"),
    ),
];

/// The embedded migrations, as sqlx reads a migration directory.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Embedded;

impl Embedded {
    /// The migrations, with sqlx's checksums.
    pub(crate) fn migrations() -> Vec<Migration> {
        MIGRATIONS
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    Cow::Borrowed(sql),
                    // sqlx's directory reader: a file starting so runs outside a transaction.
                    sql.starts_with("-- no-transaction"),
                )
            })
            .collect()
    }
}

type Resolved<'s> = Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 's>>;

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> Resolved<'static> {
        Box::pin(async { Ok(Embedded::migrations()) })
    }
}

/// The migrator of the embedded migrations (sqlx's defaults: locking, no missing versions).
pub(crate) async fn migrator() -> Result<Migrator> {
    Ok(Migrator::new(Embedded).await?)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// The embedded list is what sqlx makes of the directory: the same versions, descriptions,
    /// types, transaction modes and checksums, in the same order, and no file left out.
    #[test]
    fn embedded_migrations_match_the_directory() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let from_dir =
            sqlx::migrate::resolve_blocking(&dir).expect("the migrations directory reads");
        let embedded = Embedded::migrations();
        assert_eq!(
            embedded.len(),
            from_dir.len(),
            "a migration file is not embedded"
        );
        for (ours, (theirs, path)) in embedded.iter().zip(&from_dir) {
            let file = path.display();
            assert_eq!(ours.version, theirs.version, "{file}");
            assert_eq!(ours.description, theirs.description, "{file}");
            assert_eq!(ours.migration_type, theirs.migration_type, "{file}");
            assert_eq!(ours.no_tx, theirs.no_tx, "{file}");
            assert_eq!(ours.checksum, theirs.checksum, "{file}");
            assert_eq!(ours.sql, theirs.sql, "{file}");
        }
    }
}
