//! The PostgreSQL schema migrations, embedded in the binary and handed to sqlx's migrator
//! (which takes a database-wide advisory lock while it runs, so nodes starting together
//! migrate once). The files are `migrations-postgres/`; a test checks that this list and the
//! directory agree file for file, checksum for checksum.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

use crate::error::Result;

/// `(version, description, SQL)` of every migration, in version order.
const MIGRATIONS: [(i64, &str, &str); 2] = [
    (
        1,
        "schema",
        include_str!("../../migrations-postgres/0001_schema.sql"),
    ),
    (
        2,
        "leases",
        include_str!("../../migrations-postgres/0002_leases.sql"),
    ),
];

/// The embedded migrations, as sqlx reads a migration directory.
#[derive(Debug, Clone, Copy)]
struct Embedded;

impl Embedded {
    fn migrations() -> Vec<Migration> {
        MIGRATIONS
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    Cow::Borrowed(sql),
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

/// The migrator of the embedded PostgreSQL migrations.
pub(crate) async fn migrator() -> Result<Migrator> {
    Ok(Migrator::new(Embedded).await?)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn embedded_migrations_match_the_directory() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations-postgres");
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
            assert_eq!(ours.checksum, theirs.checksum, "{file}");
        }
    }
}
