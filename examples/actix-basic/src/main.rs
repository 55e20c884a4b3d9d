//! The actix-basic binary: see the crate documentation (`src/lib.rs`).

use std::process::ExitCode;

#[actix_web::main]
async fn main() -> ExitCode {
    match actix_basic::run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            let mut source = err.source();
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}
