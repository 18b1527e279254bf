//! The statements of the sql workload, from contracts/sql/queries.sql, compiled in: the same
//! texts as every other implementation's, so that no copy can drift. The file is split on its
//! `-- name: NAME` lines; a section's statement is its lines that are not `--` comments, as
//! written (trimmed at both ends).

use std::sync::LazyLock;

/// contracts/sql/queries.sql, as it was when this was built.
pub const FILE: &str = include_str!("../../../../contracts/sql/queries.sql");

/// The kinds of request that touch the database, one statement each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Query {
    /// `GET /accounts/{id}`: $1 the id (int).
    Account,
    /// `GET /accounts?ids=`: $1 the ids (int[]).
    Accounts,
    /// `POST /orders`: $1 the account (int), $2 the amount (bigint); one row (the order's id,
    /// the balance after it), or none when there is no such account.
    Order,
}

impl Query {
    pub const ALL: [Query; 3] = [Query::Account, Query::Accounts, Query::Order];

    /// Its section's name in the file.
    pub const fn name(self) -> &'static str {
        match self {
            Query::Account => "account",
            Query::Accounts => "accounts",
            Query::Order => "order",
        }
    }

    /// Whether it writes: a write that may have reached the database is never run twice.
    pub const fn writes(self) -> bool {
        matches!(self, Query::Order)
    }

    /// Its statement.
    pub fn text(self) -> &'static str {
        TEXTS[self as usize]
    }

    /// `db.operation.name`: what the statement does, by its outermost verb (an order's debit
    /// is a WITH around the INSERT that records it).
    pub const fn operation(self) -> &'static str {
        match self {
            Query::Account | Query::Accounts => "SELECT",
            Query::Order => "INSERT",
        }
    }

    /// `db.collection.name`: the table of that verb.
    pub const fn collection(self) -> &'static str {
        match self {
            Query::Account | Query::Accounts => "accounts",
            Query::Order => "orders",
        }
    }

    /// Its span's name, `OPERATION TABLE`.
    pub const fn span_name(self) -> &'static str {
        match self {
            Query::Account | Query::Accounts => "SELECT accounts",
            Query::Order => "INSERT orders",
        }
    }

    /// A CLIENT span for one run of its statement (disabled when nothing is traced).
    pub fn span(self) -> tracing::Span {
        tracing::info_span!(
            "statement",
            otel.name = self.span_name(),
            otel.kind = "client",
            db.system.name = "postgresql",
            db.operation.name = self.operation(),
            db.collection.name = self.collection(),
            otel.status_code = tracing::field::Empty,
        )
    }
}

static TEXTS: LazyLock<[&'static str; 3]> = LazyLock::new(|| {
    Query::ALL.map(|q| {
        statement(FILE, q.name())
            .unwrap_or_else(|| panic!("contracts/sql/queries.sql has no '-- name: {}'", q.name()))
    })
});

/// The statement of section `name` of `file`, if it has one.
pub fn statement<'f>(file: &'f str, name: &str) -> Option<&'f str> {
    let mut lines = file.lines();
    lines.find(|l| l.strip_prefix("-- name:").map(str::trim) == Some(name))?;
    // The statement's lines are contiguous; the comments around them are skipped, and the
    // text is taken from the file itself (so a statement over several lines stays as written).
    let mut text: Option<(usize, usize)> = None;
    for line in lines {
        if line.starts_with("-- name:") {
            break;
        }
        if line.trim_start().starts_with("--") || line.trim().is_empty() {
            if text.is_some() {
                break;
            }
            continue;
        }
        let start = line.as_ptr() as usize - file.as_ptr() as usize;
        let end = start + line.len();
        text = Some((text.map_or(start, |(s, _)| s), end));
    }
    let (start, end) = text?;
    Some(file[start..end].trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_query_has_its_statement() {
        assert_eq!(
            Query::Account.text(),
            "SELECT balance, name FROM accounts WHERE id = $1;"
        );
        assert!(
            Query::Accounts
                .text()
                .starts_with("SELECT id, balance, name FROM accounts")
        );
        let order = Query::Order.text();
        assert!(
            order.starts_with("WITH debit AS (UPDATE accounts"),
            "{order}"
        );
        assert!(
            order.ends_with("RETURNING id, (SELECT balance FROM debit);"),
            "{order}"
        );
        for q in Query::ALL {
            assert!(!q.text().contains("--"), "{q:?}");
            assert!(FILE.contains(q.text()), "{q:?}");
        }
    }

    #[test]
    fn span_names_are_the_operation_and_its_table() {
        for q in Query::ALL {
            assert_eq!(
                q.span_name(),
                format!("{} {}", q.operation(), q.collection())
            );
            let text = q.text().to_ascii_uppercase();
            let verb = format!("{} ", q.operation());
            assert!(text.contains(&verb), "{q:?}");
            let table = q.collection().to_ascii_uppercase();
            assert!(
                text.contains(&format!("FROM {table} "))
                    || text.contains(&format!("INTO {table} ")),
                "{q:?}"
            );
        }
    }

    #[test]
    fn sections_are_split_on_their_name_lines() {
        let file = "-- header\n\n-- name: a\n-- about a\nSELECT 1\n  FROM x;\n\n-- name: b\nSELECT 2;\n-- name: c\n-- nothing\n";
        assert_eq!(statement(file, "a"), Some("SELECT 1\n  FROM x;"));
        assert_eq!(statement(file, "b"), Some("SELECT 2;"));
        assert_eq!(statement(file, "c"), None);
        assert_eq!(statement(file, "d"), None);
    }
}
