//! Identifiers of the things genealogy links, normalised to one canonical text per thing.
//!
//! The same pallet arrives as `urn:epc:id:sscc:0614141.1234567890` from one system and as
//! `https://id.gs1.org/00/106141412345678908` from another; the same serial as an SGTIN URN
//! or a GS1 Digital Link URI. [`Id::parse`] maps every spelling to one canonical form:
//!
//! - GS1 keys become GS1 Digital Link URIs on `https://id.gs1.org/` (GTINs padded to 14
//!   digits, check digits computed from the URN's digits), whatever host they came with;
//! - plant-local ids (the simulator's lots, serials and orders, B2MML lot ids) become
//!   `urn:mixplane:<kind>:<id>`, and the shorthand `lot:<id>`, `serial:<id>`, … is accepted;
//! - anything else (business transaction URIs, `urn:uuid:` …) is kept as given.
//!
//! Canonical forms are fixed points: parsing a canonical id gives it back unchanged, which is
//! what makes import → export → import stable.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What an identifier names.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum IdKind {
    /// One discrete item (SGTIN, a plant serial number).
    Serial,
    /// A lot or batch (LGTIN, a process batch, a repetitive lot code).
    Lot,
    /// A logistic unit: a pallet or case (SSCC).
    Pallet,
    /// A production order, a transformation or a business transaction.
    Order,
    /// A unit of equipment (where something happened).
    Unit,
    /// A customer or another party (PGLN, a customer name).
    Customer,
    /// A place (SGLN).
    Location,
    /// A product class without lot or serial (GTIN, an EPC pattern, a material id).
    Product,
    /// A returnable or individual asset (GRAI, GIAI and other GS1 keys).
    Asset,
    /// Anything else.
    Other,
}

model::wire_enum!(
    IdKind,
    "identifier kind",
    [
        Serial, Lot, Pallet, Order, Unit, Customer, Location, Product, Asset, Other
    ]
);

impl IdKind {
    /// The kind named `text`: its wire name (`lot`, `serial` …) or one of the other names
    /// the plant's systems use (`batch`, `sscc`, `party`, `material`).
    pub fn from_name(text: &str) -> Option<IdKind> {
        match text {
            "batch" => Some(IdKind::Lot),
            "sscc" => Some(IdKind::Pallet),
            "party" => Some(IdKind::Customer),
            "material" => Some(IdKind::Product),
            _ => text.parse().ok(),
        }
    }

    pub(crate) fn from_u8(value: u8) -> IdKind {
        IdKind::ALL
            .get(value as usize)
            .copied()
            .unwrap_or(IdKind::Other)
    }

    pub(crate) fn as_u8(self) -> u8 {
        self as u8
    }
}

/// A canonical identifier and what it names.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub struct Id {
    pub kind: IdKind,
    /// The canonical text (see the module docs).
    pub id: String,
}

/// Text that cannot be an identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not an identifier: {reason}")]
pub struct IdError {
    pub text: String,
    pub reason: &'static str,
}

const DL: &str = "https://id.gs1.org/";
const LOCAL: &str = "urn:mixplane:";

impl Id {
    /// A plant-local id of `kind`: `urn:mixplane:<kind>:<local>`.
    pub fn local(kind: IdKind, local: &str) -> Id {
        Id {
            kind,
            id: format!("{LOCAL}{}:{local}", kind.as_str()),
        }
    }

    /// Parses any accepted spelling (see the module docs) into the canonical form.
    pub fn parse(text: &str) -> Result<Id, IdError> {
        let mut id = String::new();
        let kind = parse_into(text, &mut id)?;
        Ok(Id { kind, id })
    }

    /// Parses `text`, reading a bare word (no scheme) as a local id of `kind`.
    pub fn parse_as(kind: IdKind, text: &str) -> Result<Id, IdError> {
        let trimmed = text.trim();
        if !trimmed.contains(':') && !trimmed.is_empty() && !trimmed.chars().any(char::is_control) {
            return Ok(Id::local(kind, trimmed));
        }
        Id::parse(text)
    }

    /// The id without the `urn:mixplane:<kind>:` prefix for local ids; the canonical text
    /// otherwise.
    pub fn short(&self) -> &str {
        short(&self.id)
    }
}

