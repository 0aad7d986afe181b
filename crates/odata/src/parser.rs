//! The expression parser: tokens of `$filter` and `$orderby` to [`Expr`], by recursive descent
//! over the OData operator precedence (highest first: grouping; primary — member paths,
//! function calls, `in`; unary `not`; relational `gt ge lt le`; equality `eq ne`; `and`;
//! `or`), operators of one level associating to the left. Also the path lists of `$select`.
//!
//! Nesting is bounded ([`MAX_DEPTH`]) so that no input can exhaust the stack.

use crate::error::QueryError;
use crate::expr::{CompareOp, Expr, Function, LambdaBody, LambdaKind, Literal};
use crate::lexer::{Spanned, Token, tokenize};

/// The deepest nesting of parentheses, `not`s, calls and lambdas accepted.
pub(crate) const MAX_DEPTH: usize = 64;

pub(crate) struct Parser<'a> {
    option: &'a str,
    text_len: usize,
    tokens: Vec<Spanned>,
    at: usize,
    depth: usize,
}

/// An `$orderby` item as parsed: the expression and whether it is descending.
pub(crate) type OrderItem = (Expr, bool);

impl<'a> Parser<'a> {
    pub fn new(option: &'a str, text: &str) -> Result<Parser<'a>, QueryError> {
        Ok(Parser {
            option,
            text_len: text.len(),
            tokens: tokenize(option, text)?,
            at: 0,
            depth: 0,
        })
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|s| &s.token)
    }

    fn peek_at(&self, ahead: usize) -> Option<&Token> {
        self.tokens.get(self.at + ahead).map(|s| &s.token)
    }

    fn position(&self) -> usize {
        self.tokens
            .get(self.at)
            .map_or(self.text_len, |s| s.position)
    }

    fn found(&self) -> String {
        self.peek()
            .map_or_else(|| "end of input".to_owned(), Token::describe)
    }

