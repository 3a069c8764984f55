//! Structural proof that no vector match of a pack can fail at evaluation time.
//!
//! Prometheus rejects a whole expression when the "one" side of a `group_left`/`group_right`
//! (or either side of a one-to-one match) holds two series with the same matching labels.
//! Two exporter replicas that disagree for a moment produce exactly that, so every such side
//! must be unique on its matching labels by construction, not by luck of the data.
//!
//! The proof is a small abstract interpretation: for every sub-expression it computes a set
//! of labels the result is known to be unique on (`None` when nothing is known) and, when
//! known, the exact set of labels its series carry. Recorded series take the shape of the
//! rules that record them, so a proof goes through the recording rules of every pack.

use std::collections::{BTreeMap, BTreeSet};

use promql_parser::parser::{
    value::ValueType, AggregateExpr, BinaryExpr, Expr, LabelModifier, VectorMatchCardinality,
};

use crate::contract::Violation;
use crate::pack::{Rule, RuleKind};
use crate::promql;

type Labels = BTreeSet<String>;

/// What is known about the series an expression returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// A scalar (or a string): it joins nothing.
    Scalar,
    /// A vector: `unique` is a label set no two result series agree on; `exact` is the full
    /// label set (without `__name__`) of every result series.
    Vector {
        unique: Option<Labels>,
        exact: Option<Labels>,
    },
}

impl Shape {
    fn unknown() -> Self {
        Shape::Vector {
            unique: None,
            exact: None,
        }
    }

    fn vector(unique: Option<Labels>, exact: Option<Labels>) -> Self {
        Shape::Vector { unique, exact }
    }

    /// The labels the series are unique on, if known.
    pub fn unique(&self) -> Option<&Labels> {
        match self {
            Shape::Vector { unique, .. } => unique.as_ref(),
            Shape::Scalar => None,
        }
    }

    fn exact(&self) -> Option<&Labels> {
        match self {
            Shape::Vector { exact, .. } => exact.as_ref(),
            Shape::Scalar => None,
        }
    }
}

fn set(labels: &[String]) -> Labels {
    labels.iter().cloned().collect()
}

/// Shapes of recorded series, computed on demand from the rules that record them.
pub struct Prover<'a> {
    records: BTreeMap<&'a str, Vec<&'a Rule>>,
    memo: BTreeMap<String, Shape>,
    visiting: BTreeSet<String>,
}

impl<'a> Prover<'a> {
    pub fn new(rules: &'a [Rule]) -> Self {
        let mut records: BTreeMap<&str, Vec<&Rule>> = BTreeMap::new();
        for r in rules.iter().filter(|r| r.kind == RuleKind::Record) {
            records.entry(r.name.as_str()).or_default().push(r);
        }
        Prover {
            records,
            memo: BTreeMap::new(),
            visiting: BTreeSet::new(),
        }
    }

    /// Shape of the series named `name`: the recording rules' shapes combined, or unknown for
    /// a scraped series (two replicas, two targets: anything can be duplicated).
    pub fn recorded(&mut self, name: &str) -> Shape {
        if let Some(s) = self.memo.get(name) {
            return s.clone();
        }
        let Some(rules) = self.records.get(name).cloned() else {
            return Shape::unknown();
        };
        if !self.visiting.insert(name.to_string()) {
            return Shape::unknown();
        }
        let mut uniques = Vec::new();
        let mut exacts = Vec::new();
        for r in &rules {
            let parsed = promql::parse(&r.expr);
            let shape = parsed.map_or_else(|_| Shape::unknown(), |e| self.shape(&e));
            let statics: Labels = r.labels.keys().cloned().collect();
            // A static label overwrites whatever the expression produced under that name.
            let unique = shape.unique().filter(|u| u.is_disjoint(&statics)).cloned();
            uniques.push(unique);
            exacts.push(
                shape
                    .exact()
                    .map(|e| e.union(&statics).cloned().collect::<Labels>()),
            );
        }
        // Several rules recording one name are unique together only when every pair differs
        // in a static label value (e.g. `severity: warning` / `severity: critical`).
        let distinct = rules.iter().enumerate().all(|(i, a)| {
            rules[i + 1..].iter().all(|b| {
                a.labels
                    .iter()
                    .any(|(k, v)| b.labels.get(k).is_some_and(|w| w != v))
            })
        });
        let known = uniques.iter().all(Option::is_some) && (rules.len() == 1 || distinct);
        let unique = known.then(|| {
            let mut u: Labels = uniques.into_iter().flatten().flatten().collect();
            if rules.len() > 1 {
                u.extend(rules.iter().flat_map(|r| r.labels.keys().cloned()));
            }
            u
        });
        let exact = match exacts.first() {
            Some(Some(first)) if exacts.iter().all(|e| e.as_ref() == Some(first)) => {
                Some(first.clone())
            }
            _ => None,
        };
        let shape = Shape::vector(unique, exact);
        self.visiting.remove(name);
        self.memo.insert(name.to_string(), shape.clone());
        shape
    }

