//! `mixplane mcp --token …`: the MCP server on stdin/stdout for an AI agent's client, acting as
//! the principal of the token over the data directory's store (the same store, policy and
//! sinks `serve` uses). Logs go to stderr; stdout carries only the protocol.

use anyhow::Context;

use crate::DataArgs;
use crate::config;

#[derive(Debug, clap::Args)]
pub struct McpArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// API token of the agent's principal (`mixplane token create --kind agent --role agent
    /// --scope …`); every tool call runs and is audited as it, under its role and scope.
    #[arg(long, env = "MIXPLANE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

pub fn run(args: McpArgs) -> anyhow::Result<()> {
    let token = args
        .token
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .context(
            "the MCP server acts as the principal of an API token: pass --token or set MIXPLANE_TOKEN (`mixplane token create` prints one)",
        )?
        .to_owned();
    let settings = config::resolve(&args.data, None)?;
    super::init_logging(&settings);
    let runtime = super::runtime()?;
    let store = super::open_store(&runtime, settings.store_at(), super::Open::Existing)?;
    let app = super::govern::app_with_sinks(store, &settings)?;
    runtime
        .block_on(mcp::serve_stdio(app, &token))
        .context("serving MCP on stdio")
}
