//! The store's SQL layer, one API over two drivers: SQL text with `$N` placeholders, values
//! bound in order, rows read by column name.
//!
//! SQLite runs on `rusqlite`, **in the calling thread**: a transaction holds the one
//! connection's lock and every statement of it runs synchronously where the task runs (a
//! statement takes microseconds; WAL with `synchronous=NORMAL` does not fsync on commit). This
//! replaced sqlx's SQLite driver, which handed every statement to a worker thread and back —
//! two thread switches per statement were most of the CPU an answer cost (issue 12, see
//! docs/benchmarks.md). PostgreSQL stays on sqlx, where every statement is a network round trip
//! anyway.

use std::borrow::Cow;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};

/// A value bound to a statement or read from a row. A NULL keeps its type, which PostgreSQL
/// needs to know.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null(Kind),
    Int(i64),
    Real(f64),
    Text(String),
}

/// The type of a bound NULL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Real,
    Text,
}

/// A Rust value that can be bound to a `$N` placeholder.
pub trait Bind {
    const KIND: Kind;
    fn into_value(self) -> Value;
}

macro_rules! bind_int {
    ($($t:ty),*) => {$(
        impl Bind for $t {
            const KIND: Kind = Kind::Int;
            fn into_value(self) -> Value {
                Value::Int(self as i64)
            }
        }
    )*};
}
bind_int!(i64, i32, u32, u16, u8, usize);

impl Bind for bool {
    const KIND: Kind = Kind::Int;
    fn into_value(self) -> Value {
        Value::Int(self as i64)
    }
}
impl Bind for f64 {
    const KIND: Kind = Kind::Real;
    fn into_value(self) -> Value {
        Value::Real(self)
    }
}
impl Bind for &str {
    const KIND: Kind = Kind::Text;
    fn into_value(self) -> Value {
        Value::Text(self.to_owned())
    }
}
impl Bind for String {
    const KIND: Kind = Kind::Text;
    fn into_value(self) -> Value {
        Value::Text(self)
    }
}
impl Bind for &String {
    const KIND: Kind = Kind::Text;
    fn into_value(self) -> Value {
        Value::Text(self.clone())
    }
}
impl<T: Bind> Bind for Option<T> {
    const KIND: Kind = T::KIND;
    fn into_value(self) -> Value {
        match self {
            Some(v) => v.into_value(),
            None => Value::Null(T::KIND),
        }
    }
}

/// A Rust value a column can be read as.
pub trait Decode: Sized {
    fn decode(value: &Value) -> Option<Self>;
    const NAME: &'static str;
}