    fn error(&self, expected: impl Into<String>) -> QueryError {
        QueryError::syntax(self.option, self.position(), expected, self.found())
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).map(|s| s.token.clone());
        self.at += 1;
        token
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Ident(w)) if w == word)
    }

    fn expect(&mut self, token: &Token, expected: &str) -> Result<(), QueryError> {
        if self.peek() == Some(token) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.error(expected))
        }
    }

    pub fn expect_end(&self, expected: &str) -> Result<(), QueryError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.error(expected)),
        }
    }

    fn descend(&mut self) -> Result<(), QueryError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(format!("at most {MAX_DEPTH} levels of nesting")));
        }
        Ok(())
    }

    /// A whole expression: `or` at the top.
    pub fn expr(&mut self) -> Result<Expr, QueryError> {
        self.descend()?;
        let mut left = self.and_expr()?;
        while self.is_word("or") {
            self.at += 1;
            let right = self.and_expr()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        self.depth -= 1;
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.equality()?;
        while self.is_word("and") {
            self.at += 1;
            let right = self.equality()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn comparison_op(&self, equality: bool) -> Option<CompareOp> {
        let Some(Token::Ident(word)) = self.peek() else {
            return None;
        };
        let op = CompareOp::from_keyword(word)?;
        let is_equality = matches!(op, CompareOp::Eq | CompareOp::Ne);
        (is_equality == equality).then_some(op)
    }

    fn equality(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.relational()?;
        while let Some(op) = self.comparison_op(true) {
            self.at += 1;
            let right = self.relational()?;
            left = Expr::compare(left, op, right);
        }
        Ok(left)
    }

    fn relational(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.unary()?;
        while let Some(op) = self.comparison_op(false) {
            self.at += 1;
            let right = self.unary()?;
            left = Expr::compare(left, op, right);
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, QueryError> {
        if self.is_word("not") && self.peek_at(1) != Some(&Token::Slash) {
            self.at += 1;
            self.descend()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        let mut value = self.primary()?;
        while self.is_word("in") {
            self.at += 1;
            self.expect(&Token::LParen, "'(' opening the list of 'in'")?;
            let list = self.arguments("a value of the list of 'in'")?;
            if list.is_empty() {
                return Err(self.error("at least one value in the list of 'in'"));
            }
            value = Expr::In {
                value: Box::new(value),
                list,
            };
        }
        Ok(value)
    }

    /// Comma-separated expressions up to and including `)` (the `(` already read).
    fn arguments(&mut self, what: &str) -> Result<Vec<Expr>, QueryError> {
        let mut items = Vec::new();
        if self.peek() == Some(&Token::RParen) {
            self.at += 1;
            return Ok(items);
        }
        loop {
            if self.peek().is_none() {
                return Err(self.error(what));
            }
            items.push(self.expr()?);
            match self.next() {
                Some(Token::Comma) => continue,
                Some(Token::RParen) => return Ok(items),
                _ => {
                    self.at -= 1;
                    return Err(self.error("',' or ')'"));
                }
            }
        }
    }

    fn primary(&mut self) -> Result<Expr, QueryError> {
        let position = self.position();
        match self.peek().cloned() {
            Some(Token::LParen) => {
                self.at += 1;
                let inner = self.expr()?;
                self.expect(&Token::RParen, "')' or an operator")?;
                Ok(inner)
            }
            Some(Token::Literal(literal)) => {
                self.at += 1;
                Ok(Expr::Literal(literal))
            }
            Some(Token::Ident(word)) => {
                let next = self.peek_at(1);
                let continues = matches!(next, Some(Token::Slash | Token::LParen));
                let literal = match word.as_str() {
                    "true" => Some(Literal::Boolean(true)),
                    "false" => Some(Literal::Boolean(false)),
                    "null" => Some(Literal::Null),
                    _ => None,
                };
                if let (Some(literal), false) = (literal, continues) {
                    self.at += 1;
                    return Ok(Expr::Literal(literal));
                }
                if next == Some(&Token::LParen) {
                    return self.call(&word, position);
                }
                self.path()
            }
            _ => Err(self.error("an operand: a property path, a literal, a function call or '('")),
        }
    }

    fn call(&mut self, name: &str, position: usize) -> Result<Expr, QueryError> {
        let Some(function) = Function::from_name(name) else {
            let known: Vec<&str> = Function::ALL.iter().map(|f| f.name()).collect();
            return Err(QueryError::syntax(
                self.option,
                position,
                format!("a known function ({})", known.join(", ")),
                format!("'{name}'"),
            ));
        };
        self.at += 2;
        self.descend()?;
        let args = self.arguments("an argument")?;
        self.depth -= 1;
        let (min, max) = function.arity();
        if args.len() < min || args.len() > max {
            let expected = if min == max {
                format!("{min} argument(s) for {name}")
            } else {
                format!("{min} to {max} arguments for {name}")
            };
            return Err(QueryError::syntax(
                self.option,
                position,
                expected,
                format!("{} argument(s)", args.len()),
            ));
        }
        Ok(Expr::Call { function, args })
    }

    /// `A/B/C`, possibly ending in a lambda `…/any(v:…)`.
    fn path(&mut self) -> Result<Expr, QueryError> {
        let mut segments = vec![self.identifier()?];
        while self.peek() == Some(&Token::Slash) {
            self.at += 1;
            let kind = match self.peek() {
                Some(Token::Ident(w)) if w == "any" => Some(LambdaKind::Any),
                Some(Token::Ident(w)) if w == "all" => Some(LambdaKind::All),
                _ => None,
            };
            if let (Some(kind), Some(Token::LParen)) = (kind, self.peek_at(1)) {
                self.at += 2;
                return self.lambda(segments, kind);
            }
            segments.push(self.identifier()?);
        }
        Ok(Expr::Path(segments))
    }

    fn lambda(&mut self, path: Vec<String>, kind: LambdaKind) -> Result<Expr, QueryError> {
        if kind == LambdaKind::Any && self.peek() == Some(&Token::RParen) {
            self.at += 1;
            return Ok(Expr::Lambda {
                path,
                kind,
                body: None,
            });
        }
        let variable = self.identifier()?;
        self.expect(&Token::Colon, "':' after the lambda variable")?;
        self.descend()?;
        let predicate = self.expr()?;
        self.depth -= 1;
        self.expect(&Token::RParen, "')' closing the lambda")?;
        Ok(Expr::Lambda {
            path,
            kind,
            body: Some(LambdaBody {
                variable,
                predicate: Box::new(predicate),
            }),
        })
    }

    fn identifier(&mut self) -> Result<String, QueryError> {
        match self.peek() {
            Some(Token::Ident(name)) => {
                let name = name.clone();
                self.at += 1;
                Ok(name)
            }
            _ => Err(self.error("a property name")),
        }
    }

    /// `$orderby`: `expr [asc|desc]`, comma-separated, at least one.
    pub fn order_items(&mut self) -> Result<Vec<OrderItem>, QueryError> {
        let mut items = Vec::new();
        loop {
            let expr = self.expr()?;
            let descending = if self.is_word("desc") {
                self.at += 1;
                true
            } else {
                if self.is_word("asc") {
                    self.at += 1;
                }
                false
            };
            items.push((expr, descending));
            match self.peek() {
                None => return Ok(items),
                Some(Token::Comma) => self.at += 1,
                Some(_) => return Err(self.error("'asc', 'desc', ',' or the end")),
            }
        }
    }

    /// `$select`: `*` or paths `A/B`, comma-separated, at least one. `None` stands for `*`.
    pub fn select_items(&mut self) -> Result<Vec<Option<Vec<String>>>, QueryError> {
        let mut items = Vec::new();
        loop {
            if self.peek() == Some(&Token::Star) {
                self.at += 1;
                items.push(None);
            } else {
                let mut path = vec![self.identifier()?];
                while self.peek() == Some(&Token::Slash) {
                    self.at += 1;
                    path.push(self.identifier()?);
                }
                items.push(Some(path));
            }
            match self.peek() {
                None => return Ok(items),
                Some(Token::Comma) => self.at += 1,
                Some(_) => return Err(self.error("',' or the end")),
            }
        }
    }
}

/// Reads a whole `$filter` value.
pub(crate) fn parse_expr(option: &str, text: &str) -> Result<Expr, QueryError> {
    let mut parser = Parser::new(option, text)?;
    if parser.peek().is_none() {
        return Err(parser.error("an expression"));
    }
    let expr = parser.expr()?;
    parser.expect_end("an operator (eq ne gt ge lt le in and or) or the end")?;
    Ok(expr)
}
