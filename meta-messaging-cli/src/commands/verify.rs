//! `meta-messaging verify`

use std::io::Write;
use std::process::ExitCode;

use meta_messaging_core::webhook::{SignatureDiagnosis, SignatureVerifier};

use super::read_input;
use crate::cli::VerifyArgs;
use crate::error::CliError;
use crate::io::Io;

pub(super) fn run(args: &VerifyArgs, io: &mut Io) -> Result<ExitCode, CliError> {
    let body = read_input(&args.input, io)?;
    let signature = args.signature.as_deref();
    let verifier = SignatureVerifier::new(args.secret.clone());
    match verifier.verify(signature, &body) {
        Ok(()) => {
            writeln!(io.stdout, "valid").map_err(CliError::Write)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            let diagnosis = SignatureDiagnosis::of(signature, args.sha1_header, &body);
            writeln!(io.stdout, "invalid: {error}\ndiagnosis: {diagnosis}")
                .map_err(CliError::Write)?;
            Ok(ExitCode::FAILURE)
        }
    }
}
