//! The door the daily-task commands (`proposals`, `holds`, `nc`) go through: the local data
//! directory, or a running server with `--server URL`.
//!
//! Either way the caller is the principal of a token (`--token`, `MIXPLANE_TOKEN`), never the
//! local user: locally the token is verified against the store's principals as the server
//! verifies it, `app::access::authorize` checks the role and site scope the command needs (the
//! rule the server runs for every route), and the use-case in `app` checks the object's areas
//! and audits the write under that principal. Over HTTP the server does all of it. Both doors
//! answer JSON values shaped as the API answers, so one printer serves both.

use anyhow::Context;
use govern::{Permission, Principal};
use serde_json::Value;

use crate::DataArgs;

/// Where a daily-task command runs and who runs it.
#[derive(Debug, clap::Args)]
pub struct DoorArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Base URL of a running `mixplane serve` (e.g. http://127.0.0.1:8080); without it the
    /// command works on the local data directory.
    #[arg(long, env = "MIXPLANE_SERVER")]
    pub server: Option<String>,
    /// API token of the principal acting (`mixplane token create`); decisions are audited
    /// under it and its role and scope apply, locally as over HTTP.
    #[arg(long, env = "MIXPLANE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Print the answer as JSON (the API's shape) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// An open door: the use-cases over the local store as a token's principal, or a server.
pub enum Door {
    Local(Local),
    Remote(Remote),
}

pub struct Local {
    runtime: tokio::runtime::Runtime,
    app: app::App,
    who: Principal,
}

pub struct Remote {
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Door {
    /// Opens the door `args` name, verifying the token locally (the server verifies its own).
    pub fn open(args: &DoorArgs) -> anyhow::Result<Door> {
        let token = args
            .token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .context(
                "this command acts as the principal of an API token: pass --token or set MIXPLANE_TOKEN (`mixplane token create` or `token issue` prints one)",
            )?
            .to_owned();
        let runtime = super::runtime()?;
        if let Some(server) = &args.server {
            let base = server.trim_end_matches('/').to_owned();
            anyhow::ensure!(
                base.starts_with("http://"),
                "--server `{server}`: expected an http:// URL such as http://127.0.0.1:8080 (this build speaks plain HTTP)"
            );
            let client = reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(120))
                .build()
                .context("building the HTTP client")?;
            return Ok(Door::Remote(Remote {
                runtime,
                client,
                base,
                token,
            }));
        }
        let settings = crate::config::resolve(&args.data, None)?;
        let app = super::open_app(&runtime, settings.store_at(), super::Open::Existing)?;
        let who = runtime
            .block_on(app.store.authenticate(&token))
            .context("verifying the token")?
            .context("the token is unknown, revoked or malformed in this data directory's store")?;
        Ok(Door::Local(Local { runtime, app, who }))
    }
}

impl Local {
    /// Runs a use-case as the token's principal once `permission` is granted (the check the
    /// server runs on the route), and answers its result as the API would show it to that
    /// principal (pseudonymised for an agent).
    pub fn call<T, F, Fut>(&self, permission: Permission, call: F) -> anyhow::Result<Value>
    where
        T: serde::Serialize,
        F: FnOnce(app::App, Principal) -> Fut,
        Fut: std::future::Future<Output = Result<T, app::AppError>>,
    {
        self.runtime
            .block_on(async {
                app::access::authorize(&self.app, &self.who, permission).await?;
                let answer = call(self.app.clone(), self.who.clone()).await?;
                let mut value = serde_json::to_value(answer).map_err(|e| {
                    app::AppError::Internal(format!("answer does not serialise: {e}"))
                })?;
                if app::access::reads_pseudonymised(&self.who) {
                    self.app
                        .governance
                        .pseudonymizer(&self.app.store)
                        .await?
                        .protect(&mut value);
                }
                Ok::<_, app::AppError>(value)
            })
            .map_err(anyhow::Error::from)
    }
}

/// The problem+json answer of a refused request, as far as it is one.
#[derive(Debug, serde::Deserialize)]
struct ProblemAnswer {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    detail: Option<String>,
}

impl Remote {
    /// `GET path` (path and query, as the API's `next` links are).
    pub fn get(&self, path: &str) -> anyhow::Result<Value> {
        Ok(self.send(reqwest::Method::GET, path, None, None)?.0)
    }

    /// `GET path`, with the answer's `ETag` when the server sends one (the value `--if-match`
    /// takes).
    pub fn get_tagged(&self, path: &str) -> anyhow::Result<(Value, Option<String>)> {
        self.send(reqwest::Method::GET, path, None, None)
    }

    /// `POST path` with a JSON body and, when given, `If-Match`.
    pub fn post(&self, path: &str, body: &Value, if_match: Option<&str>) -> anyhow::Result<Value> {
        Ok(self
            .send(reqwest::Method::POST, path, Some(body), if_match)?
            .0)
    }

    fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        if_match: Option<&str>,
    ) -> anyhow::Result<(Value, Option<String>)> {
        let url = format!("{}{path}", self.base);
        self.runtime.block_on(async {
            let mut request = self
                .client
                .request(method.clone(), &url)
                .bearer_auth(&self.token);
            if let Some(body) = body {
                request = request.json(body);
            }
            if let Some(tag) = if_match {
                request = request.header(reqwest::header::IF_MATCH, tag);
            }
            let response = request
                .send()
                .await
                .with_context(|| format!("{method} {url}: no answer from the server"))?;
            let status = response.status();
            let etag = response
                .headers()
                .get(reqwest::header::ETAG)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let bytes = response
                .bytes()
                .await
                .with_context(|| format!("{method} {url}: reading the answer"))?;
            if !status.is_success() {
                let problem: Option<ProblemAnswer> = serde_json::from_slice(&bytes).ok();
                let detail = problem
                    .and_then(|p| p.detail.or(p.title))
                    .unwrap_or_else(|| String::from_utf8_lossy(&bytes).trim().to_owned());
                anyhow::bail!("the server answered {status}: {detail}");
            }
            let value = serde_json::from_slice(&bytes)
                .with_context(|| format!("{method} {url}: the answer is not JSON"))?;
            Ok((value, etag))
        })
    }

    /// Every item of a list, following its `next` links until null (an answer without
    /// `next` is one page), at most `max` of them.
    pub fn list(&self, first: &str, key: &str, max: Option<usize>) -> anyhow::Result<Vec<Value>> {
        let mut items = Vec::new();
        let mut path = Some(first.to_owned());
        while let Some(current) = path.take() {
            let mut page = self.get(&current)?;
            let page_items = match page.get_mut(key).map(Value::take) {
                Some(Value::Array(list)) => list,
                _ => anyhow::bail!("GET {current}: the answer has no `{key}` list"),
            };
            items.extend(page_items);
            if max.is_some_and(|max| items.len() >= max) {
                break;
            }
            path = page.get("next").and_then(Value::as_str).map(str::to_owned);
        }
        if let Some(max) = max {
            items.truncate(max);
        }
        Ok(items)
    }
}

