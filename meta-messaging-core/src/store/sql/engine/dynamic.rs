//! [`DynamicQuery`]: a statement assembled from the filters a list asks for.

use std::fmt::{Display, Write};

use sqlx::error::BoxDynError;
use sqlx::{Arguments, Database, Encode, Type};

use crate::store::query::Order;

/// SQL text and its bound values, built piece by piece like sqlx's `QueryBuilder`, but handing
/// the values over by value ([`into_parts`](Self::into_parts)): a `QueryBuilder` of a generic
/// database stays borrowed until it is dropped, so its query cannot be run and the builder
/// dropped in the same function.
pub(super) struct DynamicQuery<'q, DB: Database> {
    sql: String,
    /// The values so far, or the first that failed to encode.
    args: Result<DB::Arguments<'q>, BoxDynError>,
}

impl<'q, DB: Database> DynamicQuery<'q, DB> {
    pub(super) fn new(sql: impl Into<String>) -> Self {
        Self {
            sql: sql.into(),
            args: Ok(DB::Arguments::default()),
        }
    }

    /// Appends SQL text.
    pub(super) fn push(&mut self, sql: impl Display) -> &mut Self {
        // Writing to a String cannot fail.
        let _ = write!(self.sql, "{sql}");
        self
    }

    /// Appends a placeholder for `value`, in this database's spelling.
    pub(super) fn push_bind<T>(&mut self, value: T) -> &mut Self
    where
        T: 'q + Encode<'q, DB> + Type<DB>,
    {
        if let Ok(args) = &mut self.args {
            match args.add(value) {
                // Writing to a String cannot fail.
                Ok(()) => drop(args.format_placeholder(&mut self.sql)),
                Err(err) => self.args = Err(err),
            }
        }
        self
    }

    /// The SQL text and the values, for `sqlx::query_as_with` and its kin; the first value
    /// that did not encode.
    pub(super) fn into_parts(self) -> Result<(String, DB::Arguments<'q>), sqlx::Error> {
        let args = self.args.map_err(sqlx::Error::Encode)?;
        Ok((self.sql, args))
    }
}

/// Appends the keyset condition and the order of a list.
pub(super) fn push_keyset<DB: Database>(
    q: &mut DynamicQuery<'_, DB>,
    key: &str,
    order: Order,
    cursor: Option<(i64, i64)>,
    limit: usize,
) where
    for<'q> i64: Encode<'q, DB> + Type<DB>,
{
    let (cmp, dir) = match order {
        Order::NewestFirst => ("<", "DESC"),
        Order::OldestFirst => (">", "ASC"),
    };
    if let Some((k, id)) = cursor {
        q.push(format_args!(" AND ({key}, id) {cmp} ("))
            .push_bind(k)
            .push(", ")
            .push_bind(id)
            .push(")");
    }
    q.push(format_args!(" ORDER BY {key} {dir}, id {dir} LIMIT "));
    q.push_bind(i64::try_from(limit).unwrap_or(i64::MAX));
}
