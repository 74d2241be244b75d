//! `diembao cases …`: case files for the police liaison.

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;

use diembao_core::config::Config;

use crate::Cli;

#[derive(Subcommand)]
pub enum CasesCommand {
    /// Open a case from confirmed candidates; prints the case id on the last line.
    Create {
        #[arg(long)]
        title: String,
        #[arg(long = "candidate", required = true, num_args = 1..)]
        candidates: Vec<i64>,
        #[arg(long)]
        reviewer: String,
    },
}

pub async fn run(_cli: &Cli, _config: Config, command: &CasesCommand) -> Result<ExitCode> {
    match command {
        CasesCommand::Create { .. } => Err(crate::bad_input("cases are not available yet")),
    }
}