/// Follows the local use-case's pages (limit and offset) the way [`Remote::list`] follows
/// `next`: `fetch(offset, limit)` answers a page as JSON with `items` and `total`.
pub fn local_pages(
    max: Option<usize>,
    mut fetch: impl FnMut(u32, u32) -> anyhow::Result<Value>,
) -> anyhow::Result<Vec<Value>> {
    const PAGE: u32 = 1000;
    let mut items = Vec::new();
    let mut offset = 0u32;
    loop {
        let mut page = fetch(offset, PAGE)?;
        let total = page.get("total").and_then(Value::as_u64).unwrap_or(0);
        let Some(Value::Array(list)) = page.get_mut("items").map(Value::take) else {
            anyhow::bail!("a page of the use-case has no `items` list");
        };
        let got = list.len();
        items.extend(list);
        offset = offset.saturating_add(PAGE);
        let done = got == 0 || u64::from(offset) >= total;
        if done || max.is_some_and(|max| items.len() >= max) {
            break;
        }
    }
    if let Some(max) = max {
        items.truncate(max);
    }
    Ok(items)
}

/// A query string from the pairs that have a value, with `limit` for the page size.
pub fn query(path: &str, pairs: &[(&str, Option<String>)]) -> String {
    let mut out = format!("{path}?limit=1000");
    for (name, value) in pairs {
        if let Some(value) = value {
            out.push('&');
            out.push_str(name);
            out.push('=');
            out.push_str(&encode(value));
        }
    }
    out
}

/// Percent-encodes a path segment or query value (unreserved characters pass).
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Prints `value` as pretty JSON.
pub fn print_json(value: &Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// A text cell of a JSON field (`-` when absent or null).
pub fn cell(value: &Value, pointer: &str) -> String {
    match value.pointer(pointer) {
        None | Some(Value::Null) => "-".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// Prints rows as a table with a header, columns padded to their widest cell.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let mut out = String::new();
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                out.push_str(c);
            } else {
                out.push_str(&format!("{c:<w$}  "));
            }
        }
        println!("{}", out.trim_end());
    };
    line(header.iter().map(|h| (*h).to_owned()).collect());
    for row in rows {
        line(row.clone());
    }
}

