//! `mixplane mes-emulator`: run the MES emulator (`mesemu`) on its own port — the simulated
//! plant served as an Opcenter-style OData v4 MES, for connectors to be tried and tested
//! against — until Ctrl-C.

use std::time::Duration;

use anyhow::Context;

#[derive(Debug, clap::Args)]
pub struct MesEmulatorArgs {
    /// Address to listen on.
    #[arg(
        long,
        env = "MIXPLANE_MES_EMULATOR_BIND",
        default_value = "127.0.0.1:8090"
    )]
    pub bind: String,
    /// Seed of the simulated plant: the same seed, clock steps and commands give the same rows.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Plant seconds per wall second (60: a wall second is a plant minute); 0 moves the plant
    /// only through `POST /emulator/advance`.
    #[arg(long, default_value_t = 60.0)]
    pub speed: f64,
    /// Plant days the run lasts.
    #[arg(long, default_value_t = 30.0)]
    pub days: f64,
    /// Plant time at start, RFC 3339 [default: the simulator's default start]
    #[arg(long, value_parser = parse_instant)]
    pub start: Option<model::Timestamp>,
    /// The most rows one collection answer holds before `@odata.nextLink`.
    #[arg(long, default_value_t = 100)]
    pub page_size: usize,
    /// The user that signs in (password grant) and uses the admin routes.
    #[arg(long, env = "MIXPLANE_MES_USER", default_value = "mixplane")]
    pub username: String,
    /// The user's password.
    #[arg(
        long,
        env = "MIXPLANE_MES_PASSWORD",
        default_value = "mixplane-emulator"
    )]
    pub password: String,
    /// The OAuth client id, sent as HTTP Basic to the token endpoint.
    #[arg(
        long,
        env = "MIXPLANE_MES_CLIENT_ID",
        default_value = "mixplane-connector"
    )]
    pub client_id: String,
    /// The OAuth client secret.
    #[arg(
        long,
        env = "MIXPLANE_MES_CLIENT_SECRET",
        default_value = "emulator-secret"
    )]
    pub client_secret: String,
    /// Lifetime of access tokens, in seconds.
    #[arg(long, default_value_t = 3600)]
    pub token_lifetime: u64,
    /// Fault: delay every service answer by this many milliseconds.
    #[arg(long, default_value_t = 0)]
    pub delay_ms: u64,
    /// Fault: answer the first N service requests with --throttle-status and Retry-After.
    #[arg(long, default_value_t = 0)]
    pub throttle: u32,
    /// Fault: the status of throttled answers (429 or 503).
    #[arg(long, default_value_t = 429)]
    pub throttle_status: u16,
    /// Fault: the Retry-After of throttled answers, in seconds.
    #[arg(long, default_value_t = 1)]
    pub retry_after: u64,
    /// Fault: answer the first collection request after another with that one's page again.
    #[arg(long)]
    pub repeat_page: bool,
    /// Fault: fail the first command with this ErrorCode (e.g. -702597); nothing is applied.
    #[arg(long, allow_negative_numbers = true)]
    pub fail_command: Option<i64>,
    /// Fault: write one row that cannot be mapped into this set at start, `App/Set` (e.g.
    /// `Equipment/EquipmentStatusHistory`); `--faults` can give it fields.
    #[arg(long, value_parser = parse_set)]
    pub poison_row: Option<(String, String)>,
    /// Faults from the start as JSON, the body `POST /emulator/faults` takes (e.g.
    /// '{"down": {"seconds": 30, "mode": "unavailable"}}'); the flags above override it.
    #[arg(long, value_parser = parse_faults)]
    pub faults: Option<mesemu::faults::FaultRequest>,
}

fn parse_faults(text: &str) -> Result<mesemu::faults::FaultRequest, String> {
    let request: mesemu::faults::FaultRequest =
        serde_json::from_str(text).map_err(|e| format!("not a fault request: {e}"))?;
    request.validate().map_err(|e| e.to_string())?;
    Ok(request)
}

fn parse_set(text: &str) -> Result<(String, String), String> {
    let (app, set) = text
        .split_once('/')
        .ok_or_else(|| format!("`{text}` is not `App/Set`"))?;
    let poison = mesemu::faults::PoisonRow {
        app: app.to_owned(),
        set: set.to_owned(),
        fields: serde_json::Map::new(),
    };
    poison.entity_set().map_err(|e| e.to_string())?;
    Ok((poison.app, poison.set))
}

fn parse_instant(text: &str) -> Result<model::Timestamp, String> {
    model::Timestamp::parse(text).map_err(|e| format!("not an RFC 3339 instant: {e}"))
}

impl MesEmulatorArgs {
    fn config(&self) -> mesemu::Config {
        let mut faults = self.faults.clone().unwrap_or_default();
        if self.delay_ms > 0 {
            faults.delay_ms = Some(self.delay_ms);
        }
        if self.throttle > 0 {
            faults.throttle = Some(mesemu::faults::Throttle {
                count: self.throttle,
                status: self.throttle_status,
                retry_after_seconds: self.retry_after,
            });
        }
        faults.repeat_page |= self.repeat_page;
        if let Some((app, set)) = &self.poison_row {
            faults.poison_row = Some(mesemu::faults::PoisonRow {
                app: app.clone(),
                set: set.clone(),
                fields: serde_json::Map::new(),
            });
        }
        if let Some(code) = self.fail_command {
            faults.fail_command = Some(mesemu::faults::FailCommand {
                error_code: code,
                message: "the command was refused by the emulator (injected fault)".into(),
                count: 1,
            });
        }
        let defaults = mesemu::Config::default();
        mesemu::Config {
            seed: self.seed,
            start: self.start.unwrap_or(defaults.start),
            days: self.days,
            speed: self.speed,
            page_size: self.page_size,
            credentials: mesemu::auth::Credentials {
                username: self.username.clone(),
                password: self.password.clone(),
                client_id: self.client_id.clone(),
                client_secret: self.client_secret.clone(),
            },
            token_lifetime: Duration::from_secs(self.token_lifetime),
            faults,
            ..defaults
        }
    }
}

pub fn run(args: MesEmulatorArgs) -> anyhow::Result<()> {
    crate::logging::init(tracing::Level::INFO, crate::config::LogFormat::Text);
    let config = args.config();
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(&args.bind)
            .await
            .with_context(|| format!("binding {}", args.bind))?;
        let emulator = mesemu::Emulator::start(listener, config.clone())
            .await
            .context("starting the MES emulator")?;
        let address = emulator.addr();
        let c = &config.credentials;
        println!("MES emulator on http://{address} (Ctrl-C to stop)");
        println!(
            "  plant      seed {} from {} for {} days at ×{}{}",
            config.seed,
            config.start,
            config.days,
            config.speed,
            if config.speed == 0.0 {
                " (moves only through POST /emulator/advance)"
            } else {
                ""
            }
        );
        println!(
            "  sign in    POST http://{address}/sit-auth/OAuth/Token  client {}:{} (HTTP Basic), \
             user {} / {}, scope global",
            c.client_id, c.client_secret, c.username, c.password
        );
        println!(
            "  services   http://{address}/sit-svc/Application/{{App}}/odata/  ({})",
            mesemu::apps().join(", ")
        );
        println!(
            "  admin      /emulator/status, /emulator/faults, /emulator/advance  (HTTP Basic {}:…)",
            c.username
        );
        super::shutdown_signal().await;
        emulator.stop().await;
        anyhow::Ok(())
    })
}
