//! A small read-only view of a parsed PromQL expression: which series it selects, which
//! aggregations and function calls it makes, and over what.

use promql_parser::label::MatchOp;
use promql_parser::parser::{self, Expr};

/// How a label matcher compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    Equal,
    NotEqual,
    Regex,
    NotRegex,
}

/// A vector or range selector.
#[derive(Debug, Clone)]
pub struct Selector {
    pub name: String,
    pub matchers: Vec<(String, Match, String)>,
}

impl Selector {
    /// The value of an equality matcher on `label`, if any.
    pub fn equal(&self, label: &str) -> Option<&str> {
        self.matchers
            .iter()
            .find(|(l, m, _)| l == label && *m == Match::Equal)
            .map(|(_, _, v)| v.as_str())
    }

    /// The value of a regex matcher on `label`, if any.
    pub fn regex(&self, label: &str) -> Option<&str> {
        self.matchers
            .iter()
            .find(|(l, m, _)| l == label && *m == Match::Regex)
            .map(|(_, _, v)| v.as_str())
    }
}

/// An aggregation and every selector below it.
#[derive(Debug, Clone)]
pub struct Aggregation {
    pub op: String,
    pub selectors: Vec<Selector>,
}

/// A function call on a range selector, e.g. `rate(x[5m])`.
#[derive(Debug, Clone)]
pub struct RangeCall {
    pub func: String,
    pub metric: String,
}

/// What an expression reads and does.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    pub selectors: Vec<Selector>,
    pub aggregations: Vec<Aggregation>,
    pub range_calls: Vec<RangeCall>,
}

/// Parses an expression with the `promql-parser` crate.
pub fn parse(expr: &str) -> Result<Expr, String> {
    parser::parse(expr)
}

/// Removes enclosing parentheses.
pub fn strip_parens(mut e: &Expr) -> &Expr {
    while let Expr::Paren(p) = e {
        e = &p.expr;
    }
    e
}

/// Collects selectors, aggregations and range calls of `expr`.
pub fn analyse(expr: &Expr) -> Analysis {
    let mut a = Analysis::default();
    walk(expr, &mut a);
    a
}

/// Every selector in `expr`.
pub fn selectors(expr: &Expr) -> Vec<Selector> {
    analyse(expr).selectors
}

/// The sub-expressions of `e`, in order (an aggregation's expression before its parameter).
pub fn children(e: &Expr) -> Vec<&Expr> {
    match e {
        Expr::Aggregate(a) => std::iter::once(&*a.expr)
            .chain(a.param.as_deref())
            .collect(),
        Expr::Unary(u) => vec![&u.expr],
        Expr::Binary(b) => vec![&b.lhs, &b.rhs],
        Expr::Paren(p) => vec![&p.expr],
        Expr::Subquery(s) => vec![&s.expr],
        Expr::Call(c) => c.args.args.iter().map(|a| &**a).collect(),
        Expr::VectorSelector(_)
        | Expr::MatrixSelector(_)
        | Expr::NumberLiteral(_)
        | Expr::StringLiteral(_)
        | Expr::Extension(_) => Vec::new(),
    }
}

fn walk(e: &Expr, a: &mut Analysis) {
    match e {
        Expr::Aggregate(agg) => a.aggregations.push(Aggregation {
            op: agg.op.to_string(),
            selectors: selectors(&agg.expr),
        }),
        Expr::VectorSelector(vs) => a.selectors.push(selector(vs)),
        Expr::MatrixSelector(ms) => a.selectors.push(selector(&ms.vs)),
        Expr::Call(call) => {
            for arg in &call.args.args {
                if let Expr::MatrixSelector(ms) = strip_parens(arg) {
                    a.range_calls.push(RangeCall {
                        func: call.func.name.to_string(),
                        metric: selector(&ms.vs).name,
                    });
                }
            }
        }
        _ => {}
    }
    for child in children(e) {
        walk(child, a);
    }
}

fn selector(vs: &promql_parser::parser::VectorSelector) -> Selector {
    let mut name = vs.name.clone().unwrap_or_default();
    let mut matchers = Vec::new();
    for m in &vs.matchers.matchers {
        let kind = match m.op {
            MatchOp::Equal => Match::Equal,
            MatchOp::NotEqual => Match::NotEqual,
            MatchOp::Re(_) => Match::Regex,
            MatchOp::NotRe(_) => Match::NotRegex,
        };
        if m.name == "__name__" && kind == Match::Equal {
            name = m.value.clone();
        } else {
            matchers.push((m.name.clone(), kind, m.value.clone()));
        }
    }
    Selector { name, matchers }
}
