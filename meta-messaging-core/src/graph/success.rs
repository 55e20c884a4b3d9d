//! [`Success`]: Meta's `{"success": bool}` answer to a write (thread control, comment
//! moderation, ...).

use serde::Deserialize;

use super::error::{GraphError, Result};

/// Meta's `{"success": bool}` answer to a write.
#[derive(Deserialize)]
pub(super) struct Success {
    success: bool,
}

impl Success {
    /// `Ok` for `true`. Meta reports failures as errors; a bare `false` is kept as what it is,
    /// an answer that did not do what was asked.
    pub(super) fn into_result(self) -> Result<()> {
        if self.success {
            Ok(())
        } else {
            Err(GraphError::Http {
                status: 200,
                body_prefix: r#"{"success":false}"#.to_owned(),
            })
        }
    }
}
