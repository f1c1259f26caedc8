//! `plenary`: parse the command line and run it.

use clap::Parser;

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    plenary::telemetry::init();
    let cli = plenary::cli::Cli::parse();
    match plenary::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
