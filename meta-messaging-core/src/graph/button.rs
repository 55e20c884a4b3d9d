//! Buttons: on templates, and as persistent menu items.

use serde::{Deserialize, Serialize};

use super::limit::{Check, Limit};

/// A button on a template, or an item of the persistent menu.
///
/// A tap on a postback button comes back as a `messaging_postbacks` webhook
/// ([`EventDetails::Postback`](crate::webhook::EventDetails::Postback)) with the button's title
/// and payload; a URL button opens the URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Button {
    /// Sends `payload` back to the webhook when tapped.
    Postback {
        /// The label: 20 characters on templates, 30 in the persistent menu.
        title: String,
        /// What the postback webhook carries back (1000 characters).
        payload: String,
    },
    /// Opens a URL.
    WebUrl {
        /// The label: 20 characters on templates, 30 in the persistent menu.
        title: String,
        /// The URL to open.
        url: String,
        /// `compact`, `tall` or `full`: the webview's height.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        webview_height_ratio: Option<String>,
    },
}

impl Button {
    /// A postback button.
    pub fn postback(title: impl Into<String>, payload: impl Into<String>) -> Self {
        Self::Postback {
            title: title.into(),
            payload: payload.into(),
        }
    }

    /// A URL button.
    pub fn web_url(title: impl Into<String>, url: impl Into<String>) -> Self {
        Self::WebUrl {
            title: title.into(),
            url: url.into(),
            webview_height_ratio: None,
        }
    }

    /// The button's label.
    pub fn title(&self) -> &str {
        match self {
            Self::Postback { title, .. } | Self::WebUrl { title, .. } => title,
        }
    }

    /// Checks the title against `title_limit` and a postback's payload.
    pub(crate) fn check(&self, at: &str, title_limit: Limit) -> Check {
        title_limit.check_text(|| format!("{at}.title"), self.title())?;
        if let Self::Postback { payload, .. } = self {
            Limit::PostbackPayload.check_text(|| format!("{at}.payload"), payload)?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn buttons_serialize_as_meta_documents_them() {
        assert_eq!(
            serde_json::to_value(Button::postback(
                "Start Chatting",
                "DEVELOPER_DEFINED_PAYLOAD"
            ))
            .unwrap(),
            json!({"type": "postback", "title": "Start Chatting", "payload": "DEVELOPER_DEFINED_PAYLOAD"})
        );
        assert_eq!(
            serde_json::to_value(Button::web_url("View Website", "https://example.com")).unwrap(),
            json!({"type": "web_url", "title": "View Website", "url": "https://example.com"})
        );
    }

    #[test]
    fn titles_and_payloads_are_checked() {
        let long = Button::postback("a title longer than 20", "P");
        assert!(matches!(
            long.check("buttons[0]", Limit::ButtonTitle),
            Err(crate::graph::InvalidRequest::OutOfLimit { limit: Limit::ButtonTitle, ref at, found: 22 }) if at == "buttons[0].title"
        ));
        assert!(long.check("menu[0]", Limit::MenuItemTitle).is_ok());
        let payload = Button::postback("Go", "x".repeat(1001));
        assert!(matches!(
            payload.check("b", Limit::ButtonTitle),
            Err(crate::graph::InvalidRequest::OutOfLimit {
                limit: Limit::PostbackPayload,
                ..
            })
        ));
    }
}
