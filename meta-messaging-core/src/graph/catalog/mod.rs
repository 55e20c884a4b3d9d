//! The troubleshooting catalog: for each Meta error code (and subcode) that matters, what it
//! means, why it happens and what to do. `docs/troubleshooting.md` is generated from it (by the
//! workspace's tests, which also check that it is up to date).

use serde::Serialize;

use super::kind::ErrorKind;

mod entries;

/// One troubleshooting entry: a Meta error code (and optional subcode, and optional phrases of
/// Meta's text) with its cause and fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Troubleshooting {
    /// Meta's `code`.
    pub code: i64,
    /// Meta's `error_subcode`; `None` for the entries that cover the whole code.
    pub subcode: Option<i64>,
    /// Phrases of Meta's text, any one of which picks this entry (compared without case, as
    /// whole words, with the `message`, `type`, `error_user_title` and `error_user_msg`);
    /// empty for entries matched by numbers alone. Meta gives some errors no subcode of their
    /// own (a message sent outside the window under code 10, a blocked recipient under code
    /// 200, most token errors under code 190): their text is what tells them apart.
    pub text: &'static [&'static str],
    /// The kind errors matching this entry are classified as.
    pub kind: ErrorKind,
    /// A short title.
    pub title: &'static str,
    /// Why Meta answers this.
    pub cause: &'static str,
    /// What to do about it, in one line: the concrete action for this case.
    pub fix: &'static str,
    /// Meta's documentation on it.
    pub docs: &'static str,
}

/// Every entry, ordered by code, then subcode (an entry without one first), then text (the
/// entry without text first): the table `docs/troubleshooting.md` prints.
pub static CATALOG: &[Troubleshooting] = entries::ENTRIES;

/// The entry for a code and subcode alone, without Meta's text: see [`lookup_error`], which
/// an error Meta answered goes through.
pub fn lookup(code: i64, subcode: Option<i64>) -> Option<&'static Troubleshooting> {
    lookup_error(code, subcode, &[])
}

/// The entry for an error Meta answered, checked in this order:
///
/// 1. the entry for exactly this code and subcode (Meta's documented pair wins over its text);
/// 2. an entry of this code whose phrases one of `texts` contains (Meta's `message`, `type`,
///    `error_user_title`, `error_user_msg`), when the subcode is missing or has no entry of its
///    own;
/// 3. the entry of a messaging subcode (1000 and above: numbers Meta gives one meaning across
///    codes) found under another code;
/// 4. the entry of the code alone.
pub fn lookup_error(
    code: i64,
    subcode: Option<i64>,
    texts: &[&str],
) -> Option<&'static Troubleshooting> {
    let numeric = || CATALOG.iter().filter(|e| e.text.is_empty());
    let exact =
        || subcode.and_then(|sub| numeric().find(|e| e.code == code && e.subcode == Some(sub)));
    let by_text = || {
        CATALOG.iter().find(|e| {
            e.code == code
                && e.subcode.is_none()
                && e.text
                    .iter()
                    .any(|phrase| texts.iter().any(|text| contains_phrase(text, phrase)))
        })
    };
    let moved_subcode = || {
        subcode
            .filter(|sub| *sub >= 1000)
            .and_then(|sub| numeric().find(|e| e.subcode == Some(sub)))
    };
    let whole_code = || numeric().find(|e| e.code == code && e.subcode.is_none());
    exact()
        .or_else(by_text)
        .or_else(moved_subcode)
        .or_else(whole_code)
}

/// Whether `text` holds `phrase` as whole words, ignoring case (`appsecret_proof` is not in
/// `appsecret_proofs`).
fn contains_phrase(text: &str, phrase: &str) -> bool {
    let text = text.to_lowercase();
    let phrase = phrase.to_lowercase();
    let word = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(&phrase).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + phrase.len()..].chars().next();
        let edge = |inner: Option<char>, outer: Option<char>| {
            !(inner.is_some_and(word) && outer.is_some_and(word))
        };
        edge(phrase.chars().next(), before) && edge(phrase.chars().next_back(), after)
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
            let key = |e: &Troubleshooting| (e.code, e.subcode.unwrap_or(-1), e.text);
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
                lookup_error(100, None, &[message]).map(|e| e.kind),
                Some(ErrorKind::AppSecretProofInvalid),
                "{message}"
            );
        }
        let other = "(#100) Param appsecret_proofs must be a string";
        assert_eq!(
            lookup_error(100, None, &[other]).map(|e| e.kind),
            Some(ErrorKind::ParameterInvalid)
        );
        assert_eq!(
            lookup(100, None).map(|e| e.kind),
            Some(ErrorKind::ParameterInvalid),
            "numbers alone never pick the parameter's entry"
        );
        assert_eq!(
            lookup_error(100, Some(33), &[invalid]).map(|e| e.kind),
            Some(ErrorKind::ObjectNotFound),
            "a subcode of its own wins"
        );
    }

    #[test]
    fn text_decides_only_when_the_numbers_do_not() {
        let window = "(#10) This message is sent outside of allowed window.";
        assert_eq!(
            lookup_error(10, None, &[window]).map(|e| e.kind),
            Some(ErrorKind::OutsideMessagingWindow)
        );
        assert_eq!(
            lookup_error(10, None, &["(#10) Application does not have permission"]).map(|e| e.kind),
            Some(ErrorKind::PermissionMissing)
        );
        // Meta's documented pair wins over the wording.
        assert_eq!(
            lookup_error(190, Some(460), &["Session has expired"]).map(|e| e.kind),
            Some(ErrorKind::PasswordChanged)
        );
        // The user-facing fields count too.
        assert_eq!(
            lookup_error(
                200,
                None,
                &[
                    "(#200) Permissions error",
                    "This person isn't receiving messages from you right now"
                ]
            )
            .map(|e| e.kind),
            Some(ErrorKind::UserUnavailable)
        );
    }

    #[test]
    fn a_messaging_subcode_under_another_code_keeps_its_meaning() {
        assert_eq!(
            lookup_error(100, Some(2534022), &[]).map(|e| e.kind),
            Some(ErrorKind::OutsideMessagingWindow)
        );
        // Small subcodes mean different things under different codes.
        assert_eq!(
            lookup_error(102, Some(463), &[]).map(|e| e.kind),
            None,
            "no entry for 102: classified by numbers alone"
        );
    }

    #[test]
    fn phrases_match_whole_words_without_case() {
        assert!(contains_phrase(
            "(#100) NO MATCHING USER FOUND",
            "no matching user found"
        ));
        assert!(contains_phrase(
            "Param recipient[id] must be",
            "recipient[id]"
        ));
        assert!(!contains_phrase(
            "Param appsecret_proofs must",
            "appsecret_proof"
        ));
        assert!(!contains_phrase("blogged out", "logged out"));
    }

    #[test]
    fn catalog_kinds_agree_with_code_classification() {
        for e in CATALOG.iter().filter(|e| e.text.is_empty()) {
            assert_eq!(
                super::super::kind::classify_by_code(e.code, e.subcode),
                e.kind,
                "{}",
                e.title
            );
        }
    }
}
