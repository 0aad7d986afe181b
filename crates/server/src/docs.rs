//! The API reference page served at `/docs`: HTML rendered once, at start-up, from the
//! OpenAPI document the server serves at `/v1/openapi.json`, so the two cannot disagree.
//! Self-contained (inline style, no script, nothing fetched from elsewhere), so it reads
//! offline and on a plant network without internet access.

use std::fmt::Write as _;

use serde_json::{Map, Value};

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;margin:0;display:flex;color:#1c1c1c}\
nav{width:18rem;flex:none;height:100vh;overflow:auto;position:sticky;top:0;background:#f4f5f7;\
padding:1rem;box-sizing:border-box;font-size:13px}nav a{display:block;text-decoration:none;\
color:#134;padding:1px 0;overflow-wrap:anywhere}nav h4{margin:.8rem 0 .2rem}main{padding:1rem 2rem;max-width:70rem;\
min-width:0}section.op{border-top:1px solid #ddd;padding:.5rem 0}code,pre{font:13px ui-monospace,\
monospace}pre{background:#f6f8fa;padding:.6rem;overflow:auto;max-height:28rem}table{border-collapse:\
collapse;margin:.3rem 0}td,th{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:\
top}.m{font-weight:bold;text-transform:uppercase;padding:0 4px;border-radius:3px;background:#dde}\
.small{color:#555;font-size:13px}";

/// HTML-escapes `text`.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A description as HTML: escaped, with `code` spans (the one Markdown the descriptions use).
fn prose(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in escape(text).split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{part}</code>");
        } else {
            out.push_str(part);
        }
    }
    out
}

const REF_PREFIX: &str = "#/components/schemas/";

/// `value` as indented JSON, escaped, with every schema reference a link to the schema.
fn json_block(value: &Value) -> String {
    let text = escape(&serde_json::to_string_pretty(value).unwrap_or_default());
    let quoted = format!("&quot;{REF_PREFIX}");
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find(&quoted) {
        out.push_str(&rest[..at]);
        let after = &rest[at + quoted.len()..];
        let end = after.find("&quot;").unwrap_or(after.len());
        let name = &after[..end];
        let _ = write!(
            out,
            "&quot;<a href=\"#schema-{name}\">{REF_PREFIX}{name}</a>&quot;"
        );
        rest = after.get(end + "&quot;".len()..).unwrap_or("");
    }
    out.push_str(rest);
    format!("<pre>{out}</pre>")
}

/// A schema in a line when it is a reference or a list of one, else as a JSON block.
fn schema_html(schema: &Value) -> String {
    let link = |name: &str| format!("<a href=\"#schema-{0}\"><code>{0}</code></a>", escape(name));
    if let Some(name) = schema["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix(REF_PREFIX))
    {
        return link(name);
    }
    if let Some(object) = schema.as_object()
        && object.len() == 1
        && let Some(kind) = schema["type"].as_str()
    {
        return format!("<code>{}</code>", escape(kind));
    }
    if schema["type"] == "array"
        && let Some(name) = schema["items"]["$ref"]
            .as_str()
            .and_then(|r| r.strip_prefix(REF_PREFIX))
    {
        return format!("array of {}", link(name));
    }
    json_block(schema)
}

/// The type of a parameter: its type, format, and the values it takes.
fn parameter_type(schema: &Value) -> String {
    let (list, item) = if schema["type"] == "array" {
        (true, &schema["items"])
    } else {
        (false, schema)
    };
    let mut text = format!(
        "<code>{}</code>",
        escape(item["type"].as_str().unwrap_or(""))
    );
    if let Some(format) = item["format"].as_str() {
        let _ = write!(text, " ({})", escape(format));
    }
    if let Some(values) = item["enum"].as_array() {
        let values: Vec<String> = values
            .iter()
            .map(|v| format!("<code>{}</code>", escape(v.as_str().unwrap_or(""))))
            .collect();
        let _ = write!(text, ": one of {}", values.join(", "));
    }
    if list {
        text.push_str("; a comma-separated list");
    }
    text
}

fn parameters_html(out: &mut String, parameters: &[Value]) {
    out.push_str("<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>type</th><th>description</th></tr>");
    for p in parameters {
        let required = if p["required"] == true { " *" } else { "" };
        let _ = write!(
            out,
            "<tr><td><code>{}</code>{required}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(p["name"].as_str().unwrap_or("")),
            escape(p["in"].as_str().unwrap_or("")),
            parameter_type(&p["schema"]),
            prose(p["description"].as_str().unwrap_or("")),
        );
    }
    out.push_str("</table>");
}

fn content_html(out: &mut String, content: &Map<String, Value>) {
    for (media_type, media) in content {
        let _ = write!(out, "<p><code>{}</code>", escape(media_type));
        if let Some(note) = media["x-description"].as_str() {
            let _ = write!(out, " — {}", prose(note));
        }
        let _ = write!(out, ": {}</p>", schema_html(&media["schema"]));
        if let Some(example) = media.get("example") {
            let _ = write!(out, "<p class=small>Example</p>{}", json_block(example));
        }
    }
}

fn operation_html(out: &mut String, method: &str, path: &str, op: &Value) {
    let id = op["operationId"].as_str().unwrap_or("");
    let _ = write!(
        out,
        "<section class=op id=\"op-{id}\"><h3><span class=m>{}</span> <code>{}</code></h3><p>{}</p>",
        escape(method),
        escape(path),
        prose(op["summary"].as_str().unwrap_or("")),
    );
    let access = if op.get("security").is_some() {
        format!(
            "bearer token with permission <code>{}</code>",
            escape(op["x-mixplane-permission"].as_str().unwrap_or(""))
        )
    } else {
        "public, no token".to_owned()
    };
    let _ = write!(
        out,
        "<p class=small>operationId <code>{}</code> · {access}</p>",
        escape(id)
    );
    if let Some(parameters) = op["parameters"].as_array() {
        parameters_html(out, parameters);
    }
    if let Some(content) = op["requestBody"]["content"].as_object() {
        out.push_str("<h4>Request body</h4>");
        content_html(out, content);
    }
    out.push_str(
        "<h4>Responses</h4><table><tr><th>status</th><th>description</th><th>body</th></tr>",
    );
    for (status, response) in op["responses"].as_object().into_iter().flatten() {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>",
            escape(status),
            prose(response["description"].as_str().unwrap_or(""))
        );
        let mut body = String::new();
        if let Some(content) = response["content"].as_object() {
            if status.starts_with('2') {
                content_html(&mut body, content);
            } else {
                for (media_type, media) in content {
                    let _ = write!(
                        body,
                        "<code>{}</code>: {}",
                        escape(media_type),
                        schema_html(&media["schema"])
                    );
                }
            }
        }
        let _ = write!(out, "{body}</td></tr>");
    }
    out.push_str("</table></section>");
}