/// [`Id::parse`] appending the canonical text to `out` (nothing is appended on error): the
/// one implementation of canonicalisation, also used by the import fast path to write ids into
/// a shared buffer without allocating one string per id.
pub fn parse_into(text: &str, out: &mut String) -> Result<IdKind, IdError> {
    let start = out.len();
    let result = parse_append(text, out);
    if result.is_err() {
        out.truncate(start);
    }
    result
}

fn parse_append(text: &str, out: &mut String) -> Result<IdKind, IdError> {
    let text = text.trim();
    let err = |reason| IdError {
        text: text.to_owned(),
        reason,
    };
    if text.is_empty() {
        return Err(err("it is empty"));
    }
    let control = if text.is_ascii() {
        text.bytes().any(|b| b < 0x20 || b == 0x7f)
    } else {
        text.chars().any(char::is_control)
    };
    if control {
        return Err(err("it contains control characters"));
    }
    if let Some(rest) = text.strip_prefix(LOCAL) {
        let (kind, local) = rest
            .split_once(':')
            .ok_or_else(|| err("expected urn:mixplane:<kind>:<id>"))?;
        let kind = IdKind::from_name(kind).ok_or_else(|| err("unknown kind in urn:mixplane:"))?;
        if local.is_empty() {
            return Err(err("the local id is empty"));
        }
        push_local(out, kind, local);
        return Ok(kind);
    }
    if let Some(rest) = text.strip_prefix("urn:epc:") {
        let start = out.len();
        if let Some(kind) = parse_epc_urn(rest, out) {
            return Ok(kind);
        }
        out.truncate(start);
        out.push_str(text);
        return Ok(
            if rest.starts_with("class:") || rest.starts_with("idpat:") {
                IdKind::Product
            } else {
                IdKind::Asset
            },
        );
    }
    if text.starts_with("https://") || text.starts_with("http://") {
        let start = out.len();
        if let Some(kind) = parse_digital_link(text, out) {
            return Ok(kind);
        }
        out.truncate(start);
        out.push_str(text);
        return Ok(IdKind::Other);
    }
    if let Some((kind, local)) = text.split_once(':')
        && let Some(kind) = IdKind::from_name(kind)
    {
        if local.is_empty() {
            return Err(err("the local id is empty"));
        }
        push_local(out, kind, local);
        return Ok(kind);
    }
    out.push_str(text);
    Ok(IdKind::Other)
}

fn push_local(out: &mut String, kind: IdKind, local: &str) {
    out.push_str(LOCAL);
    out.push_str(kind.as_str());
    out.push(':');
    out.push_str(local);
}

/// [`parse_into`] for many ids in a row, remembering the last SGTIN or LGTIN prefix
/// (`urn:epc:id:sgtin:<company>.<item>.`) and its canonical form, so that the serials or lots
/// of one product skip the GTIN arithmetic. The answer is always [`parse_into`]'s.
#[derive(Debug, Default)]
pub struct Canonicaliser {
    /// The URN up to and including its last `.`, its canonical form up to and including
    /// `/21/` or `/10/`, and the kind.
    last: Option<(String, String, IdKind)>,
}

impl Canonicaliser {
    pub fn parse_into(&mut self, text: &str, out: &mut String) -> Result<IdKind, IdError> {
        if let Some((prefix, canonical, kind)) = &self.last
            && let Some(rest) = text.strip_prefix(prefix.as_str())
            && plain_tail(rest)
        {
            out.push_str(canonical);
            out.push_str(rest);
            return Ok(*kind);
        }
        let start = out.len();
        let kind = parse_into(text, out)?;
        if matches!(kind, IdKind::Serial | IdKind::Lot)
            && let Some(dot) = text.rfind('.')
            && text.starts_with("urn:epc:")
            && plain_tail(&text[dot + 1..])
        {
            let tail = &text[dot + 1..];
            let canonical = &out[start..out.len() - tail.len()];
            self.last = Some((text[..=dot].to_owned(), canonical.to_owned(), kind));
        }
        Ok(kind)
    }
}

/// A serial or lot that a Digital Link path holds as it is, and that leaves the URN's
/// scheme and parts as they were: non-empty, no `.` or `:`, no white space or controls.
fn plain_tail(tail: &str) -> bool {
    !tail.is_empty()
        && tail
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_~!$&'()*+,;=@".contains(&b))
}