impl Decode for i64 {
    const NAME: &'static str = "an integer";
    fn decode(value: &Value) -> Option<i64> {
        match value {
            Value::Int(n) => Some(*n),
            _ => None,
        }
    }
}
impl Decode for i32 {
    const NAME: &'static str = "a 32-bit integer";
    fn decode(value: &Value) -> Option<i32> {
        i64::decode(value).and_then(|n| i32::try_from(n).ok())
    }
}
impl Decode for bool {
    const NAME: &'static str = "a flag";
    fn decode(value: &Value) -> Option<bool> {
        i64::decode(value).map(|n| n != 0)
    }
}
impl Decode for f64 {
    const NAME: &'static str = "a number";
    fn decode(value: &Value) -> Option<f64> {
        match value {
            Value::Real(x) => Some(*x),
            Value::Int(n) => Some(*n as f64),
            _ => None,
        }
    }
}
impl Decode for String {
    const NAME: &'static str = "text";
    fn decode(value: &Value) -> Option<String> {
        match value {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
}
impl<T: Decode> Decode for Option<T> {
    const NAME: &'static str = T::NAME;
    fn decode(value: &Value) -> Option<Option<T>> {
        match value {
            Value::Null(_) => Some(None),
            other => T::decode(other).map(Some),
        }
    }
}

/// One row of a result, its columns named.
#[derive(Debug, Clone)]
pub struct Row {
    names: Arc<[String]>,
    values: Vec<Value>,
}

impl Row {
    /// Column `name`, as `T`; a missing column or a value of another type is an error naming it.
    pub fn get<T: Decode>(&self, name: &str) -> Result<T> {
        let i = self
            .names
            .iter()
            .position(|n| n == name)
            .with_context(|| format!("no column {name} in the row"))?;
        self.at(i).with_context(|| format!("reading column {name}"))
    }

    /// The `i`-th column (from 0), as `T`.
    pub fn at<T: Decode>(&self, i: usize) -> Result<T> {
        let value = self
            .values
            .get(i)
            .with_context(|| format!("no column {i} in the row"))?;
        T::decode(value).ok_or_else(|| anyhow!("expected {}, found {value:?}", T::NAME))
    }
}

/// What a statement changed.
#[derive(Debug, Clone, Copy)]
pub struct Done {
    rows_affected: u64,
}

impl Done {
    pub fn rows_affected(&self) -> u64 {
        self.rows_affected
    }
}

/// A statement and its bound values.
#[must_use = "a query does nothing until it is executed or fetched"]
pub struct Query {
    sql: Cow<'static, str>,
    args: Vec<Value>,
}

/// A statement with `$1`, `$2`… placeholders.
pub fn query(sql: impl Into<Cow<'static, str>>) -> Query {
    Query {
        sql: sql.into(),
        args: Vec::new(),
    }
}

impl Query {
    /// Binds the next placeholder.
    pub fn bind<T: Bind>(mut self, value: T) -> Query {
        self.args.push(value.into_value());
        self
    }

    pub async fn execute(self, conn: &mut Conn) -> Result<Done> {
        let (_, rows_affected) = self.run(conn, false).await?;
        Ok(Done { rows_affected })
    }

    pub async fn fetch_all(self, conn: &mut Conn) -> Result<Vec<Row>> {
        Ok(self.run(conn, true).await?.0)
    }

    pub async fn fetch_optional(self, conn: &mut Conn) -> Result<Option<Row>> {
        Ok(self.run(conn, true).await?.0.into_iter().next())
    }

    pub async fn fetch_one(self, conn: &mut Conn) -> Result<Row> {
        self.fetch_optional(conn).await?.context("the query returned no row")
    }

    async fn run(self, conn: &mut Conn, rows: bool) -> Result<(Vec<Row>, u64)> {
        match &mut conn.inner {
            Inner::Sqlite(guard) => match guard.as_ref() {
                Some(c) => sqlite_run(c, &self.sql, &self.args),
                None => bail!("the store is closed"),
            },
            Inner::Postgres(tx) => postgres_run(tx, self, rows).await,
            Inner::Finished => bail!("the transaction has ended"),
        }
    }
}

/// The connection a transaction runs on: the SQLite connection, locked for it, or a
/// PostgreSQL transaction.
pub struct Conn {
    pub(super) inner: Inner,
    /// Messages were queued: the delivery workers are woken when this commits.
    pub(super) queued: bool,
}

impl Conn {
    pub(super) fn new(inner: Inner) -> Conn {
        Conn { inner, queued: false }
    }

    /// Notes that this transaction queued messages (or made waiting ones due).
    pub fn queued_messages(&mut self) {
        self.queued = true;
    }
}

pub(super) enum Inner {
    Sqlite(tokio::sync::OwnedMutexGuard<Option<rusqlite::Connection>>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
    Finished,
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null(_) => ValueRef::Null,
            Value::Int(n) => ValueRef::Integer(*n),
            Value::Real(x) => ValueRef::Real(*x),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
        }))
    }
}

