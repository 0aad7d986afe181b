//! `mixplane migrate-store`: copies a whole store into an empty one on another database
//! (SQLite to PostgreSQL, or back) and verifies the copy's audit chain on arrival.

use anyhow::Context;

#[derive(Debug, clap::Args)]
pub struct MigrateStoreArgs {
    /// The store to copy: sqlite://PATH (or a data directory's mixplane.db), postgres://…
    #[arg(long)]
    pub from: String,
    /// The empty store to copy into: postgres://USER@HOST/DB[?schema=NAME], sqlite://PATH
    #[arg(long)]
    pub to: String,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: MigrateStoreArgs) -> anyhow::Result<()> {
    let runtime = super::runtime()?;
    let (from, to) = (store::redact_url(&args.from), store::redact_url(&args.to));
    let started = std::time::Instant::now();
    let report = runtime
        .block_on(store::Store::copy_store(&args.from, &args.to))
        .with_context(|| format!("copying the store {from} into {to}"))?;
    let seconds = started.elapsed().as_secs_f64();
    if args.json {
        let tables: serde_json::Map<String, serde_json::Value> = report
            .tables
            .iter()
            .map(|(name, rows)| ((*name).to_owned(), (*rows).into()))
            .collect();
        let answer = serde_json::json!({
            "from": from,
            "to": to,
            "tables": tables,
            "events": report.events,
            "audit_records": report.audit_records,
            "audit_head": report.audit_head,
            "audit_verified": true,
            "seconds": seconds,
        });
        println!("{answer}");
        return Ok(());
    }
    println!("copied {from} into {to} in {seconds:.1} s");
    for (name, rows) in report.tables.iter().filter(|(_, rows)| *rows > 0) {
        println!("  {name:<24} {rows:>10}");
    }
    println!(
        "audit chain verified on arrival: {} records, head {}",
        report.audit_records,
        report.audit_head.as_deref().unwrap_or("(empty trail)")
    );
    Ok(())
}
