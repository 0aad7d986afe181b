//! OData query options → the store's backend-neutral query spec (`store::query`): `$filter`
//! into a [`Filter`] (fields checked against the set, literals typed by the field they meet),
//! `$orderby` into sort keys, `$select` into field names. What the spec cannot say is refused
//! as [`ReadError::Unsupported`] (501), what is wrong as [`ReadError::Bad`] (400), each naming
//! the option and the offending part; nothing is evaluated in memory.

use ::odata::{CompareOp, Expr, Function, LambdaKind, Literal, OrderBy, SelectItem};
use store::query::{self, Field, Filter, Kind, Op, Operand, SetDef, SortKey, TextTest, Value};

use super::ReadError;

/// What a path inside a filter may name besides the row's fields: a lambda's variable.
#[derive(Clone, Copy)]
enum Scope<'a> {
    /// The row of the set itself.
    Row,
    /// Inside `items/any(v: …)` over a text list: `v` is the item.
    Item(&'a str),
}

/// Translates a `$filter` over `def`'s rows.
pub fn filter(def: &SetDef, expr: &Expr) -> Result<Filter, ReadError> {
    boolean(def, expr, Scope::Row, None)
}

/// `var`: the variable of an enclosing lambda over `def`'s rows (its paths are `var/field`).
fn boolean(
    def: &SetDef,
    expr: &Expr,
    scope: Scope<'_>,
    var: Option<&str>,
) -> Result<Filter, ReadError> {
    match expr {
        Expr::And(a, b) => Ok(boolean(def, a, scope, var)?.and(boolean(def, b, scope, var)?)),
        Expr::Or(a, b) => Ok(boolean(def, a, scope, var)?.or(boolean(def, b, scope, var)?)),
        Expr::Not(inner) => Ok(Filter::Not(Box::new(boolean(def, inner, scope, var)?))),
        Expr::Compare { op, left, right } => compare(def, *op, left, right, scope, var),
        Expr::In { value, list } => {
            let (subject, kind) = operand(def, value, scope, var)?;
            let kind = kind.ok_or_else(|| unsupported("`in` over a literal"))?;
            let values = list
                .iter()
                .map(|item| match item {
                    Expr::Literal(literal) => typed(literal, kind),
                    other => Err(unsupported(&format!(
                        "`in` with a non-literal item `{other}`"
                    ))),
                })
                .collect::<Result<_, _>>()?;
            Ok(Filter::In { subject, values })
        }
        Expr::Call { function, args } => {
            let test = match function {
                Function::Contains => TextTest::Contains,
                Function::StartsWith => TextTest::StartsWith,
                Function::EndsWith => TextTest::EndsWith,
                other => {
                    return Err(unsupported(&format!(
                        "the function {}() as a condition",
                        other.name()
                    )));
                }
            };
            let (subject, kind) = operand(def, &args[0], scope, var)?;
            if kind != Some(Kind::Text) {
                return Err(bad(&format!(
                    "{}() needs a text property first, found `{}`",
                    function.name(),
                    args[0]
                )));
            }
            let Expr::Literal(Literal::String(pattern)) = &args[1] else {
                return Err(unsupported(&format!(
                    "{}() with a second argument that is not a string literal (`{}`)",
                    function.name(),
                    args[1]
                )));
            };
            Ok(Filter::Text {
                test,
                subject,
                pattern: pattern.clone(),
            })
        }
        Expr::Lambda { path, kind, body } => lambda(def, path, *kind, body.as_ref(), var),
        Expr::Path(_) => {
            // A Boolean property on its own: `active`.
            let (subject, kind) = operand(def, expr, scope, var)?;
            if kind != Some(Kind::Boolean) {
                return Err(bad(&format!("`{expr}` is not a Boolean condition")));
            }
            Ok(Filter::Compare {
                op: Op::Eq,
                left: subject,
                right: Operand::Value(Value::Bool(true)),
            })
        }
        Expr::Literal(literal) => Err(unsupported(&format!("the constant condition `{literal}`"))),
    }
}

fn lambda(
    def: &SetDef,
    path: &[String],
    kind: LambdaKind,
    body: Option<&::odata::expr::LambdaBody>,
    outer_var: Option<&str>,
) -> Result<Filter, ReadError> {
    let path = strip_var(path, outer_var);
    if kind == LambdaKind::All && body.is_none() {
        return Err(bad("all() needs a predicate"));
    }
    let [name] = path else {
        return Err(unsupported(&format!(
            "a lambda over the path `{}` (one navigation property or collection of this entity)",
            path.join("/")
        )));
    };
    if let Some(navigation) = def.navigation(name) {
        if !navigation.many {
            return Err(bad(&format!(
                "`{name}` is a single-valued navigation property; any/all need a collection"
            )));
        }
        let predicate = body
            .map(|b| {
                let target = query::def(navigation.target);
                boolean(target, &b.predicate, Scope::Row, Some(&b.variable))
            })
            .transpose()?;
        return Ok(quantify(kind, predicate, |predicate| Filter::AnyRelated {
            navigation,
            predicate,
        }));
    }
    match def.field(name) {
        Some(field) if field.kind == Kind::TextList => {
            let predicate = body
                .map(|b| boolean(def, &b.predicate, Scope::Item(&b.variable), None))
                .transpose()?;
            Ok(quantify(kind, predicate, |predicate| Filter::AnyItem {
                field: field.name,
                predicate,
            }))
        }
        Some(_) => Err(bad(&format!(
            "`{name}` is not a collection; any/all need one"
        ))),
        None => Err(unknown_property(def, name)),
    }
}

