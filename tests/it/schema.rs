//! The SQLite and PostgreSQL migrations build the same schema: the same tables, the same
//! columns (name, loose type, nullability) and the same named CHECK constraints, each allowing
//! the same values, and each state column's CHECK allows exactly the values of its enum in
//! the code.

use std::collections::{BTreeMap, BTreeSet};

use beatbot::store::{Store, query};
use regex::Regex;

use super::harness;

/// A column as both backends can describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Column {
    /// `integer`, `text`, or the backend's own name for anything else.
    ty: String,
    not_null: bool,
}

impl std::fmt::Display for Column {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let null = if self.not_null { "NOT NULL" } else { "NULL" };
        write!(f, "{} {null}", self.ty)
    }
}

#[derive(Debug, Default)]
struct Schema {
    /// table → column → what it is.
    columns: BTreeMap<String, BTreeMap<String, Column>>,
    /// table → CHECK constraint name → the literal values it names (`'open'`, `2`, …).
    checks: BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
    /// table → CHECK constraints without a name (SQLite only: PostgreSQL names every one).
    unnamed_checks: BTreeMap<String, usize>,
}

/// INTEGER and BIGINT are both `integer`; TEXT (and character types) `text`.
fn loose_type(declared: &str) -> String {
    let t = declared.trim().to_lowercase();
    if t.contains("int") {
        "integer".into()
    } else if t.contains("text") || t.contains("char") || t.contains("clob") {
        "text".into()
    } else {
        t
    }
}

/// The string and number literals of a CHECK expression, the same whichever way the backend
/// prints it: SQLite keeps `status IN ('open', 'closed')` as written, PostgreSQL shows
/// `status = ANY (ARRAY['open'::text, 'closed'::text])` and `(0)::bigint`.
fn literals(expr: &str) -> BTreeSet<String> {
    let literal = Regex::new(r"'((?:[^']|'')*)'|\b(\d+)\b").unwrap();
    literal
        .captures_iter(expr)
        .map(|c| match (c.get(1), c.get(2)) {
            (Some(s), _) => format!("'{}'", s.as_str()),
            (_, Some(n)) => n.as_str().to_owned(),
            _ => unreachable!(),
        })
        .collect()
}

/// The text from `open` (just after a `(`) to its matching `)`, quotes respected.
fn parenthesised(sql: &str, open: usize) -> &str {
    let mut depth = 1;
    let mut quoted = false;
    for (i, c) in sql[open..].char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => {
                depth -= 1;
                if depth == 0 {
                    return &sql[open..open + i];
                }
            }
            _ => {}
        }
    }
    &sql[open..]
}