/// Runs one statement on SQLite in this thread; `$N` placeholders are bound by name, so a
/// statement may use them in any order and more than once.
pub(super) fn sqlite_run(conn: &rusqlite::Connection, sql: &str, args: &[Value]) -> Result<(Vec<Row>, u64)> {
    use rusqlite::types::ValueRef;
    let mut stmt = conn
        .prepare_cached(sql)
        .with_context(|| format!("preparing `{}`", short(sql)))?;
    for (i, value) in args.iter().enumerate() {
        let name = PLACEHOLDERS
            .get(i)
            .map_or_else(|| Cow::Owned(format!("${}", i + 1)), |p| Cow::Borrowed(*p));
        if let Some(index) = stmt.parameter_index(&name)? {
            stmt.raw_bind_parameter(index, value)?;
        }
    }
    let width = stmt.column_count();
    let names: Arc<[String]> = stmt.column_names().iter().map(|n| (*n).to_owned()).collect();
    let mut out = Vec::new();
    let mut rows = stmt.raw_query();
    while let Some(row) = rows.next()? {
        let mut values = Vec::with_capacity(width);
        for i in 0..width {
            values.push(match row.get_ref(i)? {
                ValueRef::Null => Value::Null(Kind::Text),
                ValueRef::Integer(n) => Value::Int(n),
                ValueRef::Real(x) => Value::Real(x),
                ValueRef::Text(t) | ValueRef::Blob(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
            });
        }
        out.push(Row {
            names: names.clone(),
            values,
        });
    }
    drop(rows);
    Ok((out, conn.changes()))
}

const PLACEHOLDERS: [&str; 16] = [
    "$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9", "$10", "$11", "$12", "$13", "$14", "$15", "$16",
];

fn short(sql: &str) -> &str {
    let end = sql.char_indices().nth(80).map_or(sql.len(), |(i, _)| i);
    &sql[..end]
}

async fn postgres_run(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    query: Query,
    want_rows: bool,
) -> Result<(Vec<Row>, u64)> {
    use sqlx::{Column, Row as _, TypeInfo};
    let mut q = sqlx::query(sqlx::AssertSqlSafe(query.sql.into_owned()));
    for value in query.args {
        q = match value {
            Value::Null(Kind::Int) => q.bind(None::<i64>),
            Value::Null(Kind::Real) => q.bind(None::<f64>),
            Value::Null(Kind::Text) => q.bind(None::<String>),
            Value::Int(n) => q.bind(n),
            Value::Real(x) => q.bind(x),
            Value::Text(s) => q.bind(s),
        };
    }
    if !want_rows {
        return Ok((Vec::new(), q.execute(&mut **tx).await?.rows_affected()));
    }
    let fetched = q.fetch_all(&mut **tx).await?;
    let affected = fetched.len() as u64;
    let mut rows = Vec::with_capacity(fetched.len());
    let mut names: Option<Arc<[String]>> = None;
    for row in fetched {
        let names = names
            .get_or_insert_with(|| row.columns().iter().map(|c| c.name().to_owned()).collect())
            .clone();
        let mut values = Vec::with_capacity(names.len());
        for (i, column) in row.columns().iter().enumerate() {
            let value = match column.type_info().name() {
                "INT8" => row.try_get::<Option<i64>, _>(i)?.map(Value::Int),
                "INT4" => row.try_get::<Option<i32>, _>(i)?.map(|n| Value::Int(n.into())),
                "INT2" => row.try_get::<Option<i16>, _>(i)?.map(|n| Value::Int(n.into())),
                "BOOL" => row.try_get::<Option<bool>, _>(i)?.map(|b| Value::Int(b.into())),
                "FLOAT8" => row.try_get::<Option<f64>, _>(i)?.map(Value::Real),
                "FLOAT4" => row.try_get::<Option<f32>, _>(i)?.map(|x| Value::Real(x.into())),
                "TEXT" | "VARCHAR" | "NAME" | "BPCHAR" => row.try_get::<Option<String>, _>(i)?.map(Value::Text),
                other => bail!(
                    "column {} has type {other}, which the store does not read",
                    column.name()
                ),
            };
            values.push(value.unwrap_or(Value::Null(Kind::Text)));
        }
        rows.push(Row { names, values });
    }
    Ok((rows, affected))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory() -> rusqlite::Connection {
        rusqlite::Connection::open_in_memory().unwrap()
    }

    #[test]
    fn placeholders_bind_by_number_in_any_order_and_repeated() {
        let c = memory();
        let args = [Value::Int(1), Value::Text("b".into()), Value::Int(3)];
        let (rows, _) = sqlite_run(&c, "SELECT $3 AS c, $2 AS b, $1 AS a, $1 + $3 AS sum", &args).unwrap();
        assert_eq!(rows[0].get::<i64>("c").unwrap(), 3);
        assert_eq!(rows[0].get::<String>("b").unwrap(), "b");
        assert_eq!(rows[0].get::<i64>("a").unwrap(), 1);
        assert_eq!(rows[0].get::<i64>("sum").unwrap(), 4);
    }

    #[test]
    fn nulls_and_wrong_types_read_as_the_caller_says() {
        let c = memory();
        let (rows, _) = sqlite_run(&c, "SELECT NULL AS n, 'x' AS t", &[]).unwrap();
        assert_eq!(rows[0].get::<Option<i64>>("n").unwrap(), None);
        assert!(rows[0].get::<i64>("n").is_err());
        let err = rows[0].get::<i64>("t").unwrap_err();
        assert!(format!("{err:#}").contains("column t"), "{err:#}");
        assert!(rows[0].get::<String>("nope").is_err());
    }

    #[test]
    fn changes_are_counted() {
        let c = memory();
        sqlite_run(&c, "CREATE TABLE t (x INTEGER)", &[]).unwrap();
        let (_, n) = sqlite_run(&c, "INSERT INTO t VALUES (1), (2), (3)", &[]).unwrap();
        assert_eq!(n, 3);
        let (_, n) = sqlite_run(&c, "UPDATE t SET x = x + 1 WHERE x >= $1", &[Value::Int(2)]).unwrap();
        assert_eq!(n, 2);
    }
}
