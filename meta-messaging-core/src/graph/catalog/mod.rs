//! The troubleshooting catalog: for each Meta error code (and subcode) that matters, what it
//! means, why it happens and what to do. `docs/troubleshooting.md` is generated from it.

use std::fmt::Write as _;

use serde::Serialize;

use super::kind::ErrorKind;

mod entries;

/// One troubleshooting entry: a Meta error code (and optional subcode) with its cause and fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Troubleshooting {
    /// Meta's `code`.
    pub code: i64,
    /// Meta's `error_subcode`; `None` for the entry that covers the whole code.
    pub subcode: Option<i64>,
    /// The kind errors with this code are classified as.
    pub kind: ErrorKind,
    /// A short title.
    pub title: &'static str,
    /// Why Meta answers this.
    pub cause: &'static str,
    /// What to do about it, in one line.
    pub fix: &'static str,
    /// Meta's documentation on it.
    pub docs: &'static str,
}

/// Every entry, ordered by code then subcode.
pub static CATALOG: &[Troubleshooting] = entries::ENTRIES;

/// The entry for a code and subcode: the exact subcode first, then the code's own entry.
pub fn lookup(code: i64, subcode: Option<i64>) -> Option<&'static Troubleshooting> {
    let exact = subcode.and_then(|sub| {
        CATALOG
            .iter()
            .find(|e| e.code == code && e.subcode == Some(sub))
    });
    exact.or_else(|| {
        CATALOG
            .iter()
            .find(|e| e.code == code && e.subcode.is_none())
    })
}

/// Renders the catalog as Markdown: the content of `docs/troubleshooting.md`.
pub fn render_markdown() -> String {
    let mut out = String::from(
        "<!-- Generated from meta_messaging_core::graph::catalog; do not edit by hand.\n     \
         Regenerate with: UPDATE_TROUBLESHOOTING=1 cargo test -p meta-messaging-tests --test it troubleshooting -->\n\
         # Troubleshooting Graph API errors\n\n\
         Every error Meta returns carries a numeric `code` and often an `error_subcode`. meta-messaging \
         classifies errors by those numbers into an `ErrorKind` and attaches the entry below, so \
         `GraphError`'s message ends with the fix. Errors with a code not listed here fall back to the \
         entry of their code, then to a generic fix for their kind.\n\n\
         | code | subcode | kind | title |\n|---:|---:|---|---|\n",
    );
    for e in CATALOG {
        let sub = e
            .subcode
            .map(|s| s.to_string())
            .unwrap_or_else(|| "-".into());
        let _ = writeln!(
            out,
            "| {} | {} | `{}` | [{}](#{}) |",
            e.code,
            sub,
            e.kind,
            e.title,
            anchor(e)
        );
    }
    for e in CATALOG {
        let _ = write!(
            out,
            "\n## {}\n\n- **Code**: {}{}\n- **Kind**: `{}`\n- **Cause**: {}\n- **Fix**: {}\n- **Docs**: <{}>\n",
            heading(e),
            e.code,
            e.subcode
                .map(|s| format!(", subcode {s}"))
                .unwrap_or_default(),
            e.kind,
            e.cause,
            e.fix,
            e.docs,
        );
    }
    out
}

fn heading(e: &Troubleshooting) -> String {
    match e.subcode {
        Some(sub) => format!("{} / {}: {}", e.code, sub, e.title),
        None => format!("{}: {}", e.code, e.title),
    }
}

/// The anchor GitHub derives from [`heading`]: lowercase, spaces to dashes, punctuation dropped.
fn anchor(e: &Troubleshooting) -> String {
    heading(e)
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn catalog_is_sorted_unique_and_large_enough() {
        assert!(CATALOG.len() >= 25, "{} entries", CATALOG.len());
        for pair in CATALOG.windows(2) {
            let key = |e: &Troubleshooting| (e.code, e.subcode.unwrap_or(-1));
            assert!(
                key(&pair[0]) < key(&pair[1]),
                "{:?} before {:?}",
                pair[0].title,
                pair[1].title
            );
        }
    }

    #[test]
    fn lookup_falls_back_to_the_code() {
        assert_eq!(
            lookup(190, Some(463)).map(|e| e.kind),
            Some(ErrorKind::TokenExpired)
        );
        assert_eq!(
            lookup(190, Some(999_999)).map(|e| e.kind),
            Some(ErrorKind::TokenInvalid)
        );
        assert!(lookup(424_242, None).is_none());
    }

    #[test]
    fn catalog_kinds_agree_with_code_classification() {
        for e in CATALOG {
            assert_eq!(
                super::super::kind::classify_by_code(e.code, e.subcode),
                e.kind,
                "{}",
                e.title
            );
        }
    }
}
