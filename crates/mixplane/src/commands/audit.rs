//! `mixplane audit verify` and `mixplane audit export`: check the hash chain of the audit
//! trail (naming the first bad record) and write it out as JSON Lines.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context;

use crate::DataArgs;

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: AuditCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Recompute the hash chain; exit 1 naming the first altered, removed, inserted or
    /// reordered record, exit 2 when the trail cannot be read (no store, I/O).
    Verify(VerifyArgs),
    /// Write every audit record as JSON Lines (stdout unless --out).
    Export(ExportArgs),
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Print the report as one JSON object (`records`, `head_hash`, `first_bad`); the exit
    /// code still says whether the trail is intact.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Write to this file instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(args: AuditArgs) -> anyhow::Result<()> {
    match args.command {
        AuditCommand::Verify(args) => verify(args),
        AuditCommand::Export(args) => export(args),
    }
}

/// Why `audit verify` did not find an intact trail; the two cases exit differently.
#[derive(Debug, thiserror::Error)]
pub enum VerifyFailure {
    /// The chain does not verify: a record was altered, removed, inserted or reordered.
    #[error("{0}")]
    Broken(String),
    /// The trail could not be read: no store in the directory, an I/O or database failure.
    #[error("{0:#}")]
    Unreadable(anyhow::Error),
}

impl VerifyFailure {
    /// 1 for a broken trail, 2 when it could not be read.
    pub fn exit_code(&self) -> u8 {
        match self {
            VerifyFailure::Broken(_) => 1,
            VerifyFailure::Unreadable(_) => 2,
        }
    }
}

fn verify(args: VerifyArgs) -> anyhow::Result<()> {
    let read = || -> anyhow::Result<store::AuditReport> {
        let super::DataDir { runtime, store, .. } =
            super::open_data(&args.data, super::Open::Existing)?;
        runtime
            .block_on(store.verify_audit())
            .context("reading the audit trail")
    };
    let report = read().map_err(VerifyFailure::Unreadable)?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    }
    match &report.first_bad {
        None if args.json => Ok(()),
        None => {
            println!(
                "audit trail intact: {} records, head {}",
                report.records,
                report.head_hash.as_deref().unwrap_or("(empty)")
            );
            Ok(())
        }
        Some(bad) => Err(VerifyFailure::Broken(format!(
            "audit trail broken at record {} ({:?}): {} ({} records checked)",
            bad.seq, bad.fault, bad.message, report.records
        ))
        .into()),
    }
}

fn export(args: ExportArgs) -> anyhow::Result<()> {
    let super::DataDir { runtime, store, .. } =
        super::open_data(&args.data, super::Open::Existing)?;
    let mut out: Box<dyn std::io::Write> = match &args.out {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let mut after = 0;
    let mut written = 0u64;
    loop {
        let page = runtime
            .block_on(store.audit_log(after, store::MAX_PAGE))
            .context("reading the audit trail")?;
        for record in &page {
            serde_json::to_writer(&mut out, record)?;
            out.write_all(b"\n")?;
            after = record.seq;
            written += 1;
        }
        if page.len() < store::MAX_PAGE as usize {
            break;
        }
    }
    out.flush()?;
    if let Some(path) = &args.out {
        eprintln!("wrote {written} audit records to {}", path.display());
    }
    Ok(())
}