/// The kind of a canonical GS1 Digital Link id (`https://id.gs1.org/01/…/21/…`), found
/// without allocating; `None` for anything else (which then needs [`Id::parse`]).
pub fn canonical_kind(text: &str) -> Option<IdKind> {
    let path = text.strip_prefix(DL)?.as_bytes();
    // At most four segments: AI, key, and an optional qualifier AI and value.
    let mut seg = [&path[..0]; 4];
    let mut n = 0;
    for part in path.split(|&b| b == b'/') {
        if n == 4 {
            return None;
        }
        seg[n] = part;
        n += 1;
    }
    if n < 2 {
        return None;
    }
    let qualifier = (n >= 3).then_some(seg[2]);
    let value = (n == 4).then_some(seg[3]);
    Some(match (seg[0], qualifier, value) {
        (b"01", Some(b"21"), Some(_)) => IdKind::Serial,
        (b"01", Some(b"10"), Some(_)) => IdKind::Lot,
        (b"01", None, None) => IdKind::Product,
        (b"00", None, None) => IdKind::Pallet,
        (b"414", _, _) => IdKind::Location,
        (b"417", None, None) => IdKind::Customer,
        (b"8003" | b"8004", None, None) => IdKind::Asset,
        _ => return None,
    })
}

/// [`Id::short`] on canonical text.
pub fn short(canonical: &str) -> &str {
    canonical
        .strip_prefix(LOCAL)
        .and_then(|rest| rest.split_once(':'))
        .map_or(canonical, |(_, local)| local)
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id)
    }
}

/// GS1 mod-10 check digit over `digits` (all ASCII digits).
fn check_digit(digits: &str) -> char {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    char::from(b'0' + ((10 - sum % 10) % 10) as u8)
}

fn all_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// Appends `digits` and their check digit.
fn push_checked(out: &mut String, digits: &[&str]) {
    let start = out.len();
    digits.iter().for_each(|d| out.push_str(d));
    let check = check_digit(&out[start..]);
    out.push(check);
}

/// Appends the GTIN-14 of an EPC company prefix and indicator + item reference.
fn push_gtin14(out: &mut String, company: &str, indicator_item: &str) -> Option<()> {
    if !all_digits(company) || !all_digits(indicator_item) {
        return None;
    }
    if company.len() + indicator_item.len() != 13 {
        return None;
    }
    push_checked(out, &[&indicator_item[..1], company, &indicator_item[1..]]);
    Some(())
}

/// Appends a 13-digit key (GLN, …) from a company prefix and a reference.
fn push_key13(out: &mut String, company: &str, reference: &str) -> Option<()> {
    if !all_digits(company) || !all_digits(reference) || company.len() + reference.len() != 12 {
        return None;
    }
    push_checked(out, &[company, reference]);
    Some(())
}

/// Appends `text` percent-encoding the characters a Digital Link path segment cannot hold
/// as they are.
fn push_dl_segment(out: &mut String, text: &str) {
    let plain = |b: u8| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b);
    if text.bytes().all(plain) {
        out.push_str(text);
        return;
    }
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b) {
            out.push(char::from(b));
        } else {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
}

