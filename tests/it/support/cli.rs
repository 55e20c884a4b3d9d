//! Runs `meta-messaging` commands in-process with captured streams.

use std::io::{Cursor, Write};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use clap::Parser;
use meta_messaging_cli::{Cli, Io};

/// A `Write` whose bytes can be read after the command finished.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

/// What a command printed and how it exited.
pub(crate) struct Outcome {
    pub(crate) code: ExitCode,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Outcome {
    pub(crate) fn succeeded(&self) -> bool {
        self.code == ExitCode::SUCCESS
    }
}

/// Runs `meta-messaging <args>` with `stdin` as standard input.
pub(crate) async fn run(args: &[&str], stdin: &[u8]) -> Outcome {
    let cli = Cli::try_parse_from(std::iter::once("meta-messaging").chain(args.iter().copied()))
        .unwrap_or_else(|err| panic!("arguments {args:?} rejected: {err}"));
    let stdout = Captured::default();
    let stderr = Captured::default();
    let mut io = Io {
        stdin: Box::new(Cursor::new(stdin.to_vec())),
        stdout: Box::new(stdout.clone()),
        stderr: Box::new(stderr.clone()),
    };
    let code = meta_messaging_cli::run(cli, &mut io).await;
    Outcome {
        code,
        stdout: stdout.text(),
        stderr: stderr.text(),
    }
}
