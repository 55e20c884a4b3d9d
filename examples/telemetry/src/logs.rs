//! The log lines: text for a terminal, JSON for a log pipeline.

use tracing_subscriber::Layer;
use tracing_subscriber::registry::LookupSpan;

use crate::TelemetryError;

/// The variable that chooses the log format.
pub const LOG_FORMAT_VAR: &str = "LOG_FORMAT";

/// How log lines are written to standard output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LogFormat {
    /// One human-readable line per event (the default).
    #[default]
    Text,
    /// One JSON object per line: `timestamp`, `level`, `target`, the event's fields
    /// (`message` among them) and `span` / `spans` with the fields of the spans it happened
    /// in (the delivery's account and tenant, a Graph call's `fbtrace_id`, ...).
    Json,
}

impl LogFormat {
    /// The format `LOG_FORMAT` names (`text` or `json`, any case; unset: text).
    ///
    /// # Errors
    /// [`TelemetryError::LogFormat`] for any other value.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, TelemetryError> {
        match lookup(LOG_FORMAT_VAR) {
            None => Ok(Self::Text),
            Some(value) => match value.trim().to_ascii_lowercase().as_str() {
                "" | "text" => Ok(Self::Text),
                "json" => Ok(Self::Json),
                _ => Err(TelemetryError::LogFormat(value)),
            },
        }
    }

    pub(crate) fn layer<S>(self) -> Box<dyn Layer<S> + Send + Sync>
    where
        S: tracing::Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
    {
        match self {
            Self::Text => tracing_subscriber::fmt::layer().boxed(),
            Self::Json => tracing_subscriber::fmt::layer()
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(true)
                .boxed(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_is_text_json_or_an_error_naming_the_variable() {
        let with = |value: &'static str| move |_: &str| Some(value.to_owned());
        assert_eq!(LogFormat::from_lookup(|_| None).ok(), Some(LogFormat::Text));
        assert_eq!(
            LogFormat::from_lookup(with("JSON")).ok(),
            Some(LogFormat::Json)
        );
        assert_eq!(
            LogFormat::from_lookup(with("text")).ok(),
            Some(LogFormat::Text)
        );
        let err = LogFormat::from_lookup(with("yaml"))
            .err()
            .map(|e| e.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|e| e.contains("LOG_FORMAT") && e.contains("json")),
            "{err:?}"
        );
    }
}