/// The reference page of `document`.
pub fn page(document: &Value) -> String {
    let title = escape(document["info"]["title"].as_str().unwrap_or("API"));
    let version = escape(document["info"]["version"].as_str().unwrap_or(""));
    // Operations by tag, in the document's tag order, then any tag it does not list.
    let mut tags: Vec<(String, String)> = document["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            let text = |k: &str| t[k].as_str().unwrap_or("").to_owned();
            (text("name"), text("description"))
        })
        .collect();
    let mut operations: Vec<(String, &str, &str, &Value)> = Vec::new();
    for (path, item) in document["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            let tag = op["tags"][0].as_str().unwrap_or("other").to_owned();
            if !tags.iter().any(|(name, _)| *name == tag) {
                tags.push((tag.clone(), String::new()));
            }
            operations.push((tag, method.as_str(), path.as_str(), op));
        }
    }
    let mut nav = String::new();
    let mut main = String::new();
    let _ = write!(
        main,
        "<h1>{title} API <span class=small>{version}</span></h1><p>{}</p>\
         <p class=small>Rendered from <a href=\"/v1/openapi.json\">/v1/openapi.json</a> (OpenAPI {}).</p>",
        prose(document["info"]["description"].as_str().unwrap_or("")),
        escape(document["openapi"].as_str().unwrap_or("")),
    );
    for (tag, description) in &tags {
        let ops: Vec<_> = operations.iter().filter(|(t, ..)| t == tag).collect();
        if ops.is_empty() {
            continue;
        }
        let tag = escape(tag);
        let _ = write!(nav, "<h4><a href=\"#tag-{tag}\">{tag}</a></h4>");
        let _ = write!(
            main,
            "<h2 id=\"tag-{tag}\">{tag}</h2><p>{}</p>",
            prose(description)
        );
        for (_, method, path, op) in ops {
            let id = escape(op["operationId"].as_str().unwrap_or(""));
            let _ = write!(
                nav,
                "<a href=\"#op-{id}\"><b>{}</b> {}</a>",
                escape(&method.to_ascii_uppercase()),
                escape(path)
            );
            operation_html(&mut main, method, path, op);
        }
    }
    nav.push_str("<h4><a href=\"#schemas\">Schemas</a></h4>");
    main.push_str("<h2 id=schemas>Schemas</h2>");
    for (name, schema) in document["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
    {
        let name = escape(name);
        let _ = write!(
            main,
            "<h3 id=\"schema-{name}\"><code>{name}</code></h3>{}",
            json_block(schema)
        );
    }
    format!(
        "<!doctype html><html lang=en><head><meta charset=utf-8>\
         <meta name=viewport content=\"width=device-width,initial-scale=1\">\
         <title>{title} API reference</title><style>{STYLE}</style></head>\
         <body><nav>{nav}</nav><main>{main}</main></body></html>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_become_links_and_text_is_escaped() {
        let html =
            json_block(&json!({ "a": { "$ref": "#/components/schemas/Order" }, "b": "<x>" }));
        assert!(
            html.contains("<a href=\"#schema-Order\">#/components/schemas/Order</a>"),
            "{html}"
        );
        assert!(html.contains("&lt;x&gt;"), "{html}");
        assert!(!html.contains("<x>"), "{html}");
    }

    #[test]
    fn code_spans_become_code() {
        assert_eq!(
            prose("after `Retry-After` <s>"),
            "after <code>Retry-After</code> &lt;s&gt;"
        );
    }

    #[test]
    fn a_list_parameter_names_its_values() {
        let schema = json!({ "type": "array", "items": { "type": "string", "enum": ["a", "b"] } });
        assert_eq!(
            parameter_type(&schema),
            "<code>string</code>: one of <code>a</code>, <code>b</code>; a comma-separated list"
        );
    }
}
