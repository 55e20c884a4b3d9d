//! `docs/troubleshooting.md` is generated from the troubleshooting catalog, and kept in step with it.

use std::fmt::Write as _;

use meta_messaging_core::graph::catalog::{CATALOG, Troubleshooting};

#[test]
fn troubleshooting_doc_is_generated_from_the_catalog() {
    let file = format!("{}/../docs/troubleshooting.md", env!("CARGO_MANIFEST_DIR"));
    let expected = render_markdown();
    if std::env::var_os("UPDATE_TROUBLESHOOTING").is_some() {
        std::fs::write(&file, &expected).unwrap();
    }
    let actual = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        actual == expected,
        "docs/troubleshooting.md is out of date: run UPDATE_TROUBLESHOOTING=1 cargo test -p meta-messaging-tests --test it troubleshooting"
    );
}

/// The catalog as Markdown: the content of `docs/troubleshooting.md`.
fn render_markdown() -> String {
    let mut out = String::from(
        "<!-- Generated from meta_messaging_core::graph::catalog; do not edit by hand.\n     \
         Regenerate with: UPDATE_TROUBLESHOOTING=1 cargo test -p meta-messaging-tests --test it troubleshooting -->\n\
         # Troubleshooting Graph API errors\n\n\
         Every error Meta returns carries a numeric `code` and often an `error_subcode`. meta-messaging \
         classifies errors by those numbers into an `ErrorKind` and attaches the entry below, so \
         `GraphError`'s message ends with the fix. Errors with a code not listed here fall back to the \
         entry of their code, then to a generic fix for their kind. Meta gives a missing or wrong \
         `appsecret_proof` no subcode of its own, so that entry is matched by the parameter its \
         message names.\n\n\
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
            "\n## {}\n\n- **Code**: {}{}{}\n- **Kind**: `{}`\n- **Cause**: {}\n- **Fix**: {}\n- **Docs**: <{}>\n",
            heading(e),
            e.code,
            e.subcode
                .map(|s| format!(", subcode {s}"))
                .unwrap_or_default(),
            e.parameter
                .map(|p| format!(", with a message naming `{p}`"))
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