    /// Shape of `e`.
    pub fn shape(&mut self, e: &Expr) -> Shape {
        match e {
            Expr::Paren(p) => self.shape(&p.expr),
            Expr::Unary(u) => self.shape(&u.expr),
            Expr::Subquery(s) => self.shape(&s.expr),
            Expr::NumberLiteral(_) | Expr::StringLiteral(_) => Shape::Scalar,
            Expr::VectorSelector(vs) => self.selector(vs),
            Expr::MatrixSelector(ms) => self.selector(&ms.vs),
            Expr::Aggregate(a) => self.aggregate(a),
            Expr::Binary(b) => self.binary(b),
            Expr::Call(c) => {
                if e.value_type() == ValueType::Scalar {
                    return Shape::Scalar;
                }
                let name = c.func.name;
                let inner = c
                    .args
                    .args
                    .iter()
                    .find(|a| matches!(a.value_type(), ValueType::Vector | ValueType::Matrix))
                    .map(|a| self.shape(a));
                match (name, inner) {
                    // One series at most, or one per equality matcher set.
                    ("absent" | "absent_over_time" | "vector" | "time", _) => {
                        Shape::vector(Some(Labels::new()), None)
                    }
                    // The destination label is overwritten: unique only if it took no part.
                    ("label_replace" | "label_join", Some(s)) => {
                        let dst = c.args.args.get(1).and_then(|a| match a.as_ref() {
                            Expr::StringLiteral(s) => Some(s.val.clone()),
                            _ => None,
                        });
                        let unique = s
                            .unique()
                            .filter(|u| dst.as_ref().is_some_and(|d| !u.contains(d)))
                            .cloned();
                        let exact = s
                            .exact()
                            .zip(dst)
                            .map(|(x, d)| x.iter().cloned().chain([d]).collect());
                        Shape::vector(unique, exact)
                    }
                    // Every other function maps each input series to at most one output
                    // series with the same labels.
                    (_, Some(s)) => s,
                    (_, None) => Shape::unknown(),
                }
            }
            Expr::Extension(_) => Shape::unknown(),
        }
    }

    fn selector(&mut self, vs: &promql_parser::parser::VectorSelector) -> Shape {
        let Some(sel) = promql::selectors(&Expr::VectorSelector(vs.clone()))
            .into_iter()
            .next()
        else {
            return Shape::unknown();
        };
        if !sel.name.contains(':') {
            return Shape::unknown();
        }
        // Every selected series has the same value of an equality-matched label, so that
        // label no longer tells two of them apart.
        match self.recorded(&sel.name) {
            Shape::Vector { unique, exact } => {
                let unique = unique.map(|mut u| {
                    for (label, m, _) in &sel.matchers {
                        if *m == promql::Match::Equal {
                            u.remove(label);
                        }
                    }
                    u
                });
                Shape::vector(unique, exact)
            }
            Shape::Scalar => Shape::Scalar,
        }
    }

    fn aggregate(&mut self, a: &AggregateExpr) -> Shape {
        let op = a.op.to_string();
        let inner = self.shape(&a.expr);
        if op == "topk" || op == "bottomk" || op == "limitk" {
            let k_is_one = matches!(
                a.param.as_deref().map(promql::strip_parens),
                Some(Expr::NumberLiteral(n)) if n.val == 1.0
            );
            return match (&a.modifier, k_is_one) {
                (Some(LabelModifier::Include(by)), true) => {
                    Shape::vector(Some(set(&by.labels)), inner.exact().cloned())
                }
                (None, true) => Shape::vector(Some(Labels::new()), inner.exact().cloned()),
                // More than one per group: a subset of the input.
                _ => inner,
            };
        }
        let exact_extra = if op == "count_values" { None } else { Some(()) };
        match &a.modifier {
            Some(LabelModifier::Include(by)) => {
                Shape::vector(Some(set(&by.labels)), exact_extra.map(|_| set(&by.labels)))
            }
            None => Shape::vector(Some(Labels::new()), exact_extra.map(|_| Labels::new())),
            Some(LabelModifier::Exclude(_)) => Shape::unknown(),
        }
    }