async fn sqlite_schema(store: &Store) -> Schema {
    let mut tx = store.begin().await.expect("begin");
    let columns: Vec<(String, String, String, i64, i64)> = query(
        "SELECT m.name, p.name, p.type, p.\"notnull\", p.pk FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND m.name <> '_sqlx_migrations' \
         ORDER BY m.name, p.cid",
    )
    .fetch_all(&mut tx)
    .await
    .expect("SQLite columns")
    .iter()
    .map(|r| {
        (
            r.at(0).unwrap(),
            r.at(1).unwrap(),
            r.at(2).unwrap(),
            r.at(3).unwrap(),
            r.at(4).unwrap(),
        )
    })
    .collect();
    let tables: Vec<(String, String)> = query(
        "SELECT name, sql FROM sqlite_master \
         WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut tx)
    .await
    .expect("SQLite tables")
    .iter()
    .map(|r| (r.at(0).unwrap(), r.at(1).unwrap()))
    .collect();
    tx.rollback().await.expect("rollback");

    let mut schema = Schema::default();
    for (table, column, ty, not_null, pk) in columns {
        // PostgreSQL makes every primary-key column NOT NULL. SQLite does so for an INTEGER
        // PRIMARY KEY and WITHOUT ROWID keys only; a TEXT PRIMARY KEY of an ordinary table
        // takes NULL (an old SQLite quirk), which this comparison does not count as a difference.
        let column_info = Column {
            ty: loose_type(&ty),
            not_null: not_null != 0 || pk > 0,
        };
        schema.columns.entry(table).or_default().insert(column, column_info);
    }
    let comment = Regex::new(r"--[^\n]*").unwrap();
    let named = Regex::new(r"(?i)\bCONSTRAINT\s+(\w+)\s+CHECK\s*\(").unwrap();
    let any_check = Regex::new(r"(?i)\bCHECK\s*\(").unwrap();
    for (table, sql) in tables {
        let sql = comment.replace_all(&sql, "");
        let mut checks = BTreeMap::new();
        for c in named.captures_iter(&sql) {
            let body = parenthesised(&sql, c.get(0).unwrap().end());
            checks.insert(c[1].to_owned(), literals(body));
        }
        let unnamed = any_check.find_iter(&sql).count() - checks.len();
        if unnamed > 0 {
            schema.unnamed_checks.insert(table.clone(), unnamed);
        }
        schema.checks.insert(table, checks);
    }
    schema
}

async fn postgres_schema(store: &Store) -> Schema {
    let mut tx = store.begin().await.expect("begin");
    // information_schema's own types (sql_identifier, yes_or_no) are cast to text for the store's reader.
    let columns: Vec<(String, String, String, String)> = query(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations' \
         ORDER BY table_name::text, ordinal_position",
    )
    .fetch_all(&mut tx)
    .await
    .expect("PostgreSQL columns")
    .iter()
    .map(|r| (r.at(0).unwrap(), r.at(1).unwrap(), r.at(2).unwrap(), r.at(3).unwrap()))
    .collect();
    let checks: Vec<(String, String, String)> = query(
        "SELECT c.relname::text, k.conname::text, pg_get_constraintdef(k.oid) FROM pg_constraint k \
         JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE k.contype = 'c' AND n.nspname = current_schema() AND c.relname <> '_sqlx_migrations'",
    )
    .fetch_all(&mut tx)
    .await
    .expect("PostgreSQL CHECK constraints")
    .iter()
    .map(|r| (r.at(0).unwrap(), r.at(1).unwrap(), r.at(2).unwrap()))
    .collect();
    tx.rollback().await.expect("rollback");

    let mut schema = Schema::default();
    for (table, column, ty, nullable) in columns {
        let column_info = Column {
            ty: loose_type(&ty),
            not_null: nullable == "NO",
        };
        schema.checks.entry(table.clone()).or_default();
        schema.columns.entry(table).or_default().insert(column, column_info);
    }
    for (table, name, definition) in checks {
        schema
            .checks
            .entry(table)
            .or_default()
            .insert(name, literals(&definition));
    }
    schema
}

fn shown(values: &BTreeSet<String>) -> String {
    values.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// Every difference, one readable line each.
fn differences(sqlite: &Schema, postgres: &Schema) -> Vec<String> {
    let mut out = Vec::new();
    let tables: BTreeSet<&String> = sqlite.columns.keys().chain(postgres.columns.keys()).collect();
    for table in tables {
        let (Some(s_cols), Some(p_cols)) = (sqlite.columns.get(table), postgres.columns.get(table)) else {
            let only = if sqlite.columns.contains_key(table) {
                "SQLite"
            } else {
                "PostgreSQL"
            };
            out.push(format!("table {table}: only on {only}"));
            continue;
        };
        let columns: BTreeSet<&String> = s_cols.keys().chain(p_cols.keys()).collect();
        for column in columns {
            match (s_cols.get(column), p_cols.get(column)) {
                (Some(s), Some(p)) if s != p => {
                    out.push(format!("{table}.{column}: SQLite {s}, PostgreSQL {p}"));
                }
                (Some(_), None) => out.push(format!("{table}.{column}: only on SQLite")),
                (None, Some(_)) => out.push(format!("{table}.{column}: only on PostgreSQL")),
                _ => {}
            }
        }
        if let Some(n) = sqlite.unnamed_checks.get(table) {
            out.push(format!(
                "{table}: {n} CHECK constraint(s) without a name on SQLite (name them <table>_<column>_check, as PostgreSQL does)"
            ));
        }
        let empty = BTreeMap::new();
        let s_checks = sqlite.checks.get(table).unwrap_or(&empty);
        let p_checks = postgres.checks.get(table).unwrap_or(&empty);
        let names: BTreeSet<&String> = s_checks.keys().chain(p_checks.keys()).collect();
        for name in names {
            match (s_checks.get(name), p_checks.get(name)) {
                (Some(s), Some(p)) if s != p => out.push(format!(
                    "{table}: CHECK {name} allows [{}] on SQLite, [{}] on PostgreSQL",
                    shown(s),
                    shown(p)
                )),
                (Some(_), None) => out.push(format!("{table}: CHECK {name} only on SQLite")),
                (None, Some(_)) => out.push(format!("{table}: CHECK {name} only on PostgreSQL")),
                _ => {}
            }
        }
    }
    out
}

#[tokio::test]
async fn sqlite_and_postgres_schemas_match() {
    let (sqlite_store, _dir) = harness::sqlite().await;
    let Some((pg_store, name)) = harness::postgres().await else {
        return;
    };
    let sqlite = sqlite_schema(&sqlite_store).await;
    let postgres = postgres_schema(&pg_store).await;
    harness::drop_postgres(pg_store, &name).await;

    for (backend, schema) in [("SQLite", &sqlite), ("PostgreSQL", &postgres)] {
        assert!(
            schema.columns.get("tickets").is_some_and(|c| c.contains_key("status")),
            "{backend}: no tickets.status column read: {schema:#?}"
        );
        assert!(
            schema
                .checks
                .get("tickets")
                .is_some_and(|c| c.contains_key("tickets_status_check")),
            "{backend}: no CHECK tickets_status_check (is migration 0006 applied?): {:#?}",
            schema.checks
        );
    }
    let diffs: Vec<String> = differences(&sqlite, &postgres)
        .into_iter()
        .chain(checks_against_the_code(&sqlite, "SQLite"))
        .chain(checks_against_the_code(&postgres, "PostgreSQL"))
        .collect();
    assert!(
        diffs.is_empty(),
        "the SQLite and PostgreSQL schemas differ ({} differences):\n  {}",
        diffs.len(),
        diffs.join("\n  ")
    );
}

/// The states the code knows, each the values of one CHECK constraint: the enum's `ALL`,
/// encoded as the store writes it.
fn states_in_the_code() -> Vec<(&'static str, &'static str, BTreeSet<String>)> {
    use beatbot::domain::{AlertStatus, Escalation, ReportKind, ResolveNotice, TicketStatus};
    use beatbot::store::{outbox, questions};
    let texts = |all: Vec<&str>| all.into_iter().map(|t| format!("'{t}'")).collect::<BTreeSet<_>>();
    let levels = |all: Vec<i64>| all.into_iter().map(|n| n.to_string()).collect::<BTreeSet<_>>();
    vec![
        (
            "subscriptions",
            "subscriptions_category_check",
            texts(beatbot::domain::Topic::ALL.iter().map(|t| t.as_str()).collect()),
        ),
        (
            "alerts",
            "alerts_topic_check",
            texts(beatbot::domain::Topic::ALL.iter().map(|t| t.as_str()).collect()),
        ),
        (
            "alerts",
            "alerts_status_check",
            texts(AlertStatus::ALL.iter().map(|s| s.as_str()).collect()),
        ),
        (
            "outbox",
            "outbox_status_check",
            texts(outbox::Status::ALL.iter().map(|s| s.as_str()).collect()),
        ),
        (
            "tickets",
            "tickets_status_check",
            texts(TicketStatus::ALL.iter().map(|s| s.as_str()).collect()),
        ),
        (
            "tickets",
            "tickets_kind_check",
            texts(ReportKind::ALL.iter().map(|k| k.as_str()).collect()),
        ),
        (
            "tickets",
            "tickets_escalation_check",
            levels(Escalation::ALL.iter().map(|e| e.level()).collect()),
        ),
        (
            "tickets",
            "tickets_resolve_notice_check",
            levels(ResolveNotice::ALL.iter().map(|n| n.level()).collect()),
        ),
        (
            "questions",
            "questions_status_check",
            texts(questions::Status::ALL.iter().map(|s| s.as_str()).collect()),
        ),
    ]
}

/// Where a CHECK constraint allows other values than the code's enum has.
fn checks_against_the_code(schema: &Schema, backend: &str) -> Vec<String> {
    states_in_the_code()
        .into_iter()
        .filter_map(|(table, check, code)| {
            let db = schema.checks.get(table).and_then(|c| c.get(check));
            (db != Some(&code)).then(|| {
                format!(
                    "{backend}: {table}.{check} allows [{}], the code's enum has [{}]",
                    db.map(shown).unwrap_or_else(|| "no such constraint".into()),
                    shown(&code)
                )
            })
        })
        .collect()
}