/// Prints a list: `{"<key>": [...]}` with `--json`, else a table (or a line saying it is
/// empty).
pub fn print_list(
    json: bool,
    key: &str,
    items: Vec<Value>,
    header: &[&str],
    row: impl Fn(&Value) -> Vec<String>,
) -> anyhow::Result<()> {
    if json {
        return print_json(&serde_json::json!({ key: items }));
    }
    if items.is_empty() {
        println!("(none)");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = items.iter().map(row).collect();
    print_table(header, &rows);
    Ok(())
}

/// The ETag of a shown object, for `--if-match`: a line of the text view; with `--json` (the
/// API's body, unchanged) on stderr, so stdout stays one JSON value.
pub fn print_etag(json: bool, etag: Option<&str>) {
    match (etag, json) {
        (None, _) => {}
        (Some(tag), false) => println!("  etag         {tag}   (--if-match)"),
        (Some(tag), true) => eprintln!("etag {tag}"),
    }
}

/// A local use-case's `(object, entity tag)` answer, as `call` gives it (a JSON pair), split
/// like a remote answer and its `ETag` header.
pub fn split_tagged(pair: Value) -> (Value, Option<String>) {
    match pair {
        Value::Array(mut pair) if pair.len() == 2 => {
            let tag = pair.pop().and_then(|t| t.as_str().map(str::to_owned));
            (pair.pop().unwrap_or(Value::Null), tag)
        }
        other => (other, None),
    }
}

/// What `--if-match` expects, read as the server reads `If-Match` (`app::conditional`), for a
/// local write; over `--server` the value goes as the header and the server reads it.
pub fn expected(if_match: Option<&str>) -> anyhow::Result<Option<app::conditional::Expected>> {
    if_match
        .map(|text| {
            app::conditional::Expected::parse(text)
                .map_err(|why| anyhow::anyhow!("--if-match: {why}"))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    use serde_json::json;

    use super::*;

    /// A server of canned pages on loopback: answers each request by its path and records
    /// the request lines and whether each carried the bearer token.
    fn pages(
        answers: Vec<(&'static str, Value)>,
    ) -> (String, std::thread::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let mut seen = Vec::new();
            for _ in 0..answers.len() {
                let (stream, _) = listener.accept().unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let mut authorised = false;
                loop {
                    let mut header = String::new();
                    reader.read_line(&mut header).unwrap();
                    if header.trim().is_empty() {
                        break;
                    }
                    authorised |= header.eq_ignore_ascii_case("authorization: bearer t\r\n");
                }
                let path = line.split_whitespace().nth(1).unwrap().to_owned();
                let body = answers.iter().find(|(p, _)| *p == path).map_or_else(
                    || json!({"detail": "no such page"}).to_string(),
                    |(_, b)| b.to_string(),
                );
                let mut stream = stream;
                write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                )
                .unwrap();
                seen.push(format!("{path} {authorised}"));
            }
            seen
        });
        (base, handle)
    }

    fn remote(base: String) -> Remote {
        Remote {
            runtime: super::super::runtime().unwrap(),
            client: reqwest::Client::new(),
            base,
            token: "t".into(),
        }
    }

    #[test]
    fn a_list_follows_next_until_null_and_a_page_without_next_is_the_last() {
        let (base, server) = pages(vec![
            (
                "/v1/x?limit=1000",
                json!({"items": [1, 2], "next": "/v1/x?cursor=a%20b"}),
            ),
            ("/v1/x?cursor=a%20b", json!({"items": [3], "next": null})),
        ]);
        let items = remote(base)
            .list("/v1/x?limit=1000", "items", None)
            .unwrap();
        assert_eq!(items, vec![json!(1), json!(2), json!(3)]);
        let seen = server.join().unwrap();
        assert_eq!(seen, ["/v1/x?limit=1000 true", "/v1/x?cursor=a%20b true"]);

        let (base, server) = pages(vec![("/v1/y", json!({"items": [1], "total": 9}))]);
        let items = remote(base).list("/v1/y", "items", None).unwrap();
        assert_eq!(items, vec![json!(1)]);
        server.join().unwrap();

        // --limit stops at the page that reaches it.
        let (base, server) = pages(vec![(
            "/v1/z",
            json!({"items": [1, 2, 3], "next": "/v1/z?c=1"}),
        )]);
        let items = remote(base).list("/v1/z", "items", Some(2)).unwrap();
        assert_eq!(items, vec![json!(1), json!(2)]);
        server.join().unwrap();
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(
            query("/v1/p", &[("area", Some("A B&C".into())), ("kind", None)]),
            "/v1/p?limit=1000&area=A%20B%26C"
        );
    }
}
