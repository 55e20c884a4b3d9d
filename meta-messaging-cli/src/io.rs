//! Where a command reads its input and writes its output.

use std::io::{self, Read, Write};

/// The standard streams of a command, replaceable for tests.
pub struct Io {
    /// Read by commands whose input is `-`.
    pub stdin: Box<dyn Read + Send>,
    /// Results.
    pub stdout: Box<dyn Write + Send>,
    /// Errors and diagnostics.
    pub stderr: Box<dyn Write + Send>,
}

impl Io {
    /// The process's own standard streams.
    pub fn std() -> Self {
        Self {
            stdin: Box::new(io::stdin()),
            stdout: Box::new(io::stdout()),
            stderr: Box::new(io::stderr()),
        }
    }

    /// Prints an error and each of its sources, one per line, to stderr.
    pub(crate) fn report_error(&mut self, err: &(dyn std::error::Error + 'static)) {
        // A closed stderr leaves nowhere to report to; the exit code still tells.
        let _ = writeln!(self.stderr, "error: {err}");
        let mut source = err.source();
        while let Some(cause) = source {
            let _ = writeln!(self.stderr, "  caused by: {cause}");
            source = cause.source();
        }
    }
}