/// Appends the canonical form of an EPC URN (after `urn:epc:`); `None` (with whatever it
/// appended left for the caller to cut) when it is not a URN this crate maps.
fn parse_epc_urn(rest: &str, out: &mut String) -> Option<IdKind> {
    let (scheme, body) = rest.rsplit_once(':')?;
    // Up to three dot-separated parts; more than three matches no scheme.
    let mut buf = [""; 3];
    let mut n = 0;
    for part in body.split('.') {
        if n == 3 {
            return None;
        }
        buf[n] = part;
        n += 1;
    }
    let parts = &buf[..n];
    out.push_str(DL);
    match (scheme, parts) {
        ("id:sgtin", [company, item, serial]) if !serial.is_empty() => {
            out.push_str("01/");
            push_gtin14(out, company, item)?;
            out.push_str("/21/");
            push_dl_segment(out, serial);
            Some(IdKind::Serial)
        }
        ("class:lgtin", [company, item, lot]) if !lot.is_empty() => {
            out.push_str("01/");
            push_gtin14(out, company, item)?;
            out.push_str("/10/");
            push_dl_segment(out, lot);
            Some(IdKind::Lot)
        }
        ("idpat:sgtin", [company, item, "*"]) => {
            out.push_str("01/");
            push_gtin14(out, company, item)?;
            Some(IdKind::Product)
        }
        ("id:sscc", [company, serial]) => {
            if !all_digits(company) || !all_digits(serial) || company.len() + serial.len() != 17 {
                return None;
            }
            out.push_str("00/");
            push_checked(out, &[&serial[..1], company, &serial[1..]]);
            Some(IdKind::Pallet)
        }
        ("id:sgln", [company, location, ext]) => {
            out.push_str("414/");
            push_key13(out, company, location)?;
            if !(*ext == "0" || ext.is_empty()) {
                out.push_str("/254/");
                push_dl_segment(out, ext);
            }
            Some(IdKind::Location)
        }
        ("id:pgln", [company, party]) => {
            out.push_str("417/");
            push_key13(out, company, party)?;
            Some(IdKind::Customer)
        }
        ("id:grai", [company, asset, serial]) => {
            out.push_str("8003/0");
            push_key13(out, company, asset)?;
            push_dl_segment(out, serial);
            Some(IdKind::Asset)
        }
        ("id:giai", [company, asset]) if all_digits(company) => {
            out.push_str("8004/");
            out.push_str(company);
            push_dl_segment(out, asset);
            Some(IdKind::Asset)
        }
        _ => None,
    }
}

