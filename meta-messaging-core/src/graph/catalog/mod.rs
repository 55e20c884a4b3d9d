//! The troubleshooting catalog: for each Meta error code (and subcode) that matters, what it
//! means, why it happens and what to do. `docs/troubleshooting.md` is generated from it (by the
//! workspace's tests, which also check that it is up to date).

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
    /// The parameter Meta's message names, for an error Meta gives no subcode of its own
    /// (`appsecret_proof` under code 100); `None` for entries matched by numbers alone.
    pub parameter: Option<&'static str>,
}

/// Every entry, ordered by code then subcode.
pub static CATALOG: &[Troubleshooting] = entries::ENTRIES;

/// The entry for a code and subcode: the exact subcode first, then the code's own entry.
/// Entries matched by a [`parameter`](Troubleshooting::parameter) need the message: see
/// [`lookup_error`].
pub fn lookup(code: i64, subcode: Option<i64>) -> Option<&'static Troubleshooting> {
    let numeric = || CATALOG.iter().filter(|e| e.parameter.is_none());
    let exact =
        subcode.and_then(|sub| numeric().find(|e| e.code == code && e.subcode == Some(sub)));
    exact.or_else(|| numeric().find(|e| e.code == code && e.subcode.is_none()))
}

/// The entry for an error Meta answered: an entry for its code and subcode whose parameter
/// Meta's `message` names (a missing or wrong `appsecret_proof` is code 100 with no subcode),
/// else [`lookup`].
pub fn lookup_error(
    code: i64,
    subcode: Option<i64>,
    message: &str,
) -> Option<&'static Troubleshooting> {
    CATALOG
        .iter()
        .find(|e| {
            e.code == code
                && e.subcode == subcode
                && e.parameter.is_some_and(|p| names_parameter(message, p))
        })
        .or_else(|| lookup(code, subcode))
}

/// Whether `message` names `parameter` as a whole word (`appsecret_proof`, not
/// `appsecret_proofs`).
fn names_parameter(message: &str, parameter: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    message.match_indices(parameter).any(|(at, _)| {
        let before = message[..at].chars().next_back();
        let after = message[at + parameter.len()..].chars().next();
        !before.is_some_and(word) && !after.is_some_and(word)
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn catalog_is_sorted_unique_and_large_enough() {
        assert!(CATALOG.len() >= 25, "{} entries", CATALOG.len());
        for pair in CATALOG.windows(2) {
            let key =
                |e: &Troubleshooting| (e.code, e.subcode.unwrap_or(-1), e.parameter.is_some());
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
    fn an_entry_with_a_parameter_needs_the_message_to_name_it() {
        let missing = "API calls from the server require an appsecret_proof argument";
        let invalid = "Invalid appsecret_proof provided in the API argument";
        for message in [missing, invalid] {
            assert_eq!(
                lookup_error(100, None, message).map(|e| e.kind),
                Some(ErrorKind::AppSecretProofInvalid),
                "{message}"
            );
        }
        let other = "(#100) Param appsecret_proofs must be a string";
        assert_eq!(
            lookup_error(100, None, other).map(|e| e.kind),
            Some(ErrorKind::ParameterInvalid)
        );
        assert_eq!(
            lookup(100, None).map(|e| e.kind),
            Some(ErrorKind::ParameterInvalid),
            "numbers alone never pick the parameter's entry"
        );
        assert_eq!(
            lookup_error(100, Some(33), invalid).map(|e| e.kind),
            Some(ErrorKind::ObjectNotFound),
            "a subcode of its own wins"
        );
    }

    #[test]
    fn catalog_kinds_agree_with_code_classification() {
        for e in CATALOG.iter().filter(|e| e.parameter.is_none()) {
            assert_eq!(
                super::super::kind::classify_by_code(e.code, e.subcode),
                e.kind,
                "{}",
                e.title
            );
        }
    }
}
