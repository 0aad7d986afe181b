//! `mixplane serve`: serve the API over an existing data directory.

use crate::DataArgs;
use crate::config;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Address to listen on [default: the config file's [server] bind, else 127.0.0.1:8080]
    #[arg(long, env = "MIXPLANE_BIND")]
    pub bind: Option<String>,
    /// Serve as this node of several over one store: every node answers the API, and the
    /// plant's once-only work (connectors, agents, outbox) runs on the node holding the plant's
    /// lease [default: a node alone, which runs it from the start]
    #[arg(long, env = "MIXPLANE_NODE")]
    pub node: Option<String>,
    /// How long the plant's lease lasts unrenewed, in milliseconds: how long the once-only work
    /// may stand still after its leader died (renewed at a third of it)
    #[arg(long, env = "MIXPLANE_LEASE_TTL_MS", default_value_t = 3000, value_parser = clap::value_parser!(u64).range(300..=600_000))]
    pub lease_ttl_ms: u64,
    /// Publish every stored event to this NATS server's JetStream (an outbox: after commit,
    /// in log order, once each), run by the leader
    #[cfg(feature = "nats")]
    #[arg(long, env = "MIXPLANE_OUTBOX_NATS")]
    pub outbox_nats: Option<String>,
    /// The outbox's JetStream stream (created when missing)
    #[cfg(feature = "nats")]
    #[arg(long, default_value = "MIXPLANE_EVENTS")]
    pub outbox_stream: String,
    /// The outbox's subject prefix: an event goes to PREFIX.TYPE
    #[cfg(feature = "nats")]
    #[arg(long, default_value = "mixplane.events")]
    pub outbox_subject: String,
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let settings = config::resolve(&args.data, args.bind.clone())?;
    super::init_logging(&settings);
    let runtime = super::runtime()?;
    let store = super::open_store(&runtime, settings.store_at(), super::Open::OrCreate)?;
    let app = super::govern::app_with_sinks(store, &settings)?;
    if runtime.block_on(app.store.plant()).is_none() {
        tracing::warn!(
            "the store holds no plant yet; run `mixplane demo` or `mixplane import` first"
        );
    }
    let cluster = super::Cluster {
        leader: args.node.map(|node| app::leader::LeaderSettings {
            node,
            ttl: std::time::Duration::from_millis(args.lease_ttl_ms),
        }),
        #[cfg(feature = "nats")]
        outbox: args
            .outbox_nats
            .map(|url| ::connect::outbox::OutboxSettings {
                url,
                stream: args.outbox_stream,
                subject: args.outbox_subject,
            }),
    };
    super::serve_cluster(&runtime, app, &settings, cluster)
}