/// `any` as is; `all(p)` as "not any(not p)" (an `all()` without a predicate is refused
/// before, in [`lambda`]).
fn quantify(
    kind: LambdaKind,
    predicate: Option<Filter>,
    make: impl FnOnce(Option<Box<Filter>>) -> Filter,
) -> Filter {
    match (kind, predicate) {
        (LambdaKind::All, Some(p)) => {
            Filter::Not(Box::new(make(Some(Box::new(Filter::Not(Box::new(p)))))))
        }
        (_, p) => make(p.map(Box::new)),
    }
}

/// A path with the enclosing lambda's variable stripped from its front.
fn strip_var<'p>(path: &'p [String], var: Option<&str>) -> &'p [String] {
    match (path.first(), var) {
        (Some(first), Some(var)) if first == var => &path[1..],
        _ => path,
    }
}

fn compare(
    def: &SetDef,
    op: CompareOp,
    left: &Expr,
    right: &Expr,
    scope: Scope<'_>,
    var: Option<&str>,
) -> Result<Filter, ReadError> {
    let op = match op {
        CompareOp::Eq => Op::Eq,
        CompareOp::Ne => Op::Ne,
        CompareOp::Gt => Op::Gt,
        CompareOp::Ge => Op::Ge,
        CompareOp::Lt => Op::Lt,
        CompareOp::Le => Op::Le,
    };
    let (l, lk) = operand(def, left, scope, var)?;
    let (r, rk) = operand(def, right, scope, var)?;
    let (left, right) = match (lk, rk) {
        (Some(a), Some(b)) if comparable(a, b) => (l, r),
        (Some(a), Some(b)) => {
            return Err(bad(&format!(
                "cannot compare `{left}` ({}) with `{right}` ({})",
                super::schema::edm_type(a),
                super::schema::edm_type(b)
            )));
        }
        (Some(kind), None) => (l, retype(right, kind)?),
        (None, Some(kind)) => (retype(left, kind)?, r),
        (None, None) => {
            return Err(unsupported(&format!(
                "a comparison of two literals (`{left}`, `{right}`)"
            )));
        }
    };
    // OData orders null before everything, and null is equal to null: `x ge null` is
    // `x eq null`, `x gt null` is never true (nor `null gt x`, `x lt null`, ...).
    let null = Operand::Value(Value::Null);
    if (left == null || right == null) && !matches!(op, Op::Eq | Op::Ne) {
        let other = if left == null { right } else { left };
        return Ok(match op {
            Op::Ge | Op::Le => Filter::Compare {
                op: Op::Eq,
                left: other,
                right: null,
            },
            // An empty `in` list: false (and `not` of it true).
            _ => Filter::In {
                subject: other,
                values: Vec::new(),
            },
        });
    }
    Ok(Filter::Compare { op, left, right })
}

fn comparable(a: Kind, b: Kind) -> bool {
    let numeric = |k| matches!(k, Kind::Integer | Kind::Real);
    a == b || (numeric(a) && numeric(b))
}

fn retype(expr: &Expr, kind: Kind) -> Result<Operand, ReadError> {
    match expr {
        Expr::Literal(literal) => Ok(Operand::Value(typed(literal, kind)?)),
        other => Err(unsupported(&format!("the operand `{other}`"))),
    }
}

/// An operand and, for a property, its kind (`None` for a literal, typed by the other side).
fn operand(
    def: &SetDef,
    expr: &Expr,
    scope: Scope<'_>,
    var: Option<&str>,
) -> Result<(Operand, Option<Kind>), ReadError> {
    match expr {
        Expr::Literal(_) => Ok((Operand::Value(Value::Null), None)),
        Expr::Path(path) => {
            if let Scope::Item(item) = scope
                && path.len() == 1
                && path[0] == item
            {
                return Ok((Operand::Item, Some(Kind::Text)));
            }
            let field = field_of(def, strip_var(path, var))?;
            if field.kind == Kind::TextList {
                return Err(bad(&format!(
                    "`{}` is a collection; compare its items inside any()",
                    field.name
                )));
            }
            Ok((Operand::Field(field.name), Some(field.kind)))
        }
        Expr::Call { function, args }
            if matches!(function, Function::ToLower | Function::ToUpper) =>
        {
            let (inner, kind) = operand(def, &args[0], scope, var)?;
            match (inner, kind) {
                (Operand::Field(field), Some(Kind::Text)) => Ok((
                    Operand::Case {
                        field,
                        upper: *function == Function::ToUpper,
                    },
                    Some(Kind::Text),
                )),
                _ => Err(unsupported(&format!(
                    "{}() of anything but a text property (`{}`)",
                    function.name(),
                    args[0]
                ))),
            }
        }
        other => Err(unsupported(&format!("the operand `{other}`"))),
    }
}

