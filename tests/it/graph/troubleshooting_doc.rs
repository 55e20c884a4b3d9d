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
         classifies each error into an `ErrorKind` and attaches one entry of the table below, so \
         `GraphError`'s message ends with the fix. Meta's numbers alone are not always enough: it \
         sends a message outside the 24-hour window as code 10 with no subcode, a recipient who blocked \
         the Page as permission code 200, most token errors as code 190 with no subcode, and \
         messaging subcodes under unexpected codes. So the table is checked in this order:\n\n\
         1. the entry for exactly this code and subcode;\n\
         2. an entry of this code with a text pattern that Meta's `message`, `type`, \
         `error_user_title` or `error_user_msg` contains (whole words, any case), when the subcode \
         is missing or has no entry of its own;\n\
         3. the entry of a messaging subcode (1000 and above) found under another code;\n\
         4. the entry of the code alone (subcode `-`, no text);\n\
         5. none: a generic fix for the kind the code falls in.\n\n\
         The real error bodies this table is tested against, each with the tracker it was quoted in, \
         are in `tests/fixtures/graph/field/`.\n\n\
         | code | subcode | text contains | kind | title |\n|---:|---:|---|---|---|\n",
    );
    for e in CATALOG {
        let sub = e
            .subcode
            .map(|s| s.to_string())
            .unwrap_or_else(|| "-".into());
        let _ = writeln!(
            out,
            "| {} | {} | {} | `{}` | [{}](#{}) |",
            e.code,
            sub,
            phrases(e),
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
            if e.text.is_empty() {
                String::new()
            } else {
                format!(", with a text containing {}", phrases(e))
            },
            e.kind,
            e.cause,
            e.fix,
            e.docs,
        );
    }
    out
}

/// The entry's text patterns as Markdown code spans, `-` when it has none.
fn phrases(e: &Troubleshooting) -> String {
    if e.text.is_empty() {
        return "-".into();
    }
    e.text
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(" or ")
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
