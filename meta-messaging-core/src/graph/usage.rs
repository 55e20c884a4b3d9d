//! Rate-limit usage headers: `X-App-Usage`, `X-Page-Usage`, `X-Business-Use-Case-Usage`.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::header::HeaderMap;
use serde::{Deserialize, Serialize};

/// The name of the header with the app's usage, in percent of its limit.
pub const APP_USAGE_HEADER: &str = "x-app-usage";
/// The name of the header with the Page's usage, in percent of its limit.
pub const PAGE_USAGE_HEADER: &str = "x-page-usage";
/// The name of the header with Business Use Case usage, per business object id.
pub const BUSINESS_USE_CASE_USAGE_HEADER: &str = "x-business-use-case-usage";

/// Usage of a rate limit in percent (100 means the limit is reached), as `X-App-Usage` and
/// `X-Page-Usage` report it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Usage {
    /// Percent of the allowed number of calls.
    #[serde(default)]
    pub call_count: u32,
    /// Percent of the allowed CPU time.
    #[serde(default)]
    pub total_cputime: u32,
    /// Percent of the allowed total time.
    #[serde(default)]
    pub total_time: u32,
    /// Minutes until calls are allowed again, when Meta says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_time_to_regain_access: Option<u32>,
}

impl Usage {
    /// The highest of the three percentages.
    pub fn max_percent(&self) -> u32 {
        self.call_count.max(self.total_cputime).max(self.total_time)
    }
}

/// One entry of `X-Business-Use-Case-Usage`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BusinessUseCaseUsage {
    /// The use case (`messenger`, `instagram`, `pages`, ...).
    #[serde(rename = "type", default)]
    pub use_case: String,
    /// Percent of the allowed number of calls.
    #[serde(default)]
    pub call_count: u32,
    /// Percent of the allowed CPU time.
    #[serde(default)]
    pub total_cputime: u32,
    /// Percent of the allowed total time.
    #[serde(default)]
    pub total_time: u32,
    /// Minutes until calls are allowed again (0 when not throttled).
    #[serde(default)]
    pub estimated_time_to_regain_access: u32,
}

/// The rate-limit usage Meta reported on one response.
///
/// Each header is optional: Meta sends `X-App-Usage` on most calls, `X-Page-Usage` on calls
/// made with a Page token, and `X-Business-Use-Case-Usage` on Business Use Case APIs such as
/// Messenger and Instagram messaging. A header that does not parse is ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RateLimitUsage {
    /// `X-App-Usage`.
    pub app: Option<Usage>,
    /// `X-Page-Usage`.
    pub page: Option<Usage>,
    /// `X-Business-Use-Case-Usage`, by business object id (a Page or Instagram account id).
    pub business_use_case: BTreeMap<String, Vec<BusinessUseCaseUsage>>,
}

impl RateLimitUsage {
    /// Reads the usage headers of a response.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        fn parse<T: serde::de::DeserializeOwned>(headers: &HeaderMap, name: &str) -> Option<T> {
            let value = headers.get(name)?.to_str().ok()?;
            serde_json::from_str(value).ok()
        }
        Self {
            app: parse(headers, APP_USAGE_HEADER),
            page: parse(headers, PAGE_USAGE_HEADER),
            business_use_case: parse(headers, BUSINESS_USE_CASE_USAGE_HEADER).unwrap_or_default(),
        }
    }

    /// No usage header was present.
    pub fn is_empty(&self) -> bool {
        self.app.is_none() && self.page.is_none() && self.business_use_case.is_empty()
    }

    /// The highest percentage across every header: back off as it nears 100.
    pub fn max_percent(&self) -> Option<u32> {
        let buc = self
            .business_use_case
            .values()
            .flatten()
            .map(|u| u.call_count.max(u.total_cputime).max(u.total_time));
        self.app
            .iter()
            .chain(self.page.iter())
            .map(Usage::max_percent)
            .chain(buc)
            .max()
    }

    /// How long Meta says calls stay blocked, when it says so (the largest figure reported).
    pub fn regain_access_in(&self) -> Option<Duration> {
        let minutes = self
            .business_use_case
            .values()
            .flatten()
            .map(|u| u.estimated_time_to_regain_access)
            .chain(
                self.app
                    .iter()
                    .chain(self.page.iter())
                    .filter_map(|u| u.estimated_time_to_regain_access),
            )
            .max()
            .filter(|m| *m > 0)?;
        Some(Duration::from_secs(u64::from(minutes) * 60))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn parses_all_three_headers() {
        let mut headers = HeaderMap::new();
        headers.insert(
            APP_USAGE_HEADER,
            HeaderValue::from_static(r#"{"call_count":28,"total_time":25,"total_cputime":25}"#),
        );
        headers.insert(
            PAGE_USAGE_HEADER,
            HeaderValue::from_static(r#"{"call_count":91,"total_cputime":10,"total_time":12}"#),
        );
        headers.insert(
            BUSINESS_USE_CASE_USAGE_HEADER,
            HeaderValue::from_static(r#"{"104417552380421":[{"type":"messenger","call_count":100,"total_cputime":3,"total_time":4,"estimated_time_to_regain_access":5}]}"#),
        );
        let usage = RateLimitUsage::from_headers(&headers);
        assert_eq!(usage.app.map(|u| u.call_count), Some(28));
        assert_eq!(usage.page.map(|u| u.max_percent()), Some(91));
        assert_eq!(
            usage.business_use_case["104417552380421"][0].use_case,
            "messenger"
        );
        assert_eq!(usage.max_percent(), Some(100));
        assert_eq!(usage.regain_access_in(), Some(Duration::from_secs(300)));
    }

    #[test]
    fn garbage_headers_are_ignored() {
        let mut headers = HeaderMap::new();
        headers.insert(APP_USAGE_HEADER, HeaderValue::from_static("not json"));
        let usage = RateLimitUsage::from_headers(&headers);
        assert!(usage.is_empty());
        assert_eq!(usage.max_percent(), None);
        assert_eq!(usage.regain_access_in(), None);
    }
}