/// Appends the canonical form of a GS1 Digital Link URI (any host); `None` (with whatever it
/// appended left for the caller to cut) when it is not one.
fn parse_digital_link(text: &str, out: &mut String) -> Option<IdKind> {
    let after_scheme = text.split_once("://")?.1;
    let path = after_scheme.split_once('/')?.1;
    let path = path.split(['?', '#']).next()?;
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    // The primary key is the first recognised AI; anything before it is a path prefix.
    let start = segments
        .iter()
        .position(|s| matches!(*s, "01" | "00" | "414" | "417" | "8003" | "8004"))?;
    let segments = &segments[start..];
    if !segments.len().is_multiple_of(2) {
        return None;
    }
    let value = |i: usize| segments.get(i).copied();
    let ai = segments[0];
    let key = value(1)?;
    let mut dl = |kind, parts: &[&str]| {
        out.push_str(DL);
        parts.iter().for_each(|p| out.push_str(p));
        Some(kind)
    };
    match ai {
        "01" => {
            if !all_digits(key) || !matches!(key.len(), 8 | 12 | 13 | 14) {
                return None;
            }
            let zeros = &"000000"[..14 - key.len()];
            match (value(2), value(3)) {
                (Some("21"), Some(serial)) => {
                    dl(IdKind::Serial, &["01/", zeros, key, "/21/", serial])
                }
                (Some("10"), Some(lot)) => dl(IdKind::Lot, &["01/", zeros, key, "/10/", lot]),
                (None, None) => dl(IdKind::Product, &["01/", zeros, key]),
                _ => None,
            }
        }
        "00" if all_digits(key) && key.len() == 18 && segments.len() == 2 => {
            dl(IdKind::Pallet, &["00/", key])
        }
        "414" if all_digits(key) && key.len() == 13 => match (value(2), value(3)) {
            (Some("254"), Some(ext)) if ext != "0" => {
                dl(IdKind::Location, &["414/", key, "/254/", ext])
            }
            (Some("254"), Some(_)) | (None, None) => dl(IdKind::Location, &["414/", key]),
            _ => None,
        },
        "417" if all_digits(key) && key.len() == 13 && segments.len() == 2 => {
            dl(IdKind::Customer, &["417/", key])
        }
        "8003" | "8004" if segments.len() == 2 => dl(IdKind::Asset, &[ai, "/", key]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(text: &str) -> String {
        Id::parse(text).unwrap().id
    }

    #[test]
    fn urn_and_digital_link_spellings_meet() {
        // GTIN 70614141123451 = indicator 7, company 0614141, item 12345, check 1.
        assert_eq!(
            canon("urn:epc:class:lgtin:0614141.712345.998877"),
            "https://id.gs1.org/01/70614141123451/10/998877"
        );
        assert_eq!(
            canon("https://id.gs1.org/01/70614141123451/10/998877"),
            canon("urn:epc:class:lgtin:0614141.712345.998877")
        );
        assert_eq!(
            canon("urn:epc:id:sgtin:0614141.107346.2017"),
            canon("https://example.com/some/prefix/01/10614141073464/21/2017?x=1")
        );
        // SSCC 106141412345678908 from the GS1 examples.
        assert_eq!(
            canon("urn:epc:id:sscc:0614141.1234567890"),
            "https://id.gs1.org/00/106141412345678908"
        );
        assert_eq!(
            Id::parse("https://id.gs1.org/00/040123450000003338")
                .unwrap()
                .kind,
            IdKind::Pallet
        );
        assert_eq!(
            canon("urn:epc:id:sscc:4012345.0000000333"),
            "https://id.gs1.org/00/040123450000003338"
        );
        assert_eq!(
            canon("urn:epc:id:sgln:0614141.00777.0"),
            "https://id.gs1.org/414/0614141007776"
        );
        assert_eq!(
            canon("urn:epc:idpat:sgtin:4012345.066666.*"),
            canon("https://id.gs1.org/01/04012345666663")
        );
    }

    #[test]
    fn the_canonicaliser_answers_as_parse_does() {
        let texts = [
            "urn:epc:id:sgtin:0614141.107346.2017",
            "urn:epc:id:sgtin:0614141.107346.2018",
            "urn:epc:id:sgtin:0614141.107346.20 18",
            "urn:epc:id:sgtin:0614141.107346.a%b",
            "urn:epc:id:sgtin:0614141.107346.",
            "urn:epc:id:sgtin:0614141.107346.1.2",
            "urn:epc:id:sgtin:0614141.107346.x:y",
            "urn:epc:id:sgtin:0614141.107346.7\u{1}",
            "urn:epc:id:sgtin:0614141.107346.8 ",
            "urn:epc:class:lgtin:4012345.012345.998877",
            "urn:epc:class:lgtin:4012345.012345.L2",
            "urn:epc:id:sgtin:0614141.107346.2019",
            "urn:epc:id:sscc:0614141.1234567890",
            "lot:B-1",
        ];
        let mut c = Canonicaliser::default();
        for &text in texts.iter().chain(texts.iter().rev()) {
            let (mut a, mut b) = (String::from("x"), String::from("x"));
            let expected = parse_into(text, &mut a);
            assert_eq!(c.parse_into(text, &mut b), expected, "{text}");
            assert_eq!(a, b, "{text}");
        }
    }

    #[test]
    fn canonical_forms_are_fixed_points_and_local_ids_work() {
        for text in [
            "urn:epc:id:sgtin:0614141.107346.2017",
            "urn:epc:class:lgtin:4012345.012345.998877",
            "urn:epc:id:sscc:0614141.1234567890",
            "urn:epc:id:grai:4012345.55555.987",
            "urn:epc:id:giai:4000001.12345",
            "urn:epc:id:gdti:4012345.55555.98",
            "lot:B-1",
            "http://transaction.acme.com/po/12345678",
        ] {
            let once = Id::parse(text).unwrap();
            assert_eq!(Id::parse(&once.id).unwrap(), once, "{text}");
        }
        for text in [
            "urn:epc:id:sgtin:0614141.107346.2017",
            "urn:epc:class:lgtin:4012345.012345.998877",
            "urn:epc:id:sscc:0614141.1234567890",
            "urn:epc:id:sgln:0614141.00777.0",
            "urn:epc:id:pgln:4012345.00225",
            "urn:epc:idpat:sgtin:4012345.066666.*",
        ] {
            let id = Id::parse(text).unwrap();
            assert_eq!(canonical_kind(&id.id), Some(id.kind), "{text}");
        }
        let lot = Id::parse("lot:B-1").unwrap();
        assert_eq!(lot.id, "urn:mixplane:lot:B-1");
        assert_eq!(lot.short(), "B-1");
        assert_eq!(
            Id::parse_as(IdKind::Serial, "SN-7").unwrap().id,
            "urn:mixplane:serial:SN-7"
        );
        assert!(Id::parse("").is_err());
        assert!(Id::parse("urn:mixplane:nope:x").is_err());
    }
}