fn field_of(def: &SetDef, path: &[String]) -> Result<&'static Field, ReadError> {
    match path {
        [name] => def.field(name).ok_or_else(|| unknown_property(def, name)),
        [first, ..] if def.navigation(first).is_some() => Err(unsupported(&format!(
            "the navigation path `{}` in a filter (use `{first}/any(x: x/…)` for a collection)",
            path.join("/")
        ))),
        _ => Err(unknown_property(def, &path.join("/"))),
    }
}

/// A literal as a value of `kind`; a mismatch is refused, naming both.
fn typed(literal: &Literal, kind: Kind) -> Result<Value, ReadError> {
    let mismatch = || {
        bad(&format!(
            "the literal `{literal}` is not a {}",
            super::schema::edm_type(kind)
        ))
    };
    Ok(match (literal, kind) {
        (Literal::Null, _) => Value::Null,
        (Literal::String(s), Kind::Text | Kind::TextList) => Value::Text(s.clone()),
        (Literal::Integer(i), Kind::Integer) => Value::Integer(*i),
        (Literal::Integer(i), Kind::Real) => Value::Real(*i as f64),
        (Literal::Decimal(text), Kind::Real | Kind::Integer) => {
            Value::Real(text.parse().map_err(|_| mismatch())?)
        }
        (Literal::Boolean(b), Kind::Boolean) => Value::Bool(*b),
        (Literal::DateTimeOffset(d), Kind::Time) => {
            let (seconds, nanos) = d.instant();
            Value::Time(seconds * 1000 + i64::from(nanos / 1_000_000))
        }
        (Literal::Date(d), Kind::Time) => Value::Time(d.days_since_epoch() * 86_400_000),
        _ => return Err(mismatch()),
    })
}

/// `$orderby` keys: properties only.
pub fn order(def: &SetDef, orderby: &[OrderBy]) -> Result<Vec<SortKey>, ReadError> {
    orderby
        .iter()
        .map(|key| match &key.expr {
            Expr::Path(path) => {
                let field = field_of(def, path).map_err(|e| e.in_option("$orderby"))?;
                if field.kind == Kind::TextList {
                    return Err(bad(&format!("$orderby: `{}` is a collection", field.name)));
                }
                Ok(SortKey {
                    field: field.name,
                    descending: key.descending,
                })
            }
            other => Err(unsupported(&format!(
                "$orderby by the expression `{other}`"
            ))),
        })
        .collect()
}

/// `$select`: the fields to keep (`None`: all); navigation names are allowed and keep the
/// expanded value.
pub fn select(
    def: &SetDef,
    select: Option<&[SelectItem]>,
) -> Result<Option<Vec<String>>, ReadError> {
    let Some(items) = select else {
        return Ok(None);
    };
    let mut names = Vec::new();
    for item in items {
        match item {
            SelectItem::All => return Ok(None),
            SelectItem::Path(path) => match path.as_slice() {
                [name] if def.field(name).is_some() || def.navigation(name).is_some() => {
                    names.push(name.clone());
                }
                _ => {
                    return Err(ReadError::Bad(format!(
                        "$select: `{}` is not a property of {}",
                        path.join("/"),
                        super::schema::of(def.set).entity_type
                    )));
                }
            },
        }
    }
    Ok(Some(names))
}

/// Every field a filter reads (for the masking check).
pub fn fields_read(filter: &Filter, out: &mut Vec<&'static str>) {
    let operand = |o: &Operand, out: &mut Vec<&'static str>| match o {
        Operand::Field(f) | Operand::Case { field: f, .. } => out.push(f),
        Operand::Item | Operand::Value(_) => {}
    };
    match filter {
        Filter::Compare { left, right, .. } => {
            operand(left, out);
            operand(right, out);
        }
        Filter::Text { subject, .. } | Filter::In { subject, .. } => operand(subject, out),
        Filter::And(a, b) | Filter::Or(a, b) => {
            fields_read(a, out);
            fields_read(b, out);
        }
        Filter::Not(a) => fields_read(a, out),
        Filter::AnyRelated { predicate, .. } => {
            if let Some(p) = predicate {
                fields_read(p, out);
            }
        }
        Filter::AnyItem { field, predicate } => {
            out.push(field);
            if let Some(p) = predicate {
                fields_read(p, out);
            }
        }
    }
}

fn unknown_property(def: &SetDef, name: &str) -> ReadError {
    let known: Vec<&str> = def.fields.iter().map(|f| f.name).collect();
    ReadError::Bad(format!(
        "$filter: `{name}` is not a property of {} (its properties: {})",
        super::schema::of(def.set).entity_type,
        known.join(", ")
    ))
}

fn bad(message: &str) -> ReadError {
    ReadError::Bad(format!("$filter: {message}"))
}

fn unsupported(what: &str) -> ReadError {
    ReadError::Unsupported(format!("{what} is not supported"))
}