    fn binary(&mut self, b: &BinaryExpr) -> Shape {
        let l = self.shape(&b.lhs);
        let r = self.shape(&b.rhs);
        match (&l, &r) {
            (Shape::Scalar, Shape::Scalar) => return Shape::Scalar,
            (Shape::Scalar, v) | (v, Shape::Scalar) => return v.clone(),
            _ => {}
        }
        let matching = b.modifier.as_ref().and_then(|m| m.matching.clone());
        let card = b
            .modifier
            .as_ref()
            .map(|m| m.card.clone())
            .unwrap_or(VectorMatchCardinality::OneToOne);
        if b.op.is_set_operator() {
            let op = b.op.to_string();
            if op == "and" || op == "unless" {
                return l;
            }
            // `a or on(x) b`: a series of b is kept only when no series of a shares its `x`.
            let on = match &matching {
                Some(LabelModifier::Include(x)) => Some(set(&x.labels)),
                None => match (l.exact(), r.exact()) {
                    (Some(a), Some(b)) if a == b => Some(a.clone()),
                    _ => None,
                },
                Some(LabelModifier::Exclude(_)) => None,
            };
            let unique = match (l.unique(), r.unique(), on) {
                (Some(a), Some(b), Some(x)) => Some(a.union(b).cloned().chain(x).collect()),
                _ => None,
            };
            let exact = match (l.exact(), r.exact()) {
                (Some(a), Some(b)) if a == b => Some(a.clone()),
                _ => None,
            };
            return Shape::vector(unique, exact);
        }
        let (many, include) = match card {
            VectorMatchCardinality::ManyToOne(include) => (l, include),
            VectorMatchCardinality::OneToMany(include) => (r, include),
            // One-to-one keeps only the `on` labels, or drops the `ignoring` ones.
            _ => {
                return match &matching {
                    Some(LabelModifier::Include(on)) => {
                        Shape::vector(Some(set(&on.labels)), Some(set(&on.labels)))
                    }
                    Some(LabelModifier::Exclude(ign)) => {
                        let ign = set(&ign.labels);
                        Shape::vector(
                            l.unique().filter(|u| u.is_disjoint(&ign)).cloned(),
                            l.exact().map(|e| e.difference(&ign).cloned().collect()),
                        )
                    }
                    None => Shape::vector(l.unique().cloned(), l.exact().cloned()),
                }
            }
        };
        let exact = many
            .exact()
            .map(|e| e.union(&set(&include.labels)).cloned().collect());
        Shape::vector(many.unique().cloned(), exact)
    }
}

/// Whether `side` is provably unique on the matching labels of `b`.
fn unique_on_matching(p: &mut Prover<'_>, b: &BinaryExpr, side: &Expr) -> Result<(), String> {
    let shape = p.shape(side);
    let Some(unique) = shape.unique() else {
        return Err("nothing makes it unique (use `topk by(…)(1, …)` or an aggregation `by` the matching labels)".into());
    };
    let matching = b.modifier.as_ref().and_then(|m| m.matching.clone());
    let ok = match &matching {
        Some(LabelModifier::Include(on)) => unique.is_subset(&set(&on.labels)),
        Some(LabelModifier::Exclude(ign)) => shape
            .exact()
            .is_some_and(|e| unique.is_subset(&e.difference(&set(&ign.labels)).cloned().collect())),
        None => shape.exact().is_some_and(|e| unique.is_subset(e)),
    };
    ok.then_some(()).ok_or_else(|| {
        let labels: Vec<_> = unique.iter().cloned().collect();
        format!("it is unique only on {{{}}}", labels.join(", "))
    })
}

fn describe_matching(b: &BinaryExpr) -> String {
    match b.modifier.as_ref().and_then(|m| m.matching.as_ref()) {
        Some(LabelModifier::Include(on)) => format!("on({})", on.labels.join(", ")),
        Some(LabelModifier::Exclude(ign)) => format!("ignoring({})", ign.labels.join(", ")),
        None => "all labels".into(),
    }
}

fn walk_binaries<'e>(e: &'e Expr, out: &mut Vec<&'e BinaryExpr>) {
    if let Expr::Binary(b) = e {
        out.push(b);
    }
    for child in promql::children(e) {
        walk_binaries(child, out);
    }
}

/// Every vector match of `rules` whose one side (both sides for one-to-one) is not provably
/// unique on its matching labels, named by rule.
pub fn check_joins(rules: &[Rule]) -> Vec<Violation> {
    let mut prover = Prover::new(rules);
    let mut out = Vec::new();
    for rule in rules {
        let Ok(expr) = promql::parse(&rule.expr) else {
            continue;
        };
        let mut bins = Vec::new();
        walk_binaries(&expr, &mut bins);
        for b in bins {
            if b.op.is_set_operator() {
                continue;
            }
            let (l, r) = (prover.shape(&b.lhs), prover.shape(&b.rhs));
            if l == Shape::Scalar || r == Shape::Scalar {
                continue;
            }
            let card = b.modifier.as_ref().map(|m| m.card.clone());
            let sides: Vec<(&str, &Expr)> = match card {
                Some(VectorMatchCardinality::ManyToOne(_)) => vec![("right (group_left)", &b.rhs)],
                Some(VectorMatchCardinality::OneToMany(_)) => vec![("left (group_right)", &b.lhs)],
                _ => vec![
                    ("left (one-to-one)", &b.lhs),
                    ("right (one-to-one)", &b.rhs),
                ],
            };
            for (what, side) in sides {
                if let Err(why) = unique_on_matching(&mut prover, b, side) {
                    out.push(Violation {
                        pack: rule.pack.clone(),
                        rule: rule.name.clone(),
                        message: format!(
                            "the {what} side of `{}` matching on {} is not provably unique: {why}",
                            b.op,
                            describe_matching(b)
                        ),
                    });
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}
