//! `passport-server`: config, tracing, build, run. `healthcheck` asks a
//! running server instead. Config comes first because it says how to log.

use std::process::ExitCode;

use passport_server::cli::{Args, Command};
use passport_server::{Application, Settings, healthcheck, heap, telemetry};

#[actix_web::main]
async fn main() -> ExitCode {
    let args = match Args::parse(std::env::args_os().skip(1)) {
        Ok(args) => args,
        Err(usage) => return fail(usage),
    };
    let settings = match Settings::load(args.config_dir.as_deref()) {
        Ok(settings) => settings,
        Err(e) => return fail(format!("config error: {e}")),
    };
    if args.command == Command::Healthcheck {
        return healthcheck::check(&settings).map_or_else(fail, |()| ExitCode::SUCCESS);
    }
    telemetry::init(&settings.log);
    heap::start_trimming();
    let app = match Application::build(settings).await {
        Ok(app) => app,
        Err(e) => return fail(format!("start-up failed: {e:#}")),
    };
    match app.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(format!("server failed: {e}")),
    }
}

fn fail(message: String) -> ExitCode {
    eprintln!("{message}");
    ExitCode::FAILURE
}
